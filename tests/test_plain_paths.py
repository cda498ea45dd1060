"""The literal fast paths of `potentiel.xlsxstream` (a plain sheet: every row starts
``<row r="``, every cell ``<c r="``) give exactly what the general patterns give, on
sheets of every shape the writer meets: rows with ``spans``, self-closing rows, cells
already in the output columns (a second run), formulas there, rows the patch does not
write, rows it adds, and blanked rectangles."""

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from potentiel import xlsxstream as xs
from potentiel.problems import column_letter


def _cell(col, r, kind):
    ref = f"{column_letter(col)}{r}"
    if kind == 0:
        return f'<c r="{ref}"><v>{col * r}</v></c>'
    if kind == 1:
        return f'<c r="{ref}" s="2"/>'
    if kind == 2:
        return f'<c r="{ref}" t="inlineStr"><is><t>x{r}</t></is></c>'
    if kind == 4:  # a text holding what a row's spans look like
        return f'<c r="{ref}" t="inlineStr"><is><t>a spans="1:9" b</t></is></c>'
    return f'<c r="{ref}"><f>A{r}*2</f><v>{r}</v></c>'


rows_st = st.lists(
    st.tuples(st.integers(1, 3),  # gap to the row before
              st.sets(st.integers(1, 9), max_size=6),  # its cells' columns
              st.integers(0, 3),  # kind of cell
              st.booleans()),  # spans attribute
    max_size=25)


def _sheet(rows):
    out, r = [], 0
    for gap, cols, kind, spans in rows:
        r += gap
        attrs = f' r="{r}"' + (' spans="1:9"' if spans else "")
        if not cols:
            out.append(f"<row{attrs}/>")
        else:
            out.append(f"<row{attrs}>" + "".join(_cell(c, r, kind) for c in sorted(cols))
                       + "</row>")
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    return head + "".join(out).encode() + b"</sheetData></worksheet>"


def _recording(fn, taken):
    """``fn``, recording in ``taken`` whether each call took its path (answered not None)."""
    def spy(*args):
        found = fn(*args)
        taken.append(found is not None)
        return found
    return spy


def _patch(rows, cols, seed):
    rng = np.random.default_rng(seed)
    n = len(rows)
    kinds = [rng.choice([xs.BLANK, xs.VALUE, xs.VALUE], n).astype(np.int8) for _c in cols]
    styles = [rng.choice([-1, 3], n).astype(np.int32) for _c in cols]

    def render(j, i, ref, style):
        return f'<c r="{ref}"' + (f' s="{style}"' if style is not None else "") + \
            f"><v>{j}.{i}</v></c>"

    def render_rows(i0, i1):
        out = []
        for i in range(i0, i1):
            out.append("".join(
                render(j, i, f"{column_letter(c)}{int(rows[i])}",
                       None if styles[j][i] < 0 else int(styles[j][i]))
                for j, c in enumerate(cols) if kinds[j][i] == xs.VALUE))
        return pa.array(out, pa.string())
    return xs.Patch(np.asarray(rows, dtype=np.int64), cols, kinds, styles, render_rows, render)


@settings(max_examples=150, deadline=None)
@given(rows_st, st.sets(st.integers(1, 30), max_size=12), st.integers(5, 9),
       st.integers(0, 2 ** 31), st.booleans(), st.booleans())
def test_plain_paths_write_what_the_general_ones_write(rows, targets, first_col, seed, clear,
                                                      two):
    raw = _sheet(rows)
    split = xs.split(raw)
    assert split is not None and split.plain
    general = dataclasses.replace(split, plain=False)
    assert xs.layout(split.body, split.prefix, True) == xs.layout(general.body, general.prefix)
    cols = [first_col, first_col + 1]
    patches = [_patch(sorted(targets), cols, seed)] if targets else []
    if two and targets:  # a second patch on one of the rows (a header written apart)
        patches.append(_patch([min(targets)], [first_col + 3], seed + 1))
    clears = [xs.Clear(2, 20, first_col, first_col + 2)] if clear else []
    formulas = []

    def written(s):
        return b"".join(xs.patched(s, patches, clears, column_letter,
                                   lambda: formulas.append(1), chunk=64))
    fast, slow = written(split), written(general)
    assert fast == slow
    # a second run over the first one's output: its own cells found again and replaced
    again = xs.split(split.head + fast + split.tail)
    assert again is not None and again.plain
    assert written(again) == written(dataclasses.replace(again, plain=False))


@settings(max_examples=150, deadline=None)
@given(rows_st, st.sets(st.integers(1, 40), max_size=20), st.integers(1, 9),
       st.integers(0, 2 ** 31), st.booleans(), st.booleans())
def test_rows_after_the_last_one_written_a_batch_at_a_time(rows, targets, first_col, seed,
                                                          clear, two):
    """The rows a single patch adds after every row there (a new History or Reading sheet,
    its appended lines) are rendered a batch at a time, not a row at a time: the same
    bytes as row by row, whatever the sheet, the other patches and the blanked cells."""
    split = xs.split(_sheet(rows))
    cols = [first_col, first_col + 1]
    patches = [_patch(sorted(targets), cols, seed)] if targets else []
    if two and targets:  # a second patch on the first row (a header written apart)
        patches.append(_patch([min(targets)], [first_col + 3], seed + 1))
    clears = [xs.Clear(2, 20, first_col, first_col + 2)] if clear else []
    batched = []
    def written(pick):
        xs._alone, xs.BATCH = pick, 3  # batches of 3 rows: their ends are crossed
        try:
            return b"".join(xs.patched(split, patches, clears, column_letter, lambda: None,
                                       chunk=64))
        finally:
            xs._alone, xs.BATCH = real, batch
    real, batch = xs._alone, xs.BATCH
    assert written(_recording(real, batched)) == written(lambda *args: None)
    last = max((sum(g for g, *_rest in rows[:k + 1]) for k in range(len(rows))), default=0)
    if targets and max(targets) > last and not two:
        assert batched and batched[-1]  # the bulk path was taken


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3).map(lambda g: 1 if g < 3 else 2),  # mostly no gap
                          st.sets(st.integers(1, 9), max_size=6), st.integers(0, 4),
                          st.booleans()), max_size=25),
       st.integers(1, 12), st.integers(0, 14), st.integers(5, 9), st.integers(0, 2 ** 31),
       st.booleans(), st.booleans(), st.integers(1, 4))
@example([(1, {1, 2}, 0, True), (1, {1}, 4, True), (1, {2}, 0, True)], 1, 3, 5, 0, False,
         False, 4)  # a text that looks like the rows' spans, among them
@example([(2, {1}, 0, False), (1, {1}, 0, False)], 2, 2, 5, 0, False, True, 1)  # a new row first
@example([(1, {1}, 0, True), (1, {1}, 4, False), (1, {1}, 0, True)], 1, 3, 5, 0, False, False,
         4)  # a row without spans, its text looking like the others' spans
def test_rows_written_a_batch_at_a_time(rows, start, count, first_col, seed, clear, two,
                                        batch):
    """The account rows a patch writes, one after the other, are written a batch at a
    time (`_bulk_rows`: no Python step per row): the same bytes as row by row, whatever
    stands there (rows missing or ``<row/>``, cells at or after the first column written,
    spans, a text that looks like spans), batches of any size, and over a first run's
    output."""
    split = xs.split(_sheet(rows))
    cols = [first_col, first_col + 1]
    targets = list(range(start, start + count))
    patches = [_patch(targets, cols, seed)] if targets else []
    if two and targets:  # a header written apart
        patches.append(_patch([max(start - 1, 1)], [first_col + 3], seed + 1))
        patches.sort(key=lambda p: int(p.rows[0]))
        if int(patches[0].rows[0]) == int(patches[1].rows[0]):
            patches.pop()
    clears = [xs.Clear(2, 20, first_col, first_col + 2)] if clear else []
    taken = []
    def written(s, use):
        xs._bulk_rows, xs.BATCH = _recording(real, taken), batch
        span = xs._bulk_span
        if not use:
            xs._bulk_span = lambda *args: None
        try:
            return b"".join(xs.patched(s, patches, clears, column_letter, lambda: None,
                                       chunk=64))
        finally:
            xs._bulk_rows, xs.BATCH, xs._bulk_span = real, saved, span
    real, saved = xs._bulk_rows, xs.BATCH
    bulk = written(split, True)
    assert bulk == written(split, False)
    again = xs.split(split.head + bulk + split.tail)
    assert written(again, True) == written(again, False)
    present = {sum(g for g, *_r in rows[:k + 1]): (cells, kind) for k, (_g, cells, kind, _s)
               in enumerate(rows)}
    plain_rows = all(r in present and present[r][0] and max(present[r][0]) < first_col
                     and present[r][1] != 4 for r in targets)
    if targets and plain_rows and not clear and (count > 1 or not two):
        # rows as Excel writes them (the patch writing the most rows): a batch at a time
        assert taken and taken[0]


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10 ** 8), st.integers(0, 10 ** 9))
def test_after_matches_exactly_the_numbers_above(n, m):
    import re
    pattern = re.compile(xs._after(n) + b"$")
    for k in (m, n, n + 1, max(n - 1, 0), n * 10, n // 10):
        assert (pattern.match(str(k).encode()) is not None) == (k > n), (n, k)


@given(st.sampled_from(['<c r="A1"><v>1</v></c>', '<c r="A1" s="1"/>', '<c s="1" r="A1"/>',
                        '<c t="s" r="A1"><v>0</v></c>', "<c><v>1</v></c>", "<c/>"]),
       st.booleans())
def test_plain_means_every_cell_starts_with_its_reference(second, spans):
    row = '<row r="1"' + (' spans="1:2"' if spans else "") + '><c r="B1"><v>2</v></c>' + \
        second.replace("A1", "C1") + "</row>"
    raw = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<sheetData>" + row.encode() + b"</sheetData></worksheet>")
    split = xs.split(raw)
    expected = second.startswith('<c r="')
    if split is not None:
        assert split.plain == expected
    else:
        assert not expected  # a cell without r: kept out of the byte paths altogether


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.sets(st.integers(1, 40), max_size=5)),
                min_size=1, max_size=15),
       st.integers(1, 400), st.one_of(st.none(), st.integers(0, 30)))
def test_one_search_says_what_the_two_said(rows, cells, stray):
    """`split` with ``cells``: the same sheets refused (a cell naming a row below the
    last), and `Split.within` what `cell_beyond` says of column cells // last row."""
    out, r = [], 0
    for gap, cols in rows:
        r += gap
        out.append(f'<row r="{r}">' + "".join(
            f'<c r="{column_letter(c)}{r}"><v>1</v></c>' for c in sorted(cols)) + "</row>")
    if stray is not None:  # one cell naming another row: below the last, or above it
        k = stray % len(out)
        target = r + 1 + stray if stray % 2 else max(1, stray)
        out[k] = out[k].replace("</row>", f'<c r="ZZ{target}"><v>2</v></c></row>')
    raw = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<sheetData>" + "".join(out).encode() + b"</sheetData></worksheet>")
    alone, both = xs.split(raw), xs.split(raw, cells)
    assert (alone is None) == (both is None)
    if both is None or not both.plain:
        return
    last = xs.last_row_number(both)
    expected = cells // last >= 16384 or xs.cell_beyond(both, cells // last) is None
    assert both.within == expected and both.cells == cells


_FORMS = ['<c r="{ref}"><v>1</v></c>', '<c r="{ref}" s="2"/>', '<c s="2" r="{ref}"/>',
          "<c><v>1</v></c>", "<c/>", '<c  r="{ref}"/>', "<c r='{ref}'/>",
          '<c r="{low}"><v>1</v></c>', '<c t="s" r="{ref}"><v>0</v></c>',
          '<c r="{ref}" t="inlineStr"><is><t>&lt;c</t></is></c>',
          # not plain, as Excel never writes them: r twice (once after a ">" in a value),
          # a cell of a namespace, three or four letters, not a number, a leading zero
          '<c r="{ref}" r="{ref}"/>', '<c r="{ref}" n="a>b" r="{ref}"><v>1</v></c>',
          '<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'r="{ref}"><x:v>1</x:v></x:c>', '<c r="QQ{ref}"><v>1</v></c>', '<c r="{ref}x"/>',
          '<c r="{zero}"><v>1</v></c>']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3),
                          st.lists(st.tuples(st.integers(1, 800),
                                             st.integers(0, len(_FORMS) + 2)),
                                   max_size=4)), min_size=1, max_size=12),
       st.integers(1, 3000), st.integers(0, 2))
@example([(1, [(1, 0)]), (1, [(2, 0)])], 100, 0)
@example([(1, [(1, 10)])], 100, 0)  # r twice
@example([(1, [(1, 0), (2, 11)])], 100, 0)  # r twice, after a value holding ">"
@example([(1, [(1, 12)])], 100, 0)  # a cell of a namespace
@example([(1, [(30, 13)])], 100_000, 0)  # four letters
@example([(1, [(1, 15)])], 100, 0)  # a leading zero
def test_one_search_by_re2_says_what_pythons_patterns_say(rows, cells, tail):
    """`split`'s searches by RE2 through Arrow (a cell that is not plain, below the last
    row, beyond column cells // last) give the same split as Python's patterns,
    whatever the cells (every form a generator writes, a reference naming another row,
    far right, in lower case, with a leading zero) and whatever ends the rows."""
    out, r = [], 0
    for gap, cells_ in rows:
        r += gap
        row = []
        for col, form in cells_:
            if form >= len(_FORMS):  # a reference naming a row below the last, or row 0
                row.append(f'<c r="{column_letter(col)}'
                           f'{"0" if form == len(_FORMS) + 2 else r + 5}"/>')
                continue
            ref = f"{column_letter(col)}{r}"
            row.append(_FORMS[form].format(ref=ref, low=ref.lower(),
                                           zero=f"{column_letter(col)}0{r}"))
        out.append(f'<row r="{r}">' + "".join(row) + "</row>")
    body = "".join(out) + ["", "<c", "<c "][tail]
    raw = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<sheetData>" + body.encode() + b"</sheetData></worksheet>")
    fast = xs.split(raw, cells)
    real = xs._odd_cells, xs._plain_cells
    xs._odd_cells = lambda *args: None  # Python's patterns alone
    xs._plain_cells = lambda body, prefix: xs._odd_cell(prefix).search(body) is None
    try:
        slow = xs.split(raw, cells)
    finally:
        xs._odd_cells, xs._plain_cells = real
    assert fast == slow
    f0, f1 = xs._rows_of(raw)[:2]
    assert real[1](raw[f0:f1], b"") == (xs._odd_cell(b"").search(raw, f0, f1) is None)


def _compacted_row_by_row(split_, value_rows):
    """`xlsxstream.compacted` as first written (the first rows found one by one, the
    copy made twice): the reference."""
    import re
    keep = set(value_rows)
    out = [split_.head]
    same = 0
    while same < len(value_rows) and value_rows[same] == same + 1:
        same += 1
    body, k, start = split_.body, 0, 0
    if same:
        start = len(body)
        if same < len(value_rows):
            for m in re.finditer(b'<row r="%d"' % same, body):
                row = xs._ROW.match(body, m.start())
                start = row.end() if row is not None else m.start()
                break
        out.append(body[:start])
        k = same
    for m in xs._ROW.finditer(body, start):
        row = m.group(0)
        r = int(xs._ROW_R.match(row).group(1))
        if r not in keep:
            continue
        k += 1
        start = xs._ROW_START.match(row)
        tag = xs._ROW_R.sub(lambda x: x.group(0)[:-len(x.group(1)) - 1] + str(k).encode()
                            + x.group(0)[-1:], row[:start.end()], count=1)
        out.append(tag + xs._REF_IN.sub(lambda x: x.group(1) + str(k).encode() + x.group(2),
                                        row[start.end():]))
    out.append(split_.tail)
    return b"".join(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3).map(lambda g: 1 if g < 3 else 200),  # far gaps
                          st.sets(st.integers(1, 9), max_size=4), st.integers(0, 4),
                          st.booleans()), max_size=25),
       st.sets(st.integers(0, 30), max_size=10))
def test_the_compacted_copy_is_the_rows_with_a_value_renumbered(rows, dropped):
    """The copy of a sparse sheet that a reader of values reads: its rows with a value
    renumbered 1, 2, 3 …, the first ones up to the first gap copied as they are; the same
    bytes as the reference, whatever rows hold a value."""
    split = xs.split(_sheet(rows))
    numbers = [int(n) for n in xs._row_pattern(split).findall(split.body)]
    value_rows = [r for k, r in enumerate(numbers) if k not in dropped]
    assert bytes(xs.compacted(split, value_rows)) == _compacted_row_by_row(split, value_rows)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3).map(lambda g: 1 if g < 3 else 900),  # far gaps
                          st.sets(st.integers(1, 9), max_size=4), st.integers(0, 4),
                          st.booleans()), min_size=1, max_size=20),
       st.integers(1, 400))
def test_the_rows_known_before_the_layout_are_its_rows_holding_a_value(rows, cells):
    """`rows_if_all_held` (the rows of a sheet whose values stand far apart, read before
    `layout` looked): when it answers, they are the layout's rows holding a value, and
    the copy of them alone holds at most ``cells`` cells (rows × the farthest column)."""
    split = xs.split(_sheet(rows))
    held = xs.rows_if_all_held(split, cells)
    if held is None:
        return
    lay = xs.layout(split.body, split.prefix, split.plain)
    assert lay.value_rows == held
    columns = [max(cols) for _g, cols, _k, _s in rows if cols]
    assert len(held) * max(columns, default=0) <= cells


@pytest.mark.parametrize("prefix", [b"", b"x:", b"x14.a-b:"])
def test_the_plain_check_by_re2_says_what_pythons_pattern_says_whatever_the_prefix(prefix):
    """Rows whose elements all carry the sheet's namespace prefix are plain as those
    without: the same answer from RE2 (`_odd_re2`) and from Python's pattern, for rows as
    Excel writes them and for each way of not being plain."""
    p = prefix.decode()
    good = (f'<{p}row r="1" spans="1:2"><{p}c r="A1" s="1"><{p}v>1</{p}v></{p}c>'
            f'<{p}c r="B1" t="inlineStr"><{p}is><{p}t xml:space="preserve">a</{p}t></{p}is>'
            f'</{p}c></{p}row><{p}row r="2"/>')
    bad = [f'<{p}row r="1"><{p}c r="A01"/></{p}row>', f'<{p}row r="1"><{p}c r="A1" r="B2"/>',
           f'<{p}row r="1"><{p}c r="A1" a="/>"/></{p}row>', f'<{p}row r="1"><!--x--></{p}row>',
           f'<{p}row r="1"><y:c r="A1"/></{p}row>', f'<{p}row r="1"><{p}c r="AAAA1"/>',
           f'<{p}row r="1"><{p}sheetData/></{p}row>', f'<{p}row r="1"><{p}c r="A1"s="1"r="B1"/>',
           f'<{p}row r="1"><{p}c s="1" r="A1"/></{p}row>', f'<{p}row r="1"><?pi?></{p}row>',
           f'<{p}row r="1"><{p}c r="A1"><{p}f a="&lt;/{p}c>"/></{p}c></{p}row>',
           f'<{p}row r="1"><{p}c r="A1"/><{p}c><{p}v>1</{p}v></{p}c></{p}row>']
    bad.append('<row r="1"><c r="A1"/></row>' if prefix else '<x:row r="1"/>')
    for body, plain in [(good, True)] + [(b, False) for b in bad]:
        data = body.encode()
        assert xs._plain_cells(data, prefix) is plain, body
        assert (xs._odd_cell(prefix).search(data) is None) is plain, body
