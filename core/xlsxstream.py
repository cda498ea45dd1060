"""A worksheet's rows as bytes: read what they hold and write outputs into them in one pass.

A sheet of 100,000 accounts is some 50 MB of XML and 1.7 million cells. Parsing it into a
tree costs seconds and gigabytes; Potentiel needs neither. The part is split in three
(`split`): the XML before the rows (columns, views, …) and after them (filters, page
setup, …) are small and parsed as a tree by `potentiel.xlsxsheet.Sheet`; the rows stay
bytes. What the reading needs of them is found by scanning the bytes (`Layout`: the last
row and column holding a value, whether formulas, error values or percentages are there),
and the outputs are written by `patched`, a generator that copies the rows unchanged and
rewrites only the rows Potentiel writes into (the account rows a batch at a time when they
stand as Excel writes them, `_bulk_rows`; else a row at a time): time linear in the size
of the sheet, memory in the size of the outputs, whatever stands far below or to the right.

The rows are kept as they are when they can be (numbered, ascending, UTF-8); a sheet that
is not (rows or cells without ``r``, rows out of order) is parsed as a tree instead, the
slow way, which handles it.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrowtext import POOL, concatenated

BODY_MARK = b"<!--potentiel:rows-->"
_OPEN = re.compile(rb"<((?:[\w.-]+:)?)sheetData(?=[\s/>])[^>]*?(/?)>")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding=["']([^"']+)["']""")
_ROW_R = re.compile(rb"""<(?:[\w.-]+:)?row\b[^>]*?\sr=["'](\d+)["']""")
_ROW = re.compile(rb"<(?:[\w.-]+:)?row\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?row>)", re.S)
_ROW_START = re.compile(rb"<(?:[\w.-]+:)?row\b[^>]*?(/?)>")
_SPANS = re.compile(rb"""\sspans=["'][^"']*["']""")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?c>)", re.S)
_ATTR_R = re.compile(rb"""\sr=["']([A-Za-z]+)(\d+)["']""")
_ATTR_S = re.compile(rb"""\ss=["'](\d+)["']""")
_ATTR_T = re.compile(rb"""\st=["'](\w+)["']""")
_CELL_NO_R = re.compile(rb"<(?:[\w.-]+:)?c(?![^>]*\sr=)(?:\s[^>]*)?/?>")
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f\b")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?(?:v|is)\b")
_F_TEXT = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:[\w.-]+:)?f>)")
_V_TEXT = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</(?:[\w.-]+:)?v>")
_LETTERS = re.compile(rb"[A-Za-z]{1,3}")
# Plain rows (`Split.plain`) are written as Excel writes them: every element named by
# letters and digits alone (no namespace prefix but the sheet's own, no comment, CDATA or
# processing instruction, no second sheetData), every cell '<c r="', one to three letters
# and a row number without a leading zero, '"', and no second r among its attributes.
# python-calamine is more lenient than an XML parser: it takes an element's name after
# any prefix, places a cell by its last r, a column of four letters or more past XFD, a
# row number with leading zeros; so that nothing it reads can make it allocate more than
# was proved, rows written otherwise are not plain (and it reads a plain copy of them,
# see `potentiel.headless.Workbook.values`). What follows "<" in rows that are not, for
# RE2 (no lookahead: each way of not being plain spelt out): no name, or one of other
# characters (a prefix, "!", "?"); sheetData; an attribute's value holding "<", ">" or
# "/" (Potentiel's patterns find a tag's end and a cell's content without reading quoted
# values); a cell with no r first, a reference not of that form, a second r (after a
# space or a quoted value).
@functools.lru_cache(maxsize=8)
def _odd_re2(prefix: bytes = b"") -> str:
    """What follows "<" in rows that are not plain whose namespace prefix is ``prefix``,
    for RE2 (see above)."""
    p = prefix.decode("ascii", "replace")

    def one(ch: str) -> str:  # a character, in a class
        return "\\" + ch if ch in "\\]^-" else ch
    esc = "".join("\\" + ch if not ch.isalnum() else ch for ch in p)
    if p:  # not the prefix, character by character, then no name after it
        alts = [f"[^/{one(p[0])}]", f"/[^{one(p[0])}]"]
        alts += [f"/?{''.join(chr(92) + c if not c.isalnum() else c for c in p[:i])}"
                 f"[^{one(p[i])}]" for i in range(1, len(p))]
        alts.append(f"/?{esc}[^A-Za-z0-9]")
    else:
        alts = ["[^/A-Za-z0-9]", "/[^A-Za-z0-9]"]
    return "|".join(alts + [
        f"/?{esc}[A-Za-z0-9]+(?:[^A-Za-z0-9\\s/>]|/[^>])",
        f"/?{esc}sheetData[\\s/>]",
        """[A-Za-z0-9:.-]+(?:[^"'<>]|"[^"<>/]*"|'[^'<>/]*')*(?:"[^"]*[<>/]|'[^']*[<>/])""",
        f'{esc}c(?:[^ ]| [^r]| r[^=]| r=[^"]'
        '| r="(?:[^A-Za-z]|[A-Za-z]{1,3}(?:[^A-Za-z1-9]|[1-9][0-9]*[^0-9"])|[A-Za-z]{4})'
        """| r="[^"]*"(?:(?:[^>"']|"[^"]*"|'[^']*')*(?:\\s|"[^"]*"|'[^']*'))?r\\s*=)"""])


# The last column three letters name (ZZZ): a plain cell stands at most that far right.
LAST_PLAIN_COL = 18278
_REF_IN = re.compile(rb"""(\sr=["'][A-Za-z]+)\d+(["'])""")


@functools.lru_cache(maxsize=4096)
def col_number(letters: bytes | str) -> int:
    n = 0
    for ch in (letters.upper() if isinstance(letters, str) else letters.decode().upper()):
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class Split:
    """A worksheet part in three: ``head`` (up to and with the ``<sheetData>`` tag),
    ``body`` (the rows) and ``tail`` (from ``</sheetData>``); ``prefix`` is the namespace
    prefix of its elements (``b"x:"`` in some generators' files, usually ``b""``)."""

    head: bytes
    body: bytes
    tail: bytes
    prefix: bytes
    plain: bool = False  # every row starts ``<row r="``, every cell ``<c r="`` (as Excel writes)
    rows: int | None = None  # how many rows, when counted (a plain sheet's)
    # for `split`'s ``cells``: whether no cell stands beyond column cells // last row (None:
    # not looked at), and that ``cells``
    within: bool | None = None
    cells: int | None = None

    def skeleton(self) -> bytes:
        """The part without its rows, a mark where they stand (parsed as a tree)."""
        return self.head + BODY_MARK + self.tail


def _rows_of(raw: bytes) -> tuple[int, int, re.Match] | None:
    """(start, end) of a worksheet part's rows in ``raw``, and its ``sheetData`` tag; None
    when the part is not UTF-8 or has no ``sheetData`` (``<sheetData/>``: start == end)."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\0" in raw[:4]:
        return None
    enc = _ENCODING.match(raw[:200])
    if enc and enc.group(1).lower().replace(b"-", b"") not in (b"utf8",):
        return None
    m = _OPEN.search(raw)
    if m is None or b"sheetData" in raw[:m.start()]:
        return None  # (one named so in a comment or instruction first: read as a tree)
    if m.group(2):  # <sheetData/>
        return (m.end(), m.end(), m) if raw.find(b"sheetData", m.end()) < 0 else None
    close = raw.rfind(b"</" + m.group(1) + b"sheetData>")
    if close < m.end() or raw.find(b"sheetData", close + 12 + len(m.group(1))) >= 0:
        return None
    return m.end(), close, m


@dataclass
class Look:
    """What one quick look at a worksheet part's rows says (`look`), before they are
    split: the last row's number, how many rows, and (``odd``) whether a row or cell is
    not plain (not ``<row r="N"``, not ``<c r="``), a cell names a row below the last,
    one stands beyond column ``cells`` // last."""

    last: int
    rows: int
    odd: tuple[bool, bool, bool]
    cells: int
    # (``styles``: whether an element names a cell format at or past that count, the
    # ones the styles part defines; None: not looked for)
    styles: int | None = None
    styles_past: bool | None = None

    @property
    def read_at_once(self) -> bool:
        """A reader of values reading these rows certainly allocates at most ``cells``
        cells, and they are not far apart (at most 2 × rows + 1000 rows up to the last):
        every row and cell says where it is, no cell names a row below the last nor
        stands beyond column ``cells`` // last. Whether the rows ascend does not matter
        here (no cell stands outside that rectangle whatever their order)."""
        return not any(self.odd) and 0 < self.last <= 2 * self.rows + 1000


def look(raw: bytes, cells: int, styles: int | None = None) -> Look | None:
    """The `Look` of a worksheet part: one count and one RE2 search over its rows in
    place (no copy, no Python step per row), quick enough to be made before a reader of
    values starts (`potentiel.headless.Workbook.values`), the rows split meanwhile. None
    when the part is not of the plain form it looks for (a namespace prefix, not UTF-8,
    no rows, the last row's tag not plain)."""
    found = _rows_of(raw)
    if found is None or found[2].group(1):
        return None
    start, end, _m = found
    at = raw.rfind(b'<row r="', start, end)
    digits = _DIGITS.match(raw, at + 8, end) if at >= 0 else None
    if digits is None or raw.rfind(b"<row", start, end) != at:
        return None  # (the last row tag whole: the search sees a character after any other)
    last, rows = int(digits.group(0)), raw.count(b'<row r="', start, end)
    said: list[bool] = []
    odd = _odd_cells(raw, last, cells, start, end, rows_too=True, styles=styles, said=said)
    return None if odd is None else Look(last, rows, odd, cells, styles,
                                         said[0] if said else None)


_DIGITS = re.compile(rb'[0-9]+(?=")')


def split(raw: bytes, cells: int | None = None, seen: Look | None = None) -> Split | None:
    """The part split around its rows, or None when it cannot be kept as bytes: not
    UTF-8, no ``sheetData``, rows or cells without ``r``, rows not ascending. With
    ``cells``, a plain sheet's `Split.within` says too whether a reader of values would
    allocate at most that many cells (no cell beyond column cells // last row), from the
    same search as the cells below the last row (``seen``: that search made already by
    `look` for the same ``cells``)."""
    found = _rows_of(raw)
    if found is None:
        return None
    start, close, m = found
    prefix = m.group(1)
    if m.group(2):  # <sheetData/>
        return Split(raw[:m.start()] + b"<" + prefix + b"sheetData>", b"",
                     b"</" + prefix + b"sheetData>" + raw[m.end():], prefix)
    body = raw[start:close]
    # plain: every row starts '<row r="N"' and every cell '<c r="' (Excel's way, and most
    # generators'): then literal searches find them, many times faster than the patterns
    numbers = _row_pattern((prefix, True)).findall(body)
    if seen is not None and seen.cells == cells and not seen.odd[0] and numbers:
        # every row and cell seen plain: every row found, the same search's answer
        rows_plain, odd = True, seen.odd
    else:
        rows_plain = body.count(b"<" + prefix + b"row") == len(numbers)
        odd = _odd_cells(body, int(numbers[-1]), cells) if rows_plain and \
            cells is not None and numbers and not prefix else None
    if odd is not None and not odd[0]:
        # every cell plain, as Excel writes them (RE2's searches): then none below the
        # last row, and whether one stands beyond column cells // last
        if not _numbered(body, prefix, True, numbers, below=False) or odd[1]:
            return None
        return Split(raw[:m.end()], body, raw[close:], prefix, True, len(numbers),
                     not odd[2], cells)
    # (every cell plain: one search for one that is not)
    plain = rows_plain and _plain_cells(body, prefix)
    if not plain and _TWICE_R.search(body) is not None:
        return None  # a cell with r twice (not XML; a reader of values takes the last)
    both = plain and cells is not None and len(numbers) > 0
    if not _numbered(body, prefix, plain, numbers if plain else None, below=not both):
        return None
    within = None
    if both:
        below, within = _below_and_within(body, prefix, int(numbers[-1]), cells)
        if not below:
            return None
    return Split(raw[:m.end()], body, raw[close:], prefix, plain,
                 len(numbers) if plain else None, within, cells if both else None)


# A cell whose start tag has r twice (attribute values quoted whole: a ">" may stand in
# one).
_ATTRS_ANY = rb"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
_TWICE_R = re.compile(rb"""<(?:[^\s<>/!?:"']+:)?c\s""" + _ATTRS_ANY +
                      rb"""(?<![\w.:-])r\s*=""" + _ATTRS_ANY + rb"""(?<![\w.:-])r\s*=""")


def _odd_cell(prefix: bytes) -> re.Pattern:
    """Rows that are not plain (see `_odd_re2`) whose namespace prefix is
    ``prefix``, for Python's patterns: a name not of that prefix and letters and digits,
    sheetData, an attribute's value holding "<", ">" or "/", a cell with no plain
    reference first, a second r."""
    p = re.escape(prefix)
    name = p + rb"[A-Za-z0-9]+(?:[\s>]|/>)"
    return re.compile(b"<(?:[!?]|/(?!" + name + b")|(?![/!?])(?!" + name + b"))"
                      b"|</?" + p + rb"sheetData[\s/>]"
                      rb"""|<[A-Za-z0-9:.-]+(?:[^"'<>]|"[^"<>/]*"|'[^'<>/]*')*"""
                      rb"""(?:"[^"]*[<>/]|'[^']*[<>/])"""
                      b"|<" + p + rb'c(?! r="[A-Za-z]{1,3}[1-9][0-9]*")'
                      b"|<" + p + rb"""c r="[^"]*"(?:(?:[^>"']|"[^"]*"|'[^']*')*"""
                      rb"""(?:\s|"[^"]*"|'[^']*'))?r\s*=""")


def _plain_cells(body: bytes, prefix: bytes) -> bool:
    """Every row and cell of these plain (`_odd_re2`): by RE2 through Arrow (a tenth of
    the time of Python's pattern, `_odd_cell`, which looks when it cannot)."""
    if body.rfind(b"<") < body.rfind(b">"):
        with contextlib.suppress(Exception):  # (any fault of the fast search: the pattern)
            return not pc.match_substring_regex(one_element(body),
                                                "<(?:" + _odd_re2(prefix) + ")")[0].as_py()
    return _odd_cell(prefix).search(body) is None


def _odd_cells(data: bytes, last: int, cells: int, start: int = 0, end: int | None = None,
               rows_too: bool = False, styles: int | None = None,
               said: list[bool] | None = None) -> tuple[bool, bool, bool] | None:
    """Whether the rows ``data[start:end]`` (no namespace prefix) hold a cell that is not
    plain (``<c`` not followed by `` r="``), one naming a row below row ``last``, one
    beyond column cells // last (``rows_too``: the first also says whether a row is not
    plain, ``<row`` not followed by `` r="N"``): by RE2 through Arrow (`pyarrow.compute`),
    over the bytes in place, a DFA that reads each byte once, where Python's patterns try
    their alternatives at each of the millions of cells. One search for any of them
    first; only if one is found, one for the first two (none: it is a cell beyond the
    column, as when a value stands far to the right), and only if one of those is, one
    search for each. None when the searches cannot be made: `split` then looks with
    Python's patterns. With ``styles``, the same first search looks for an element naming
    a cell format at or past that count too (`Look.styles_past`, put in ``said``)."""
    end = len(data) if end is None else end
    if data.rfind(b"<", start, end) > data.rfind(b">", start, end):
        return None  # a tag cut short at the end: too near it for the search's characters
    col = cells // max(last, 1)
    # what may follow "<" in a cell that is not plain; and after '<c r="'
    breaks = _odd_re2()
    if rows_too:  # what may follow "<row": not ' r="', digits, '"'
        breaks += '|row(?:[^ ]| [^r]| r[^=]| r=[^"]| r="(?:[^0-9]|[0-9]+[^0-9"]))'
    below = '[A-Za-z]{1,3}' + _after(last, ahead=False).decode() + '"'
    beyond = _beyond(col, True).decode() + "[0-9]" if col < LAST_PLAIN_COL else None
    either = '<(?:' + breaks + '|c r="(?:' + below + ("|" + beyond if beyond else "") + "))"
    style = None if styles is None else '\\ss=["\']' + (
        _after(styles - 1, ahead=False).decode() if styles > 0 else "[0-9]+") + '["\']'
    try:
        whole = one_element(data, start, end)

        def found(pattern: str | None) -> bool:
            return pattern is not None and \
                bool(pc.match_substring_regex(whole, pattern)[0].as_py())
        if not found(either + ("|" + style if style else "")):
            if style and said is not None:
                said.append(False)
            return False, False, False
        if style:
            if said is not None:
                said.append(found(style))
            if not found(either):
                return False, False, False
        if not found('<(?:' + breaks + '|c r="' + below + ")"):
            return False, False, True  # (what either found: a cell beyond the column)
        return (found("<(?:" + breaks + ")"), found('<c r="' + below),
                found(beyond and '<c r="' + beyond))
    except Exception:  # noqa: BLE001 (any fault of the fast search: the patterns look)
        return None


def one_element(data: bytes, start: int = 0, end: int | None = None) -> pa.Array:
    """An Arrow binary array of one element, ``data[start:end]``, over its bytes in place
    (no copy)."""
    end = len(data) if end is None else end
    kind, width = (pa.binary(), np.int32) if len(data) < 2 ** 31 else \
        (pa.large_binary(), np.int64)
    return pa.Array.from_buffers(kind, 1, [None, pa.py_buffer(
        np.array([start, end], dtype=width)), pa.py_buffer(data)])


def _below_and_within(body: bytes, prefix: bytes, last: int, cells: int
                      ) -> tuple[bool, bool]:
    """For the rows of a plain sheet up to row ``last``: (no cell names a row below
    ``last``, no cell stands beyond column cells // last), by one search for either."""
    below = _cells_below(prefix, last)
    col = cells // max(last, 1)
    if col >= LAST_PLAIN_COL:  # every column a plain cell names is within
        return below.search(body) is None, True
    either = re.compile(b"<" + re.escape(prefix) + rb'c r="(?:[A-Za-z]{1,3}' + _after(last) +
                        b'"|' + _beyond(col, True) + b"[0-9])")
    found = either.search(body)
    if found is None:
        return True, True
    if below.match(body, found.start()):
        return False, False
    # a cell beyond the column first: the cells below the last row looked for from there
    return below.search(body, found.start()) is None, False


def _row_pattern(split_: "Split | tuple[bytes, bool]") -> re.Pattern:
    """The row start with its number as group 1 (and only that)."""
    prefix, plain = (split_.prefix, split_.plain) if isinstance(split_, Split) else split_
    if plain:
        return re.compile(b"<" + re.escape(prefix) + rb'row r="(\d+)"')
    return _ROW_R


def _numbered(body: bytes, prefix: bytes, plain: bool = False,
              numbers: list[bytes] | None = None, below: bool = True) -> bool:
    """Every row and cell has its ``r`` and the rows ascend (``numbers``: the rows'
    numbers, when already found), and (``below``) no cell names a row below the last."""
    if numbers is None:
        numbers = _row_pattern((prefix, plain)).findall(body)
    if not plain and len(numbers) != (body.count(b"<" + prefix + b"row ")
                                      + body.count(b"<" + prefix + b"row>")):
        return False  # a row without its number, or not a number (r="x2")
    if len(numbers) > 1:
        arr = np.array(numbers, dtype=np.int64)
        if not bool(np.all(np.diff(arr) > 0)):
            return False
    if not plain and (body.count(b"<" + prefix + b"c ") != body.count(b"<" + prefix + b'c r="')
                      or b"<" + prefix + b"c>" in body or b"<" + prefix + b"c/>" in body):
        # not every cell starts with its reference: the long way
        if _CELL_NO_R.search(body) is not None:
            return False
    # a cell whose reference names a row below the last row (a cell out of its row)
    last = int(numbers[-1]) if numbers else 0
    if not below:
        return True
    if plain:
        return _cells_below(prefix, last).search(body) is None
    return re.search(rb"""<(?:[\w.-]+:)?c\b[^>]*?\sr=["'][A-Za-z]+0*""" + _after(last)
                     + rb"""["']""", body) is None


def _cells_below(prefix: bytes, last: int) -> re.Pattern:
    """A plain sheet's cell whose reference names a row below row ``last``."""
    return re.compile(b"<" + re.escape(prefix) + rb'c r="[A-Za-z]{1,3}' + _after(last) + b'"')


def _after(n: int, ahead: bool = True) -> bytes:
    """A regular expression matching the decimal numbers greater than ``n`` (no sign,
    no leading zero), to be followed by what ends the number. Each has at least as many
    digits as ``n``: said first (``ahead``), as a lookahead that turns away a shorter
    number before its alternatives are tried (a search over every cell of a sheet, 1.8
    times faster with Python's patterns; RE2 has no lookahead and needs none)."""
    d = str(n)
    k = len(d)
    alts = [b"[1-9][0-9]{%d,}" % k]
    for i, ch in enumerate(d):
        if ch != "9":
            alts.append((d[:i] + f"[{int(ch) + 1}-9]" + "[0-9]" * (k - i - 1)).encode())
    return (b"(?=[0-9]{%d})" % k if ahead else b"") + b"(?:" + b"|".join(alts) + b")"


@dataclass
class Layout:
    """Where a sheet's values are, from its rows' bytes.

    ``last_row``/``last_col``: the last row and column holding a value (1-based; an
    upper bound for the column: a formatted blank cell at the end of a row counts);
    ``rows``: how many rows hold a value; ``value_rows``: their numbers when the sheet is
    sparse (values far below the rest, more empty rows than rows with values), else None."""

    last_row: int
    last_col: int
    rows: int
    value_rows: list[int] | None = None

    @property
    def cells(self) -> int:
        """Cells a reader of values allocates (rows × columns up to the last value), once
        a sparse sheet's empty rows are left out."""
        return (len(self.value_rows) if self.value_rows is not None else self.last_row) \
            * self.last_col


def layout(body: bytes, prefix: bytes, plain: bool = False) -> Layout:
    """The `Layout` of a split sheet's rows (linear in their bytes); ``plain``: the rows
    and cells start with their reference (`Split.plain`)."""
    rows = _row_pattern((prefix, plain))
    found = [(m.start(), int(m.group(1))) for m in rows.finditer(body)] if body else []
    if not found:
        return Layout(0, 0, 0)
    starts = [a for a, _r in found]
    ends = starts[1:] + [len(body)]
    cell = b"<" + prefix + b"c "
    if found[-1][1] > 2 * len(found) + 1000:  # far apart: which rows hold a value
        if plain:  # a '<v' or '<is' in the row (its only elements: c, f, v, is, t, r …)
            v, i = b"<" + prefix + b"v", b"<" + prefix + b"is"
            held = [body.find(v, a, b) >= 0 or body.find(i, a, b) >= 0
                    for (a, _r), b in zip(found, ends)]
        else:
            held = [_VALUE.search(body, a, b) is not None for (a, _r), b in zip(found, ends)]
        value_rows = [r for (a, r), h in zip(found, held) if h]
        spans = [(a, b) for (a, r), b, h in zip(found, ends, held) if h]
    else:  # rows one after the other: the last value's row ends the sheet
        last = -1  # each tag looked for only after the last one found (not the whole sheet)
        for tag in (b"<" + prefix + b"v>", b"<" + prefix + b"is>", b"<" + prefix + b"v "):
            last = max(last, body.rfind(tag, max(last, 0)))
        for m in _VALUE.finditer(body, last + 1):  # one of another form after it (a prefix)
            last = m.start()
        if last < 0:
            return Layout(0, 0, 0)
        k = bisect.bisect_right(starts, last) - 1
        value_rows = None
        spans = list(zip(starts[:k + 1], ends[:k + 1]))
        last_row = found[k][1]
        if last_row < found[-1][1] and (not plain or
                                        _cells_below(prefix, last_row).search(body)):
            # a cell naming a row below its own (not Excel's way): a reader of values
            # places it there
            last_row = max([last_row] + [int(x) for x in re.findall(
                rb"""<(?:[\w.-]+:)?c\b[^>]*?\sr=["'][A-Za-z]+0*(""" + _after(last_row) +
                rb""")["']""", body)])
    letters_seen: set[bytes] = set()
    if plain:  # the letters right after each row's last '<c r="'
        at = len(cell) + 3  # after b'r="'
        for a, b in spans:
            q = body.rfind(cell, a, b)
            if q >= 0:
                letters_seen.add(body[q + at:q + at + 3])
        letters_seen = {m.group(0) for x in letters_seen if (m := _LETTERS.match(x))}
    else:
        for a, b in spans:
            q = body.rfind(cell, a, b)
            if q >= 0:
                r = _ATTR_R.search(body, q, b)
                if r is not None:
                    letters_seen.add(r.group(1))
    last_col = max((col_number(x) for x in letters_seen if x), default=0)
    # a cell further right hidden in the middle of a row (cells out of order): one scan
    # for the references beyond that column, checked for a value
    start = (b"<" + re.escape(prefix) + rb'c r="(') if plain else \
        rb"<(?:[\w.-]+:)?c\b[^>]*?\sr=[\"']("
    for m in re.finditer(start + _beyond(last_col, True) +
                         rb")\d+[\"'][^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?c>)", body, re.S):
        if m.group(2) and _VALUE.search(m.group(2)):
            last_col = max(last_col, col_number(m.group(1)))
    if value_rows is None:
        return Layout(last_row, last_col, len(spans))
    if not value_rows:
        return Layout(0, 0, 0)
    last_row = value_rows[-1]
    sparse = last_row > 2 * len(value_rows) + 1000
    return Layout(last_row, last_col, len(value_rows), value_rows if sparse else None)


def last_row_number(split_: Split) -> int:
    """The number of the last row of a plain split sheet (`Split.plain`: its rows
    ascend), 0 when it has none; -1 when its tag cannot be read."""
    tag = b"<" + split_.prefix + b'row r="'
    at = split_.body.rfind(tag)
    if at < 0:
        return 0
    found = re.match(rb"(\d+)\"", split_.body[at + len(tag):at + len(tag) + 12])
    return int(found.group(1)) if found else -1


def cell_beyond(split_: Split, col: int) -> int | None:
    """The offset of the first cell of a plain split sheet standing beyond column
    ``col`` (its letters in either case), or None."""
    found = re.compile(b"<" + re.escape(split_.prefix) + b'c r="' + _beyond(col, True) +
                       b"[0-9]").search(split_.body)
    return None if found is None else found.start()


def _beyond(col: int, either: bool = False) -> bytes:
    """A regular expression matching the column letters of the columns after ``col``,
    however many letters; ``either``: in either case (spelt out: many times faster than
    a case-blind pattern)."""
    from .problems import column_letter
    if col < 1:
        return rb"[A-Za-z]+"
    letters = column_letter(col)
    n = len(letters)
    alts = [b"[A-Za-z]{%d,}" % (n + 1)]  # (four letters or more: past ZZZ, not Excel's)

    def one(ch: str) -> str:
        return f"[{ch}{ch.lower()}]" if either else ch

    def after(ch: str) -> str:
        nxt = chr(ord(ch) + 1)
        return f"[{nxt}-Z{nxt.lower()}-z]" if either else f"[{nxt}-Z]"
    every = "[A-Za-z]" if either else "[A-Z]"
    for i, ch in enumerate(letters):
        if ch != "Z":
            alts.append(("".join(map(one, letters[:i])) + after(ch) + every * (n - i - 1)).encode())
    return b"(?:" + b"|".join(alts) + b")" if alts else b"(?!)"


def rows_if_all_held(split_: Split, cells: int) -> list[int] | None:
    """The numbers of the rows of a plain split sheet (no namespace prefix) whose rows
    stand far apart (more than 2 × rows + 1000 up to the last), when every row holds a
    value (a ``<v`` or ``<is`` in it: then they are `layout`'s ``value_rows``) and no cell
    stands beyond column ``cells`` // rows (the copy of those rows alone, `compacted`,
    then holds at most ``cells`` cells): one RE2 search through Arrow, before `layout`
    has looked. Else None."""
    if not split_.plain or split_.prefix or not split_.body or not split_.rows:
        return None
    # (from what the split counted: the rows' numbers are found only for such a sheet)
    if last_row_number(split_) <= 2 * split_.rows + 1000:
        return None
    col = cells // split_.rows
    if col >= 16384:  # few rows: read once the layout has said how far the cells stand
        return None
    # a row holding no value: its tag, then anything but "<v" or "<is" to its end; a cell
    # beyond the column (its letters after the column's, or four letters or more, which a
    # reader of values still places); a cell of a namespace (not looked at here)
    empty = '<row[^>]*(?:/>|>(?:[^<]|<[^vi]|<i[^s])*</row>)'
    pattern = empty + '|<c r="(?:' + _beyond(col, True).decode() + '[0-9]|[A-Za-z]{4})' + \
        r'|<[A-Za-z_][\w.-]*:c[\s/>]'
    try:
        if pc.match_substring_regex(one_element(split_.body), pattern)[0].as_py():
            return None
    except Exception:  # noqa: BLE001 (no quick answer: `layout` looks)
        return None
    return [int(n) for n in _row_pattern(split_).findall(split_.body)]


def compacted(split_: Split, value_rows: Sequence[int]) -> bytes:
    """The part with only its rows holding a value, numbered 1, 2, 3 … in order (cell
    references too): what a reader of values reads without allocating the empty rows
    between them. ``value_rows`` (from `layout`) maps the new numbers back."""
    out: list = [split_.head]
    # the rows up to the first gap keep their numbers: copied as they are (one search of
    # the first number out of place, and the bytes joined from the body, not copied twice)
    numbers = np.asarray(value_rows, dtype=np.int64)
    gaps = np.flatnonzero(numbers != np.arange(1, len(numbers) + 1))
    same = int(gaps[0]) if len(gaps) else len(numbers)
    keep = set(value_rows[same:])
    body, k, start = split_.body, 0, 0
    if same:
        start = len(body)
        if same < len(value_rows):  # up to the end of row `same`, found by its number
            pattern = (b"<" + re.escape(split_.prefix) + b'row r="%d"' % same) if split_.plain \
                else rb"""<(?:[\w.-]+:)?row\b[^>]*?\sr=["']%d["']""" % same
            for m in re.finditer(pattern, body):
                row = _ROW.match(body, m.start())
                start = row.end() if row is not None else m.start()
                break
        if same < len(value_rows) and _names_below(split_, start, same):
            # a cell in them names a row past them (a reader of values would place it
            # there, outside what was counted): every row renumbered
            same, start, keep = 0, 0, set(value_rows)
        else:
            out.append(memoryview(body)[:start])
            k = same
    for m in _ROW.finditer(body, start):
        row = m.group(0)
        r = int(_ROW_R.match(row).group(1))
        if r not in keep:
            continue
        k += 1
        start = _ROW_START.match(row)
        tag = _ROW_R.sub(lambda x: x.group(0)[:-len(x.group(1)) - 1] + str(k).encode()
                         + x.group(0)[-1:], row[:start.end()], count=1)
        out.append(tag + _REF_IN.sub(lambda x: x.group(1) + str(k).encode() + x.group(2),
                                     row[start.end():]))
    out.append(split_.tail)
    return b"".join(out)


def _names_below(split_: Split, end: int, last: int) -> bool:
    """A cell in the rows ``split_.body[:end]`` of a plain sheet names a row below row
    ``last`` (one RE2 search through Arrow when it has no namespace prefix)."""
    if not split_.prefix:
        with contextlib.suppress(Exception):  # (any fault of the fast search: the pattern)
            return bool(pc.match_substring_regex(
                one_element(split_.body, 0, end),
                '<c r="[A-Za-z]{1,3}' + _after(last, ahead=False).decode() + '"')[0].as_py())
    return _cells_below(split_.prefix, last).search(split_.body, 0, end) is not None


def style_named_at_least(body: bytes, count: int) -> int:
    """The highest ``s`` or ``style`` (a cell format index: a cell's, a row's, a
    column's) at or past ``count`` that an element of these bytes names, else -1: one
    RE2 search through Arrow says whether there is one (the usual answer: none),
    Python's pattern finds them only then."""
    pattern = '\\s(?:s|style)=["\']' + (_after(count - 1, ahead=False).decode()
                                         if count > 0 else "[0-9]+") + '["\']'
    try:
        if not pc.match_substring_regex(one_element(body), pattern)[0].as_py():
            return -1
    except Exception:  # noqa: BLE001 (any fault of the fast search: the pattern looks)
        pass
    found = [int(x) for x in re.findall(rb"""\s(?:s|style)=["']([0-9]+)["']""", body)]
    return max((x for x in found if x >= count), default=-1)


def cells_where(body: bytes, test: Callable[[bytes, bytes], bool]) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(row, col, attributes, content) of every cell for which ``test(attributes,
    content)`` holds (a scan of every cell: call it when a cheap look at the bytes says
    some may)."""
    for m in _CELL.finditer(body):
        attrs, content = m.group(1), m.group(2) or b""
        if test(attrs, content):
            r = _ATTR_R.search(b" " + attrs)
            if r is not None:
                yield int(r.group(2)), col_number(r.group(1)), attrs, content


def formula_cells(body: bytes) -> dict[tuple[int, int], tuple[bool, str]]:
    """(row, col) → (Excel saved the value, the formula's text) for each formula cell."""
    if (b"<f" not in body and b":f" not in body) or _FORMULA.search(body) is None:
        return {}  # (two literal scans say "none" many times faster than the pattern)
    out = {}
    for r, c, attrs, content in cells_where(body, lambda a, c: _FORMULA.search(c) is not None):
        v = _V_TEXT.search(content)
        t = _ATTR_T.search(b" " + attrs)
        saved = v is not None and (bool(v.group(1)) or (t is not None and t.group(1) == b"str"))
        f = _F_TEXT.search(content)
        text = (f.group(1) or b"") if f is not None else b""
        out[(r, c)] = (saved, _unescape(text.decode("utf-8", "replace")))
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _cells_with(body: bytes, attr: bytes) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(row, col, attributes, content) of the cells whose start tag has an attribute
    matching the regular expression ``attr`` (found by the regex engine, not one by one
    in Python)."""
    pattern = re.compile(rb"<(?:[\w.-]+:)?c\b(?=[^>]*?\s" + attr + rb")([^>]*?)"
                         rb"(?:/>|>(.*?)</(?:[\w.-]+:)?c>)", re.S)
    for m in pattern.finditer(body):
        attrs = m.group(1)
        r = _ATTR_R.search(b" " + attrs)
        if r is not None:
            yield int(r.group(2)), col_number(r.group(1)), attrs, m.group(2) or b""


def styled_cells(body: bytes, styles: Sequence[int], with_default: bool) -> set[tuple[int, int]]:
    """(row, col) of the number cells holding a value whose cell format is one of
    ``styles`` (``with_default``: a cell without ``s`` counts, format 0)."""
    out = set()

    def number(attrs: bytes, content: bytes) -> bool:
        t = _ATTR_T.search(b" " + attrs)
        return (t is None or t.group(1) == b"n") and _V_TEXT.search(content) is not None

    wanted = b"|".join(str(k).encode() for k in styles)
    for r, c, attrs, content in _cells_with(body, rb"""s=["'](?:""" + wanted + rb""")["']"""):
        if number(attrs, content):
            out.add((r, c))
    if with_default:
        for r, c, attrs, content in cells_where(
                body, lambda a, c: _ATTR_S.search(b" " + a) is None and number(a, c)):
            out.add((r, c))
    return out


def error_cells(body: bytes) -> dict[tuple[int, int], str]:
    """(row, col) → the error value (``"#N/A"``) of each error cell (``t="e"``)."""
    if b't="e"' not in body and b"t='e'" not in body:
        return {}
    out = {}
    for r, c, attrs, content in _cells_with(body, rb"""t=["']e["']"""):
        v = _V_TEXT.search(content)
        out[(r, c)] = (v.group(1).decode("utf-8", "replace").strip() if v and v.group(1)
                       else "#N/A")
    return out


# ---------------------------------------------------------------- writing

KEEP_CELL, BLANK, VALUE = 0, 1, 2  # a patch's cell: left as it is, blanked, written
BATCH = 8192  # rows rendered at a time: memory in the batch, not in the sheet


class Patch:
    """Cells to write, a column at a time: for each row of ``rows`` and column of
    ``cols`` (ascending), ``kinds[j][i]`` says whether the cell is left as it is, blanked
    (an existing cell keeps its style; no cell is created) or written, and
    ``styles[j][i]`` the style the written cell takes (-1: none). The XML is rendered
    when the stream reaches the rows, `BATCH` rows at a time: ``render_rows(i0, i1)``
    gives each row's written cells joined (an Arrow string array, "" for a row writing
    none); ``render(j, i, ref, style)`` one cell in a
    given style (for a cell written over an existing one of another style)."""

    def __init__(self, rows: np.ndarray, cols: list[int], kinds: list[np.ndarray],
                 styles: list[np.ndarray], render_rows: Callable[[int, int], pa.StringArray],
                 render: Callable[[int, int, str, int | None], str]):
        self.rows, self.cols, self.kinds, self.styles = rows, cols, kinds, styles
        self.render_rows, self.render = render_rows, render
        self.col_pos = {c: j for j, c in enumerate(cols)}
        # the fast path: no cell left as it is, so a row's cells are its joined XML
        self.simple = bool(cols) and not any(bool((k == KEEP_CELL).any()) for k in kinds)
        self._batch: tuple[int, list[str]] = (-1, [])

    def position(self, r: int) -> int | None:
        """The index of sheet row ``r`` among the patch's rows, or None."""
        k = int(np.searchsorted(self.rows, r))
        return k if k < len(self.rows) and int(self.rows[k]) == r else None

    def joined(self, i: int) -> str:
        b = i // BATCH
        if self._batch[0] != b:
            self._batch = (b, self.render_rows(b * BATCH, min((b + 1) * BATCH, len(self.rows)))
                           .to_pylist())
        return self._batch[1][i - b * BATCH]

    def whole_rows(self, i0: int, i1: int) -> Iterator[bytes]:
        """Rows i0–i1 whole (``<row r="5">…</row>``, a row writing no cell left out), in
        pieces of at most `BATCH` rows: for rows written after every row already there,
        by a patch writing every cell it has (`simple`), without a namespace prefix."""
        for a in range(i0, i1, BATCH):
            b = min(a + BATCH, i1)
            xml = self.render_rows(a, b)
            some = pc.not_equal(pc.binary_length(xml, memory_pool=POOL), 0, memory_pool=POOL)
            numbers = pc.cast(pc.filter(pa.array(self.rows[a:b]), some, memory_pool=POOL),
                              pa.string(), memory_pool=POOL)
            yield concatenated(pc.binary_join_element_wise(
                '<row r="', numbers, '">', pc.filter(xml, some, memory_pool=POOL), "</row>", "",
                memory_pool=POOL))

    def kind(self, j: int, i: int) -> int:
        return int(self.kinds[j][i])

    def style(self, j: int, i: int) -> int | None:
        s = int(self.styles[j][i])
        return None if s < 0 else s

    def cell(self, j: int, i: int, ref: str) -> str:
        """Cell (j, i) as written ("" for a blank)."""
        if self.kind(j, i) != VALUE:
            return ""
        return self.render(j, i, ref, self.style(j, i))


@dataclass
class Clear:
    """A rectangle whose values are blanked (rows ``r1``–``r2``, columns ``c1``–``c2``):
    existing cells keep their style; no row or cell is created."""

    r1: int
    r2: int
    c1: int
    c2: int


def _merged(hits: Sequence[tuple[Patch, int]]) -> dict[int, tuple[Patch, int, int]]:
    """Column → (patch, column index, row index) of the last patch writing that cell."""
    out: dict[int, tuple[Patch, int, int]] = {}
    for p, i in hits:
        for j, col in enumerate(p.cols):
            if p.kinds[j][i] != KEEP_CELL:
                out[col] = (p, j, i)
    return out


def _prefixed(xml: str, prefix: bytes) -> str:
    if not prefix or not xml:
        return xml
    p = prefix.decode()
    return re.sub(r"<(/?)(c|v|is|t|f)\b", lambda m: f"<{m.group(1)}{p}{m.group(2)}", xml)


def patched(split_: Split, patches: Sequence[Patch], clears: Sequence[Clear],
            letters: Callable[[int], str], on_formula: Callable[[], None],
            chunk: int = 1 << 22) -> Iterator[bytes]:
    """The rows of ``split_`` with ``patches`` written in and ``clears`` blanked, in
    chunks of about ``chunk`` bytes: rows nobody writes are copied as they are; a
    written row keeps its other cells and attributes (``spans``, a hint that would now
    be wrong, dropped); an existing cell keeps its style; new rows go where their number
    puts them. ``on_formula()`` is called when a formula cell is overwritten."""
    prefix = split_.prefix
    body = split_.body
    news = [p for p in patches if len(p.rows)]
    targets = np.unique(np.concatenate([p.rows for p in news])) if news else np.zeros(0, int)
    n_targets = len(targets)
    targets = targets.tolist()
    t = 0  # next row to write that may not exist yet
    out: list[bytes] = []
    size = 0
    copied_from = 0
    ptag = prefix.decode()

    end_mark = 1 << 62
    rows_of = [p.rows.tolist() + [end_mark] for p in patches]
    cursor = [0] * len(patches)
    ahead = [rows[0] for rows in rows_of]  # each patch's next row

    def hits_for(r: int) -> list[tuple[Patch, int]]:
        """The patches writing into row ``r`` and its index in each (rows are asked in
        ascending order: a cursor per patch, no table of every row)."""
        out = []
        for k, rows in enumerate(rows_of):
            if ahead[k] > r:
                continue
            c = cursor[k]
            while rows[c] < r:
                c += 1
            cursor[k], ahead[k] = c, rows[c]
            if rows[c] == r:
                out.append((patches[k], c))
        return out

    only = patches[0] if len(patches) == 1 and patches[0].simple else None

    def new_row(r: int) -> bytes:
        if only is not None:  # one patch writing every cell it has: its row as joined
            xml = only.joined(hits_for(r)[0][1])
            return f'<{ptag}row r="{r}">{_prefixed(xml, prefix)}</{ptag}row>'.encode() \
                if xml else b""
        hits = hits_for(r)
        if len(hits) == 1 and hits[0][0].simple:
            xml = hits[0][0].joined(hits[0][1])
        else:
            xml = "".join(p.cell(j, i, f"{letters(c)}{r}")
                          for c, (p, j, i) in sorted(_merged(hits).items()))
        if not xml:
            return b""
        return f'<{ptag}row r="{r}">{_prefixed(xml, prefix)}</{ptag}row>'.encode()

    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for c in clears:  # the clears by their rows (usually all the same rows)
        groups.setdefault((c.r1, c.r2), []).append((c.c1, c.c2))
    one_group = next((k + (v,) for k, v in groups.items()), None) if len(groups) == 1 else None
    closing = b"</" + prefix + b"row>"
    cell = b"<" + prefix + b'c r="'
    columns: dict[bytes, int] = {}

    def last_col(start: int, stop: int) -> int:
        """The column of the last cell between two offsets of a plain sheet (0: none)."""
        q = body.rfind(cell, start, stop)
        if q < 0:
            return 0
        key = body[q + len(cell):q + len(cell) + 3]
        if key not in columns:
            found = _LETTERS.match(key)
            columns[key] = col_number(found.group(0)) if found else 1 << 20
        return columns[key]

    formula = b"<" + prefix + b"f"
    # a plain cell's column letters and style (its ``s`` right after ``r``, as Excel and
    # this writer put it; a cell with ``s`` elsewhere does not match, and its row goes
    # the long way)
    ref_style = re.compile(b"<" + re.escape(prefix) +
                           rb'c r="([A-Za-z]{1,3})\d+"(?: s="(\d+)")?(?![^>]*\ss=)')

    def rerun_at(single: tuple[Patch, int], r: int, first: int, gt: int, close: int,
                 xml: bytes) -> int:
        """A row written by a run before, on a plain sheet: the offset of its cell in the
        patch's first column when no cell before it is at column ``first`` or after, and
        every cell from there on is one this patch writes again, in the style it writes
        it, without a formula (``xml``: the row's cells as now written; they then replace
        the old ones at once); else -1 (the row goes the long way, `_patch_row`)."""
        q = body.find(cell + letters(single[0].cols[0]).encode() + b"%d\"" % r, gt, close)
        if q < 0 or last_col(gt, q) >= first:
            return -1
        tail = body[q:close]
        if formula in tail:
            return -1
        found = ref_style.findall(tail)
        # the same cells, in the same columns and styles, as the row now written: the
        # cells it had were all its own (two searches in C, no step per cell)
        if len(found) != tail.count(cell) or found != ref_style.findall(xml):
            return -1
        return q

    # the first column written or blanked, by (patch, no clears in the row) when the
    # clears are one group (then a row's are that group's or none)
    firsts: dict[tuple[Patch | None, bool], int] = {}

    def new_rows_before(r: int, a: int) -> None:
        """The rows to write before row ``r`` (at offset ``a``) that are not there."""
        nonlocal t, copied_from, size
        while t < n_targets and targets[t] < r:
            row = new_row(targets[t])
            if row:
                out.append(body[copied_from:a])
                copied_from = a
                out.append(row)
                size += len(row)
            t += 1

    def row_by_row(rows: Iterator[tuple[int, int, int, int]]) -> Iterator[bytes]:
        """The rows ``rows`` (`_rows`) each on its own: copied, or written into."""
        nonlocal t, copied_from, size
        for a, gt, end, r in rows:
            new_rows_before(r, a)
            hits = hits_for(r) if t < n_targets and targets[t] == r else []
            if hits:
                t += 1
            if one_group is not None:
                blank = one_group[2] if one_group[0] <= r <= one_group[1] else ()
            else:
                blank = [b for (r1, r2), spans in groups.items() if r1 <= r <= r2 for b in spans]
            if hits or blank:
                single = hits[0] if len(hits) == 1 and hits[0][0].simple else None
                fast = gt >= 0 and body[gt - 1] != 0x2F and (single is not None or not hits)
                close = end - len(closing)
                stop = close  # where the row's cells kept end
                xml = b""
                if fast:  # a plain row: are the row's cells all left of what is written?
                    key = (single[0] if single else None, not blank)
                    same = not blank or one_group is not None  # as other rows' (cached)
                    first = firsts.get(key) if same else None
                    if first is None:
                        first = min(([single[0].cols[0]] if single else []) +
                                    [c1 for c1, _c2 in blank])
                        if same:
                            firsts[key] = first
                    fast = last_col(gt, end) < first
                    if single is not None:
                        xml = _prefixed(single[0].joined(single[1]), prefix).encode()
                    if not fast and single is not None:  # a second run: its own cells after?
                        stop = rerun_at(single, r, first, gt, close, xml)
                        fast = stop >= 0
                if fast and not hits:
                    pass  # nothing there to blank: the row stays as it is
                elif fast:  # the outputs go after the row's cells kept
                    spans = body.find(b" spans=", a, gt)
                    out.append(body[copied_from:spans if spans >= 0 else a])
                    if spans >= 0:
                        out.append(body[body.index(body[spans + 7:spans + 8], spans + 8) + 1:stop])
                    else:
                        out.append(body[a:stop])
                    out.append(xml)
                    size += len(xml) + stop - a
                    copied_from = close
                else:
                    row = _patch_row(body[a:end], r, hits, blank, prefix, letters, on_formula)
                    out.append(body[copied_from:a])
                    out.append(row)
                    size += len(row)
                    copied_from = end
            if size >= chunk:
                out.append(body[copied_from:end])
                copied_from = end
                yield b"".join(out)
                out.clear()
                size = 0

    bulk = _bulk_span(split_, patches, clears) if n_targets else None
    if bulk is None and (n_targets or clears):
        yield from row_by_row(_rows(split_))
    elif bulk is not None:
        p, at, stop, first = bulk
        yield from row_by_row(_rows(split_, 0, at))
        for i0 in range(0, len(p.rows), BATCH):  # the patch's rows a batch at a time
            i1 = min(i0 + BATCH, len(p.rows))
            upto = stop if i1 == len(p.rows) else \
                body.find(b'<row r="%d"' % int(p.rows[i1]), at, stop)
            if upto < 0:  # a row to write is not there: the rest row by row
                yield from row_by_row(_rows(split_, at, len(body)))
                break
            new_rows_before(int(p.rows[i0]), at)
            rows = _bulk_rows(body, at, upto, p, i0, i1, first)
            if rows is None:
                yield from row_by_row(_rows(split_, at, upto))
            else:
                out.append(body[copied_from:at])
                out.append(rows)
                size += len(rows)
                copied_from, t = upto, t + i1 - i0
                if size >= chunk:
                    yield b"".join(out)
                    out.clear()
                    size = 0
            at = upto
        else:
            yield from row_by_row(_rows(split_, stop, len(body)))
    out.append(body[copied_from:])
    while t < n_targets:  # the rows after the last one there
        bulk = None if prefix else _alone(patches, rows_of, targets[t], n_targets - t)
        if bulk is not None:  # one patch writes all the rest: its rows a batch at a time
            p, i = bulk
            if out:
                yield b"".join(out)
                out.clear()
            yield from p.whole_rows(i, len(p.rows))
            return
        row = new_row(targets[t])
        out.append(row)
        size += len(row)
        t += 1
        if size >= chunk:
            yield b"".join(out)
            out.clear()
            size = 0
    if out:
        yield b"".join(out)


def _bulk_span(split_: Split, patches: Sequence[Patch], clears: Sequence[Clear]
               ) -> tuple[Patch, int, int, int] | None:
    """(patch, start, end, column): the offsets in a plain sheet's rows from the first
    row to the end of the last row of the patch writing the most rows, when it writes
    every cell it has (`Patch.simple`), its rows follow each other, no other patch
    writes among them, and its first and last rows are there; ``column``, the first
    column written or blanked there. The rows between are then written a batch at a
    time when they can be (`_bulk_rows`). Else None: every row goes on its own."""
    if not split_.plain or split_.prefix or not patches:
        return None
    p = max(patches, key=lambda q: len(q.rows))
    rows = p.rows
    if not p.simple or not len(rows) or int(rows[-1]) - int(rows[0]) + 1 != len(rows):
        return None
    first, last = int(rows[0]), int(rows[-1])
    if any(q is not p and len(q.rows) and bool(((q.rows >= first) & (q.rows <= last)).any())
           for q in patches):
        return None
    column = min([p.cols[0]] + [c.c1 for c in clears if c.r1 <= last and c.r2 >= first])
    body = split_.body
    at = body.find(b'<row r="%d"' % first)
    end = body.find(b'<row r="%d"' % last, max(at, 0))
    end = body.find(b"</row>", end) if at >= 0 and end >= 0 else -1
    return None if end < 0 else (p, at, end + len(b"</row>"), column)


# a row's spans (its start tag's first): a hint of its cells' columns, dropped where cells
# are added
_ROW_SPANS = re.compile(rb"""<row r="\d+"[^>]*?( spans=(?:"[^"]*"|'[^']*'))""")
_CELL_START = b'<c r="'


def _bulk_rows(body: bytes, start: int, stop: int, p: Patch, i0: int, i1: int,
               first: int) -> bytes | None:
    """The rows between offsets ``start`` and ``stop`` of a plain sheet with patch
    ``p``'s rows i0–i1 written in, the same bytes as row by row (``spans`` dropped, the
    cells written after the row's own), made at once: C searches and joins, the only
    Python steps per row in comprehensions (a row's last cell; its spans, when every row
    has the same). None when the rows there are not exactly those
    (some missing, some ``<row/>``), or a row's last cell stands at column ``first`` or
    after (the first written or blanked: those rows go row by row)."""
    region = body[start:stop]
    if region.rfind(b"<row ") != region.rfind(b'<row r="%d"' % int(p.rows[i1 - 1])):
        return None  # the last row there is not the last to write
    n = i1 - i0
    found = _ROW_SPANS.findall(region)
    alike = len(found) == n and found.count(found[0]) == n if found else False
    if found and not alike:
        for spans, k in Counter(found).items():
            if region.count(spans) != k:  # also written elsewhere than in a row's start tag
                return None
            region = region.replace(spans, b"")
    pieces = region.split(b"</row>")
    if len(pieces) != n + 1:
        # the rows there, ascending from the first to the last to write, are those
        # consecutive ones (none missing, none ``<row/>``) only if they close as many
        return None
    if alike:  # every row's start tag has the same spans, each the first in its row
        spans = found[0]
        pieces[:n] = [piece.replace(spans, b"", 1) for piece in pieces[:n]]
    keys = {piece[q + 6:q + 9] for piece, q in
            zip(pieces, [piece.rfind(_CELL_START) for piece in pieces]) if q >= 0}
    for key in keys:  # the columns of the rows' last cells (a few distinct keys)
        letters = _LETTERS.match(key)
        if letters is None or col_number(letters.group(0)) >= first:
            return None
    xml = pc.cast(p.render_rows(i0, i1), pa.binary(), memory_pool=POOL).to_pylist()
    joined: list[bytes] = [b""] * (3 * n + 1)
    joined[0:3 * n:3] = pieces[:n]
    joined[1:3 * n:3] = xml
    joined[2:3 * n:3] = [b"</row>"] * n
    joined[3 * n] = pieces[n]
    return b"".join(joined)


def _alone(patches: Sequence[Patch], rows_of: list[list[int]], r: int, left: int
           ) -> tuple[Patch, int] | None:
    """(patch, index of row ``r`` in it) when a single patch, writing every cell it has
    (`Patch.simple`), writes every one of the ``left`` rows still to write from row ``r``
    on (the others end before ``r``), each once; else None."""
    writing = [k for k, rows in enumerate(rows_of) if len(rows) > 1 and rows[-2] >= r]
    if len(writing) != 1 or not patches[writing[0]].simple:
        return None
    p = patches[writing[0]]
    i = int(np.searchsorted(p.rows, r))
    return (p, i) if len(p.rows) - i == left else None


def _rows(split_: Split, start: int = 0, stop: int | None = None
          ) -> Iterator[tuple[int, int, int, int]]:
    """(start, end of the start tag or -1, end, number) of each row of a split sheet
    starting between offsets ``start`` and ``stop`` (row boundaries; None: the end):
    found by a literal search in a plain sheet (`Split.plain`), else by the general
    pattern (then the start tag's end is not looked for: -1)."""
    body = split_.body
    stop = len(body) if stop is None else stop
    if not split_.plain:
        for m in _ROW.finditer(body, start, stop):
            yield m.start(), -1, m.end(), int(_ROW_R.match(body, m.start()).group(1))
        return
    closing = b"</" + split_.prefix + b"row>"
    for m in _row_pattern(split_).finditer(body, start, stop):
        gt = body.find(b">", m.end())
        if gt < 0:
            return
        if body[gt - 1] == 0x2F:  # <row r="5"/>
            yield m.start(), gt, gt + 1, int(m.group(1))
            continue
        end = body.find(closing, gt)
        if end < 0:
            return
        yield m.start(), gt, end + len(closing), int(m.group(1))


_REF_STYLE = re.compile(rb"""<(?:[\w.-]+:)?c\b(?=[^>]*?\sr=["']([A-Za-z]{1,3})\d+["'])"""
                        rb"""(?:(?=[^>]*?\ss=["'](\d+)["']))?""")


def _patch_row(row: bytes, r: int, hits: list[tuple[Patch, int]], blank: list[tuple[int, int]],
               prefix: bytes, letters: Callable[[int], str],
               on_formula: Callable[[], None]) -> bytes:
    start = _ROW_START.match(row)
    tag = _SPANS.sub(b"", row[:start.end()])
    closing = b"</" + prefix + b"row>"
    if start.group(1):  # <row .../>
        tag = tag[:-2].rstrip() + b">"
        content = b""
    else:
        content = row[start.end():len(row) - len(closing)]
    single = hits[0] if len(hits) == 1 and hits[0][0].simple else None
    first = single[0].cols[0] if single else min(
        (c for p, i in hits for j, c in enumerate(p.cols) if p.kinds[j][i] != KEEP_CELL),
        default=1 << 20)
    if blank:
        first = min([first] + [c1 for c1, _c2 in blank])
    q = content.rfind(b"<" + prefix + b"c ")
    last = 0
    if q >= 0:
        ref = _ATTR_R.search(content, q)
        last = col_number(ref.group(1)) if ref is not None else 1 << 20
    if last < first:  # the usual case: the outputs go after the row's cells
        if not hits:
            return row  # only blanks asked, where the row has no cell: it stays as it is
        if single:
            xml = single[0].joined(single[1])
        else:
            xml = "".join(p.cell(j, i, f"{letters(c)}{r}")
                          for c, (p, j, i) in sorted(_merged(hits).items()))
        return tag + content + _prefixed(xml, prefix).encode() + closing
    # cells in the way: each existing cell is kept, blanked or replaced keeping its style
    cells = _merged(hits)
    pieces: list[tuple[int, bytes]] = []
    done: set[int] = set()
    # the cells before the first one written are kept as one piece, found from the
    # references alone when the cells ascend (as Excel writes them)
    pos = 0
    refs = _ATTR_R.findall(content)
    cols = [col_number(x) for x, _d in refs]
    if all(a < b for a, b in zip(cols, cols[1:])):
        k = bisect.bisect_left(cols, first)
        at = 0
        if 0 < k < len(refs):
            at = content.find(b'r="%s%s"' % refs[k])
            at = content.rfind(b"<", 0, at) if at >= 0 else -1
        if at >= 0 and k < len(refs):
            tail = content[at:]
            if single is not None and _FORMULA.search(tail) is None:
                # a second run: the cells from the first written one on are all cells
                # this run writes, in the style it writes them in: replaced at once
                p, i = single
                found = _REF_STYLE.findall(tail)
                if len(found) == len(cols) - k and all(
                        (j := p.col_pos.get(col_number(x))) is not None
                        and p.kinds[j][i] == VALUE and p.style(j, i) == (int(st) if st else None)
                        for x, st in found):
                    return tag + content[:at] + _prefixed(p.joined(i), prefix).encode() + closing
            if at > 0:
                pieces.append((-1, content[:at]))
                pos = at
    for m in _CELL.finditer(content, pos):
        attrs = m.group(1)
        ref = _ATTR_R.search(b" " + attrs)
        col = col_number(ref.group(1)) if ref is not None else 0
        hit = cells.get(col)
        cleared = any(c1 <= col <= c2 for c1, c2 in blank)
        if hit is None and not cleared:
            pieces.append((col, content[pos:m.end()]))
            pos = m.end()
            continue
        if _FORMULA.search(m.group(2) or b"") is not None:
            on_formula()
        s = _ATTR_S.search(b" " + attrs)
        old = int(s.group(1)) if s is not None else None
        if hit is None or hit[0].kind(hit[1], hit[2]) != VALUE:
            xml = f'<c r="{letters(col)}{r}"' + (f' s="{old}"' if old is not None else "") + "/>"
        else:
            p, j, i = hit
            xml = p.render(j, i, f"{letters(col)}{r}", old)
        pieces.append((col, content[pos:m.start()] + _prefixed(xml, prefix).encode()))
        done.add(col)
        pos = m.end()
    rest = content[pos:]
    for col, (p, j, i) in cells.items():
        if col not in done and p.kind(j, i) == VALUE:
            pieces.append((col, _prefixed(p.cell(j, i, f"{letters(col)}{r}"), prefix).encode()))
    pieces.sort(key=lambda x: x[0])
    return tag + b"".join(b for _c, b in pieces) + rest + closing
