"""The backtest's files, without Excel: `potentiel backtest FILE --last LAST`.

The headless front end of `potentiel.review.backtest` and `potentiel.review.weights`:

- **last year** (`read_last_year`): a workbook scored last year (its Accounts with
  Potentiel's own Score, Category, Profile and ``Score: <criterion>`` columns, found by
  their ownership markers, read as `potentiel.headless` reads a workbook; its date is the
  last run of its Log), a CSV or Parquet file scored by ``potentiel score`` (its output
  block), a snapshot file (columns ``account``, ``score``, ``category``, optionally
  ``profile``, ``date`` …: one snapshot per date), or a History file (the run about a
  year before its latest); without ``--last``, FILE's own history of runs (its History
  sheet or History file: `history_snapshot`);
- **this year** (`backtest_file`): FILE is read and scored as ``potentiel score`` reads it
  (Settings, rule file, Sales sheet): its accounts give revenue N and N-1, its run the
  current weights and categories; ``--revenue LINES`` takes revenue N and N-1 from
  invoice lines instead (`potentiel.sources.invoices`);
- **written**: the Backtest sheet (Rétrospective in French) in FILE (in place, the
  previous version kept as NAME.backup.xlsx) or in OUT, with its chart of the lift per
  category when the sheet is created. Nothing else of the workbook changes: every part
  Potentiel does not own is checked unchanged in the file written, as ``score`` does. A
  CSV or Parquet FILE gets the report in the terminal only.

A front end: it sits beside `potentiel.headless` (whose reading and writing it calls) and
keeps the review's own modules free of file formats.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from ..i18n import _, use_language
from ..problems import Problem, UserError
from .backtest import (BACKTEST_SHEET, LIFT_COL, MAX_CATEGORIES, STYLED_ROWS, TABLE_ROW,
                       Backtest,
                       Snapshot, backtest_blocks, revenue_from_lines, revenue_from_result,
                       run_backtest, snapshot_from_history, snapshot_from_scored,
                       snapshots_from_frame, year_before)
from .weights import Proposal, pick_older, suggest_weights

SNAPSHOT_HEADERS = {"account", "score", "category"}
HISTORY_HEADERS = {"run", "left", "model"}  # a History file's kept table has these too


@dataclass
class Outcome:
    """What `backtest_file` did: the backtest, the suggested weights, the file written
    (None: nothing written) and the run's language."""

    backtest: Backtest
    proposals: list[Proposal]
    target: Path | None
    language: str
    notices: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------------------- last year

def read_last_year(path: str | Path) -> list[Snapshot]:
    """The snapshots a file holds, oldest first (see the module). Raises `UserError`."""
    from ..sources.filekind import source_of
    path = Path(path)
    kind = source_of(path)
    if kind == "workbook":
        return [_from_workbook(path)]
    if kind == "csv":
        from ..sources import csv as csv_source
        got = csv_source.read_csv(path)
        records = got.records
        for h, rec in enumerate(records[:20]):
            names = {_norm(c) for c in rec if c is not None}
            if SNAPSHOT_HEADERS | HISTORY_HEADERS <= names:
                return [_from_history_file(path)]
            if SNAPSHOT_HEADERS <= names:
                return _from_records(path, records[h], records[h + 1:], h + 1, got.notices)
        raw, notices = csv_source.read_accounts_file(path)
        snap = snapshot_from_scored(raw, path.name)
        snap.problems[:0] = notices
        return [snap]
    from ..sources import parquet as parquet_source
    table = parquet_source.read_arrow(path)
    if SNAPSHOT_HEADERS | HISTORY_HEADERS <= {_norm(c) for c in table.column_names}:
        return [_from_history_file(path)]
    if SNAPSHOT_HEADERS <= {_norm(c) for c in table.column_names}:
        frame = table.to_pandas()
        return snapshots_from_frame(frame, path.name, _cells(path.name, list(frame.columns), 1))
    raw, notices = parquet_source.read_accounts_file(path)
    snap = snapshot_from_scored(raw, path.name)
    snap.problems[:0] = notices
    return [snap]


def _from_history_file(path: Path) -> Snapshot:
    """A History file given as last year's: its runs kept in full are one run per day,
    the latest this year's; the one about a year before it is last year's."""
    from .history import read_file
    return history_snapshot(read_file(path), path.name, path.name,
                            _("give last year's scored workbook with --last instead"))


def history_snapshot(history: Any, source: str, place: str, fix: str) -> Snapshot:
    """Last year's snapshot from a history of runs (`potentiel.review.history.History`:
    a workbook's History sheet or History file), through `read_history` (of the run
    `year_before` picks: sixty runs of a large portfolio are not laid out in full) and
    `snapshot_from_history`; what reading the history decided joins its notes.
    ``source``: the workbook's name; ``place``: the sheet's or file's; ``fix``: what to do
    when no run is about a year old. Raises `UserError`."""
    from .history import History, read_history
    runs = pd.DataFrame({"run": [r.run for r in history.runs],
                         "date": [r.date for r in history.runs]})
    run = year_before(runs)[0]  # only that run's snapshot is read in full
    kept = History([r for r in history.runs if r.run == run],
                   {k: v for k, v in history.snapshots.items() if k == run})
    try:
        snap = snapshot_from_history(read_history(kept), source, place, fix, runs)
    except UserError as exc:
        raise UserError([*history.notices, *exc.problems]) from None
    snap.problems[1:1] = history.notices
    return snap


def _norm(text: Any) -> str:
    from ..fields import normalise
    return normalise(text)


def _cells(name: str, columns: list[Any], header_row: int):
    from ..problems import column_letter
    letters = {str(c): column_letter(j + 1) for j, c in enumerate(columns)}
    return lambda i, col: f"{name}!{letters.get(col, '?')}{header_row + 1 + i}"


def _from_records(path: Path, header: list[Any], rows: list[list[Any]], header_row: int,
                  notices: list[Problem]) -> list[Snapshot]:
    names = [str(h).strip() if h is not None else f"column {j + 1}" for j, h in enumerate(header)]
    width = len(names)
    rows = [list(r[:width]) + [None] * (width - len(r)) for r in rows
            if any(v is not None for v in r)]
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    snaps = snapshots_from_frame(frame, path.name, _cells(path.name, names, header_row))
    snaps[-1].problems[:0] = notices
    return snaps


def _from_workbook(path: Path) -> Snapshot:
    from ..headless import Workbook, _unexpected, read_accounts, read_settings_rows
    from ..fields import Catalogue
    from ..sources.headers import column_map_rows
    wb = Workbook(path)
    try:
        with _unexpected(path):
            settings = read_settings_rows(wb)
            area, raw = read_accounts(wb, settings)
            when = _last_run(wb)
        catalogue = Catalogue.build()
        try:
            mapped, _where = column_map_rows(settings, catalogue)
        except UserError:
            mapped = {}
        if mapped:
            raw = replace(raw, column_map=mapped)
        snap = snapshot_from_scored(raw, path.name, when, catalogue)
        snap.problems[:0] = wb.notices
        return snap
    finally:
        wb.package.close()


def _last_run(wb: Any) -> dt.datetime | None:
    """The time of the last run in the workbook's Log (None without a Log)."""
    from ..sheetnames import LOG_SHEET
    ref = wb.owned_ref(LOG_SHEET)
    if ref is None:
        return None
    times = [r[0] for r in wb.values(ref)[1:] if r and isinstance(r[0], (dt.datetime, dt.date))]
    if not times:
        return None
    last = max(times)
    return last if isinstance(last, dt.datetime) else dt.datetime(last.year, last.month, last.day)


def order_snapshots(snapshots: Sequence[Snapshot]) -> tuple[list[Snapshot], list[Problem]]:
    """Oldest first: by date when every snapshot has one, else in the order given (the
    last given is last year's, said when there are several)."""
    snaps = list(snapshots)
    notes: list[Problem] = []
    if len(snaps) > 1:
        if all(s.when is not None for s in snaps):
            snaps.sort(key=lambda s: s.when)
        else:
            notes.append(Problem(_("some snapshots have no date: they are taken in the order "
                                   "given, the last one as last year's ({last})").format(
                                       last=snaps[-1].label), "", level="notice",
                                 kind="snapshot-order"))
    return snaps, notes


# ---------------------------------------------------------------------------- the run

def backtest_file(path: str | Path, last: Sequence[str | Path], *,
                  revenue: str | Path | None = None, out: str | Path | None = None,
                  rules: str | None = None, plugin_dirs: Iterable[str] = (),
                  write: bool = True) -> Outcome:
    """Backtest last year's snapshot(s) ``last`` against this year's FILE ``path`` (and
    ``revenue``: invoice lines), write the Backtest sheet to ``out`` or in place (a
    workbook; ``write=False`` writes nothing). ``last`` empty: the workbook's own history
    of runs gives last year's snapshot (`history_snapshot`). Raises `UserError`."""
    from ..sources.filekind import source_of
    path = Path(path)
    kind = source_of(path)
    if not last and kind != "workbook":
        raise UserError(_("{name} keeps no history of its own: give last year's scored file, "
                          "snapshot file or History file with --last").format(name=path.name))
    if kind != "workbook":
        if out is not None:
            raise UserError(_("{out}: the Backtest sheet is written into a workbook, and "
                              "{path} is not one; leave out -o to print the backtest").format(
                                  out=out, path=path.name))
        return _tabular(path, last, revenue, rules, plugin_dirs)
    return _workbook(path, last, revenue, out, rules, plugin_dirs, write)


def _tabular(path: Path, last: Sequence[str | Path], revenue: str | Path | None,
             rules: str | None, plugin_dirs: Iterable[str]) -> Outcome:
    from ..pipeline import run_language, score_tables
    from ..sources import csv as csv_source
    from ..sources import parquet as parquet_source
    from ..sources.filekind import source_of
    reader = csv_source if source_of(path) == "csv" else parquet_source
    raw, _notices = reader.read_accounts_file(path)
    lang = run_language((), raw.headers)
    with use_language(lang):
        raw, notices = reader.read_accounts_file(path)
        result = score_tables(raw, (), rules=rules, plugin_dirs=plugin_dirs,
                              base_dir=path.parent)
        bt, proposals = compute(result, raw, path, last, revenue, [])
        bt.problems[:0] = notices
    return Outcome(bt, proposals, None, lang)


def compute(result: Any, raw: Any, path: Path, last: Sequence[str | Path | Snapshot],
             revenue: str | Path | None, settings: list) -> tuple[Backtest, list[Proposal]]:
    """The backtest and the suggested weights: last year's files ``last`` (or snapshots
    already read, such as `history_snapshot`'s) against this year's run (``result`` of the
    accounts ``raw`` read from ``path``; ``revenue``: invoice lines instead, read with the
    ``settings`` rows). In the run's language (the caller enters it). Raises `UserError`."""
    from ..config import criterion_word
    snaps: list[Snapshot] = []
    for p in last:
        snaps.extend([p] if isinstance(p, Snapshot) else read_last_year(p))
    snaps, notes = order_snapshots(snaps)
    latest = snaps[-1]
    if revenue is not None:
        rev = _lines_revenue(revenue, settings, result)
    else:
        rev = revenue_from_result(result, raw, path.name)
    bt = run_backtest(latest, rev, result.config.categories, result.profiles)
    bt.problems[:0] = notes
    older, why = pick_older(snaps, latest)
    current = {k: v for k, v in result.weighted.weights.items()}
    profile_weights = {}
    if result.profiles is not None:
        from ..profiles import weights_of
        profile_weights = {p.name: weights_of(p, current) for p in result.profiles.profiles}
    proposals = suggest_weights(bt, current, profile_weights, older, why, label=criterion_word)
    return bt, proposals


def _lines_revenue(lines_path: str | Path, settings: list, result: Any):
    from ..config import read_settings
    from ..headless import read_sales_file
    from ..sources import invoices
    raw, notices = read_sales_file(lines_path)
    overrides, _unknown = read_settings(settings, set(result.criteria))
    lines = invoices.read_lines(raw, invoices.line_settings(overrides.values, overrides.where))
    rev = revenue_from_lines(lines, Path(lines_path).name)
    rev.problems[:0] = notices
    return rev


def _workbook(path: Path, last: Sequence[str | Path], revenue: str | Path | None,
              out: str | Path | None, rules: str | None, plugin_dirs: Iterable[str],
              write: bool) -> Outcome:
    from ..headless import (Workbook, _listed, _unexpected, check_output, read_accounts,
                            read_in_language)
    from ..pipeline import score_tables
    from ..savefile import backup_path, save_atomic
    target = Path(out) if out else path
    in_place = target.resolve() == path.resolve()
    if write:
        check_output(path, target)
    wb = Workbook(path)
    language = contextlib.ExitStack()
    try:
        settings, lines, _area, raw, reps, lang = read_in_language(
            wb, path, None, language, lambda wb, settings, lines: read_accounts(wb, settings))
        if not last:  # the workbook's own history: the run about a year before the last
            last = [_own_history(wb, settings, path)]
        result = score_tables(raw, settings, reps, rules=rules, plugin_dirs=plugin_dirs,
                              base_dir=path.parent, sales=lines)
        bt, proposals = compute(result, raw, path, last, revenue, settings)
        if not write:
            return Outcome(bt, proposals, None, lang)
        blocks = backtest_blocks(bt, proposals)
        with _unexpected(path):
            write_backtest_sheet(wb, blocks)
            notices = list(wb.notices)
            owned, removable = _owned(wb)
            wb.finish()
        lost: list[str] = []

        def save(tmp: str) -> None:
            wb.package.write(tmp)
            lost.extend(wb.package.lost_parts(tmp, owned, removable))
            if lost and in_place:
                raise UserError(_("{path}: writing in place would drop or change parts "
                                  "Potentiel does not own ({listed}); the workbook is left as "
                                  "it was: write to another file with -o OUT").format(
                                      path=path, listed=_listed(lost)))

        save_atomic(save, target, backup=backup_path(path) if in_place else None)
        if lost:
            notices.append(Problem(_("{target} lacks or changed parts of {name} that "
                                     "Potentiel does not own ({listed}); the original is "
                                     "unchanged").format(target=target, name=path.name,
                                                         listed=_listed(lost))))
        bt.problems.extend(notices)
        return Outcome(bt, proposals, target, lang, notices)
    finally:
        language.close()
        wb.package.close()


def _own_history(wb: Any, settings: list, path: Path) -> Snapshot:
    """Last year's snapshot from the workbook's History file (the one Settings name) or
    its History sheet. Raises `UserError` naming --last when no run is a year old."""
    from ..headless import _history_path, _read_kept, _unexpected
    from ..sheetnames import HISTORY_SHEET
    with _unexpected(path):
        file = _history_path(settings, path.parent, None)
        history = _read_kept(wb, file)[0]
    if file is not None and file.exists():
        place = file.name
    else:
        ref = wb.owned_ref(HISTORY_SHEET)
        place = ref.name if ref is not None else _(HISTORY_SHEET)
    return history_snapshot(history, path.name, place,
                            _("give last year's scored workbook with --last LAST"))


def _owned(wb: Any) -> tuple[set[str], set[str]]:
    """The parts this run may change: the Backtest sheet (and its relationships), the
    workbook's part, relationships and content types, the styles; the calculation chain
    may go."""
    pkg = wb.package
    ref = wb.owned_ref(BACKTEST_SHEET)
    owned = {pkg.workbook_part, pkg.rels_name(pkg.workbook_part), "[Content_Types].xml",
             wb.styles.part, *wb.renamed_parts}
    if ref is not None:
        owned |= {ref.part, pkg.rels_name(ref.part)}
    removable = set(pkg.calc_chain_parts())
    return owned | removable, removable


# ---------------------------------------------------------------------------- the sheet

def _restyle(wb: Any, sheet: Any, blocks: list) -> None:
    """The formats of the fixed rows as this run's blocks say (the default format where
    they say none), as `potentiel.headless` gives a new sheet its formats."""
    first, last = STYLED_ROWS
    width = max(len(r) for b in blocks for r in b.values)
    styles = {(r, c): 0 for r in range(first, last + 1) for c in range(1, width + 1)}
    for b in blocks:
        for part in b.formats or ():
            look = wb.styles.look(None, part.look)
            for i in range(part.rows):
                for j in range(part.cols):
                    rc = (b.row + part.row + i, b.col + part.col + j)
                    if first <= rc[0] <= last:
                        styles[rc] = look
    sheet.set_styles(styles)


def sheet_look():
    from ..sheet_styles import SheetLook
    return SheetLook(widths={1: 30, 2: 18, **{c: 14 for c in range(3, 11)}})


def lift_chart():
    """The chart of the lift per category of the sheet's first table."""
    from ..sheet_styles import Chart
    return Chart(first_row=TABLE_ROW + 2, last_row=TABLE_ROW + 1 + MAX_CATEGORIES,
                 labels_col=2, values_col=LIFT_COL, number_format="0.00", anchor_col=11,
                 anchor_row=TABLE_ROW - 1, cols=7, rows=15)


def write_backtest_sheet(wb: Any, blocks: list) -> None:
    """The blocks on Potentiel's Backtest sheet of a headless `Workbook`, their formats
    set again on the fixed rows (`STYLED_ROWS`: an unused table slot is plain); a sheet
    this run creates gets the lift chart (a column chart over the first table)."""
    from ..headless import write_blocks
    from ..report import plain
    from ..xlsxchart import column_chart_xml, drawing_xml
    sheet = wb.sheet_for(BACKTEST_SHEET)
    created = sheet.part in wb.created
    write_blocks(wb, BACKTEST_SHEET, blocks, sheet_look())
    if not created:
        _restyle(wb, sheet, blocks)
        return
    chart = lift_chart()
    table = next(b for b in blocks if b.row == TABLE_ROW)
    head = table.values[1]
    rows = table.values[2:2 + MAX_CATEGORIES]

    def at(line: list, col: int) -> Any:
        return plain(line[col - 1]) if col - 1 < len(line) else None

    name = next(s.name for s in wb.package.sheets if s.part == sheet.part)
    xml = column_chart_xml(name, chart, [at(r, chart.labels_col) for r in rows],
                           [at(r, chart.values_col) for r in rows], TABLE_ROW + 1,
                           str(at(head, chart.values_col) or ""))
    rid = wb.package.add_chart(sheet.part, xml, drawing_xml(chart.anchor_col, chart.anchor_row,
                                                           chart.cols, chart.rows))
    sheet.add_drawing(rid)
