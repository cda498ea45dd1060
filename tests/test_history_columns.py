"""History, Changes and the Reading sheet's check are built and written a column at a time
(issue 13): what they keep must stay what the row-by-row version kept, so that a workbook
scored before is read right. The row-by-row versions (as they were before the change) are
written out below and compared with the columnar ones on varied values, and a workbook
whose History sheet and check were written that way is scored again."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from helpers import own_sheet, write_workbook
from potentiel.excel_io import prepare_block, prepare_cell, prepare_column, prepare_rows
from potentiel.report import Rows, plain
from potentiel.review import history as H
from potentiel.sources import fingerprint as F
from review_cases import HEADERS, ROWS, RULES


# --------------------------------------------------------------------------- as it was

def old_digests(values) -> np.ndarray:
    """The check's digests as the row-by-row version computed them."""
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values, dtype=object)
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), None, arr.astype(object))
    codes, uniques = pd.factorize(arr.astype(object), use_na_sentinel=False)
    norm = np.array([F._norm(v) for v in uniques], dtype=object)
    hashed = (pd.util.hash_array(norm, categorize=True) & 0xFFFF).astype(np.uint16)
    return np.char.mod("%04x", hashed)[codes]


def old_output_check(outputs: pd.DataFrame, row_numbers: list[int]) -> list[list]:
    from potentiel.sources.ownership import key_of
    positions = outputs.index.to_numpy()
    n = max(len(row_numbers), int(positions.max()) + 1 if len(positions) else 0)
    rows = list(row_numbers)
    last = rows[-1] if rows else 1
    rows += [last + k for k in range(1, n - len(rows) + 1)]
    at = np.full(n, -1)
    at[positions] = np.arange(len(outputs))
    missing = at < 0
    checks = np.full(n, "", dtype=object)
    for name in outputs.columns:
        values = outputs[name].to_numpy(dtype=object)
        taken = values[np.where(missing, 0, at)].copy()
        taken[missing] = None
        checks = checks + old_digests(taken).astype(object)
    return [[F.CHECK_TITLE, "|".join(key_of(c) for c in outputs.columns)],
            *map(list, zip(rows, checks.tolist()))]


def old_encode(history: H.History) -> list[list]:
    """The kept table's lines as the row-by-row version wrote them on the History sheet."""
    def comparable(frame: pd.DataFrame) -> np.ndarray:
        grid = frame[list(H.FIELDS)].to_numpy(dtype=object).copy()
        grid[pd.isna(grid)] = None
        return grid

    lines, state = [], None
    for r in history.runs:
        snap = history.snapshots[r.run]
        lines.append([r.run, r.date, None, None, None, None, None, None, None,
                      r.rules_file or None, json.dumps(r.model, ensure_ascii=False,
                                                       sort_keys=True)])
        if state is None:
            changed = np.ones(len(snap), dtype=bool)
        else:
            have = set(state.index)
            known = np.array([k in have for k in snap.index], dtype=bool)
            same_values = (comparable(state.reindex(snap.index)) == comparable(snap)).all(axis=1)
            changed = ~(known & same_values)
        for key, values in zip(snap.index[changed], comparable(snap)[changed]):
            lines.append([r.run, r.date, key, *values, None, None, None])
        if state is not None:
            now = set(snap.index)
            lines += [[r.run, r.date, key, None, None, None, None, None, True, None, None]
                      for key in state.index if key not in now]
        state = snap
    return [[plain(v) for v in line] for line in lines]


def snapshot_frame(seed: int, n: int = 300) -> pd.DataFrame:
    rng = random.Random(seed)
    ids = [f"A{i}" for i in range(n) if rng.random() > 0.05] + ["007", "1001"]
    return pd.DataFrame({
        "run": 0, "date": pd.Timestamp("2026-01-01"), "account": ids,
        "score": [rng.choice([np.nan, round(rng.random() * 100, 1)]) for _ in ids],
        "category": [rng.choice(["A", "B", None]) for _ in ids],
        "profile": [rng.choice([None, "p"]) for _ in ids],
        "flags": [rng.choice([None, "x, y", "=odd"]) for _ in ids],
        "rules": [rng.choice([None, "r1", "r1, r2"]) for _ in ids]})


def kept(runs: int) -> H.History:
    history = H.History()
    for k in range(runs):
        run = H.Run(k + 1, dt.datetime(2026, 1 + k, 3, 9, 30), "rules.yaml" if k % 2 else "",
                    {"letters": ["A", "B", "C", "D"], "k": k, "é": "ü"})
        history.add(snapshot_frame(k), run, H.DEFAULT_RUNS, H.MAX_SHEET_ROWS, 1000)
    return history


def same(a, b) -> bool:
    """Equal values of the same type, NaN equal to NaN."""
    return type(a) is type(b) and (a == b or (a != a and b != b))


# --------------------------------------------------------------------------- the check

def varied_columns(n: int = 400) -> dict[str, object]:
    rng = random.Random(13)
    pick = lambda pool: [rng.choice(pool) for _ in range(n)]  # noqa: E731
    return {
        "score": np.array(pick([np.nan, 0.0, -0.0, 1.0, 12.5, 1 / 3, 2.675, 1e15, 1e16, 1e22,
                                123456789.123456789, 5e-324, np.inf])),
        "count": np.array(pick([0, 1, 7, -3, 10 ** 12])),
        "flag": np.array(pick([True, False])),
        "text": np.array(pick(["A", " A ", "", "  ", None, "=x", "é", "a\nb", np.nan]),
                         dtype=object),
        "mixed": np.array(pick([1, 1.0, "1", True, None, 2.5, "x", 10 ** 20, 2 ** 63 + 1]),
                          dtype=object),
        "str dtype": pd.Series(pick(["a", None, "b ", ""]), dtype="str"),
        "string": pd.Series(pick(["a", None, "=b", ""]), dtype="string"),
    }


def test_digests_are_those_kept_before_for_every_kind_of_value():
    for name, values in varied_columns().items():
        as_objects = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else \
            np.asarray(values).astype(object)
        want = old_digests(as_objects)
        assert (F.digests(values) == want).all(), name
        assert (F.digests(as_objects) == want).all(), name
    # pinned: what every earlier version wrote (a change here breaks every check kept)
    assert F.check_block(["score", "why"], [2, 3], [[45.2, None], ["a", "b"]]) == \
        [[F.CHECK_TITLE, "score|why"], [2, "5003bfd0"], [3, "3a461edf"]]


def test_the_check_of_a_run_is_the_one_kept_before():
    columns = varied_columns()
    outputs = pd.DataFrame({k: (v.to_numpy() if isinstance(v, pd.Series) else v)
                            for k, v in columns.items()})
    outputs = outputs.astype({"str dtype": "str", "string": "string"})
    outputs.index = sorted(random.Random(2).sample(range(450), len(outputs)))  # rows without
    rows = list(range(2, 2 + 440))                                             # an account
    assert F.output_check(outputs, rows) == old_output_check(outputs, rows)
    head, (numbers, checks) = F.output_check_columns(outputs, rows)
    assert numbers.dtype.kind == "i" and len(checks) == len(numbers) == 450


# --------------------------------------------------------------------------- the History sheet

def test_the_kept_table_and_the_history_sheet_are_those_written_before():
    history = kept(4)
    table = H.encode(history)
    want = old_encode(history)
    got = [[plain(v) for v in line] for line in
           table.astype(object).where(table.notna(), None).to_numpy().tolist()]
    got = [[v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in line]
           for line in got]
    assert len(got) == len(want)
    assert all(all(same(a, b) for a, b in zip(g, w)) for g, w in zip(got, want))
    header, body = H.sheet_blocks(history, H.DEFAULT_RUNS)[1].values[0], \
        H.sheet_blocks(history, H.DEFAULT_RUNS)[1].values[1:]
    assert header == [H._(h) for h in H.HEADERS]
    assert all(all(same(a, b) for a, b in zip(g, w)) for g, w in zip(body, want))
    # and what the sheet gives back is the history kept
    back = H.from_grid([[None]] * 3 + [header, *want])
    assert [r.run for r in back.runs] == [1, 2, 3, 4]
    for r in history.runs:
        pd.testing.assert_frame_equal(back.snapshots[r.run].sort_index(),
                                      history.snapshots[r.run].sort_index())


def test_a_workbook_whose_history_and_check_were_written_row_by_row_is_read_right(tmp_path):
    from potentiel.headless import score_file
    from potentiel.review.history import read_history
    (tmp_path / "two.yaml").write_text(RULES, encoding="utf-8")
    path = write_workbook(tmp_path / "book.xlsx", HEADERS, ROWS,
                          settings=[("Rules file", "two")])
    score_file(path, when=dt.datetime(2026, 3, 5, 9, 0))
    # The History sheet rewritten as the row-by-row version wrote it, for two earlier runs
    # in which P1 was C then D, P2 left, and "P9" was there; the check rewritten likewise.
    history = H.History()
    for k, (p1, extra) in enumerate((("C", True), ("D", False))):
        snap = pd.DataFrame({"account": ["P1", "P2", "P3"] + (["P9"] if extra else []),
                             "score": [30.0 - k, 50.0, 100.0] + ([10.0] if extra else []),
                             "category": [p1, "B", "A"] + (["D"] if extra else []),
                             "profile": None, "flags": None, "rules": None})
        history.add(snap, H.Run(k + 1, dt.datetime(2026, 1 + k, 12, 9, 0), "two",
                                {"letters": ["A", "B", "C", "D"]}))
    wb = openpyxl.load_workbook(path)
    ws = wb[own_sheet(path, "History")]
    for row in ws.iter_rows(min_row=H.TABLE_ROW + 1):
        for cell in row:
            cell.value = None
    for i, line in enumerate(old_encode(history)):
        for j, v in enumerate(line):
            ws.cell(row=H.TABLE_ROW + 1 + i, column=j + 1).value = v
    accounts = wb["Accounts"]
    header = [c.value for c in accounts[1]]
    from potentiel.sources.ownership import key_of
    reading = wb[own_sheet(path, "Reading")]
    keys = str(reading.cell(row=1, column=F.CHECK_COL + 1).value).split("|")
    columns = {key_of(h): j for j, h in enumerate(header) if h is not None}
    outputs = pd.DataFrame({k: [accounts.cell(row=r, column=columns[k] + 1).value
                                for r in range(2, 2 + len(ROWS))] for k in keys})
    outputs.columns = [k for k in keys]
    grid = old_output_check(outputs, list(range(2, 2 + len(ROWS))))
    for i, (number, check) in enumerate(grid[1:]):
        reading.cell(row=2 + i, column=F.CHECK_COL).value = number
        reading.cell(row=2 + i, column=F.CHECK_COL + 1).value = check
    accounts.cell(row=3, column=header.index("Score") + 1).value = 12.3  # typed over, on P2
    wb.save(path)
    result = score_file(path, when=dt.datetime(2026, 4, 2, 9, 0))[0]
    edits = [(p.where, p.column) for p in result.warnings if p.kind == "hand-edit"]
    assert edits == [("Accounts!" + openpyxl.utils.get_column_letter(
        header.index("Score") + 1) + "3", "Score")]
    frame = read_history(path)
    assert sorted(set(frame["run"])) == [1, 2, 3]
    runs = {r: g.set_index("account")["category"].to_dict() for r, g in frame.groupby("run")}
    assert runs[1] == {"P1": "C", "P2": "B", "P3": "A", "P9": "D"}
    assert runs[2] == {"P1": "D", "P2": "B", "P3": "A"}
    assert runs[3]["P1"] == "B" and len(runs[3]) == len(ROWS)
    changes = openpyxl.load_workbook(path)[own_sheet(path, "Changes")]
    moved = {r[0]: r[6] for r in changes.iter_rows(min_row=H.CHANGES_TABLE_ROW + 1,
                                                   values_only=True) if r[0]}
    assert moved["P1"] == "up" and moved["P4"] == "new"


# --------------------------------------------------------------------------- xlwings' cells

def test_blocks_prepared_a_column_at_a_time_are_the_cells_prepared_one_by_one():
    rng = random.Random(7)
    pool = [None, "", "abc", "=SUM(A1)", "+x", " lead", 1, 1.0, True, False, 0, 2.5, math.nan,
            math.inf, np.float64(3.5), np.int64(4), dt.datetime(2026, 1, 2, 3, 4, 5),
            dt.datetime(2026, 1, 2), dt.date(2025, 5, 1), pd.Timestamp("2026-01-01 10:00"),
            pd.NaT, "x" * 40000, "-1", "@a", "007"]
    for _ in range(300):
        ncols = rng.randint(1, 5)
        pools = [rng.sample(pool, rng.randint(1, 5)) for _ in range(ncols)]
        rows = [[rng.choice(p) for p in pools][:rng.randint(0, ncols)]
                for _ in range(rng.choice([3, 600]))]
        want, got = prepare_rows(rows), prepare_block(rows)
        assert [len(r) for r in got] == [len(r) for r in want]
        assert all(same(a, b) for w, g in zip(want, got) for a, b in zip(w, g))
        column = np.array([rng.choice(pools[0]) for _ in range(200)], dtype=object)
        assert all(same(prepare_cell(v), p) for v, p in zip(column, prepare_column(column)))
    held = Rows([["H1", "H2", "H3"], ["t"]], [np.array([1, 2]), np.array([1.5, np.nan]),
                                            np.array(["a", "=x"], dtype=object)])
    assert held == [["H1", "H2", "H3"], ["t"], [1, 1.5, "a"], [2, None, "=x"]]
    assert prepare_block(held) == prepare_rows(list(held)) == \
        [["H1", "H2", "H3"], ["t", "", ""], [1, 1.5, "a"], [2, "", "'=x"]]


def test_plain_texts_of_a_column_are_written_as_one_by_one():
    from potentiel.xlsxsheet import Sheet, _plain_tails, _s

    class Looks:  # the cell formats a text may take: the quote prefix only
        @staticmethod
        def variant(base, num_fmt=None, quote=False):
            return 99 if quote else base

    class Fake:
        styles = Looks

    rng = random.Random(3)
    plain_texts = [rng.choice("abc01é€&<") + "".join(rng.choice("abXY9&<>\"'. =\u00a0\t-+@\r")
                                                     for _ in range(rng.randint(0, 8)))
                   + rng.choice("xyz9>&") for _ in range(200)]
    uniques = np.array([*dict.fromkeys(plain_texts), None, 3.5], dtype=object)
    for base in (None, 5):
        head = f'"{_s(base)} t="inlineStr"><is><t>'
        quick = _plain_tails(uniques, head)
        assert quick is not None
        for v, q in zip(uniques, quick.to_pylist()):
            if isinstance(v, str):
                assert Sheet._cell_tail(Fake, v, base) == (base, q)
            else:
                assert q is None
    for odd in ("=x", "+x", "-1", "@a", "\tx", " x", "x ", "x\ny", "", "a\x01", "\u00a0x",
                "x\u2003", "x" * 40000, "a\x00b", "a\ufffeb", "a\uffffb", "a\x1fb",
                "\ud800x"):  # each needs the one-by-one path
        assert _plain_tails(np.array([*plain_texts, odd], dtype=object), "") is None, repr(odd)


def test_a_snapshot_is_kept_once_per_account_whatever_made_it():
    """A snapshot read back (from a History file, or carrying a snapshot's marks) keeps an
    account seen twice once, its first line; only a frame `snapshot` itself made is known
    to hold each account once."""
    import pandas as pd

    from potentiel.review import history as h
    frame = pd.DataFrame({"account": ["A", "B", "A"], "score": [1.0, 2.0, 3.0],
                          "category": ["A", "B", "C"], "profile": [None] * 3,
                          "flags": [None] * 3, "rules": [None] * 3})
    for marked in (False, True):
        if marked:  # pandas carries a frame's attrs to the frames made from it
            frame.attrs[h._CLEAN] = True
        got = h._indexed(frame)
        assert list(got.index) == ["A", "B"]
        assert got.loc["A", "score"] == 1.0 and got.loc["A", "category"] == "A"
