"""Backtest: did last year's categories predict this year's revenue?

Input, two tables (no file is read here; `potentiel.review.files` reads the files):

- **last year**, a `Snapshot`: one row per account with the columns ``account``, ``score``,
  ``category`` and, when known, ``profile``, ``date``, ``status`` and ``revenue`` (the
  revenue the account had when it was scored), plus per-criterion scores (``criteria``,
  0–100) for the suggested weights. A snapshot comes from a workbook scored last year
  (Potentiel's own Score, Category, Profile and ``Score: <criterion>`` columns, known by
  their ownership markers: `snapshot_from_scored`), from a snapshot frame
  (`snapshots_from_frame`: one snapshot per date), or from the workbook's own history of
  runs (`snapshot_from_history`: the run closest to a year before the latest, read from
  `potentiel.review.history.read_history`'s frame; the history keeps no criterion scores,
  so no weights are suggested from it);
- **this year**, a `Revenue`: revenue N per account id and, when known, revenue N-1 (the
  Accounts sheet as a run reads it: `revenue_from_result`; or invoice lines:
  `revenue_from_lines`).

Output, a `Backtest`: per category (in the order of the run's categories, then the
accounts without one), accounts, revenue N-1 and N, growth, share of accounts, share of
revenue N, **lift** (share of revenue N ÷ share of accounts: 1.0 is the average account,
2.0 twice the average), revenue N per account; whether the lifts fall from the first
category to the last (A > B > C > D) and, where they do not, which pair breaks it; the
Spearman rank correlation of last year's score with revenue N (one-sided: did a higher
score go with more revenue?); and for last year's prospects, suspects and former clients,
the conversion rate per category (revenue N above 0). With profiles, each profile has its
own table (its own categories mean something else); without, one table for all accounts.

Every choice about the data is a `Problem` with its cell: accounts of last year not found
this year (left out, unless the invoice lines say they bought nothing), blank revenue N
(counted as 0), duplicate ids (the first kept), negative revenue (counted as 0).

`backtest_blocks` lays the result out on the Backtest sheet at fixed rows (`STYLED_ROWS`:
the front ends set the formats of those rows again on every run, so a table slot left
unused keeps no stale format); `backtest_lines` is the same for the terminal.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..fields import Catalogue, normalise
from ..i18n import N_, _
from ..problems import Problem, UserError
from ..report import Block
from ..sheetnames import BACKTEST_SHEET  # noqa: F401  (re-exported for the front ends)
from ..validate import cell_text

NON_CLIENTS = ("prospect", "suspect", "former")  # last year's status: a conversion to watch
SNAPSHOT_COLUMNS = ("account", "score", "category", "profile", "date")
MIN_RANKED = 3      # accounts needed for a rank correlation
SIGNIFICANT = 0.05  # one-sided p-value below which the score "predicted" revenue
YEAR_GAP_DAYS = (270, 460)  # days between two runs that count as "a year apart" (9–15 months)

# The sheet's fixed layout (rows, 1-based): tables of MAX_TABLES groups, then the
# conversion table, the suggested weights and the notes. The chart reads the first table.
MAX_CATEGORIES = 6
TABLE_ROW = 4
TABLE_HEIGHT = 13       # title, header, 6 categories, no category, all, order, Spearman, blank
MAX_TABLES = 4
CONVERSION_ROW = TABLE_ROW + MAX_TABLES * TABLE_HEIGHT
WEIGHTS_ROW = CONVERSION_ROW + MAX_CATEGORIES + 5
MAX_CRITERIA = 20
MAX_PROPOSALS = 4
NOTES_ROW = WEIGHTS_ROW + 3 + MAX_CRITERIA + 3 + MAX_PROPOSALS + 1
STYLED_ROWS = (TABLE_ROW, NOTES_ROW - 1)  # the rows whose formats every run sets again
TABLE_HEADER = (N_("Category"), N_("Label"), N_("Accounts"), N_("Revenue N-1"),
                N_("Revenue N"), N_("Growth"), N_("Share of accounts"),
                N_("Share of revenue N"), N_("Lift"), N_("Revenue N per account"))
LIFT_COL = TABLE_HEADER.index("Lift") + 1
CONVERSION_HEADER = (N_("Category"), N_("Label"), N_("Prospects last year"),
                     N_("With revenue N"), N_("Conversion rate"))


# ---------------------------------------------------------------------------- inputs

@dataclass
class Snapshot:
    """Last year's categories: ``frame`` (index 0…n-1) has ``account`` (text id),
    ``score`` (float, NaN when none), ``category`` (text or None) and ``profile``,
    ``date``, ``status`` (client / prospect / suspect / former), ``revenue`` (money, N
    as of then) when known (None / NaN otherwise); ``criteria`` the criterion scores
    (0–100, NaN unknown) on the same index; ``where`` the cell of each account's id."""

    frame: pd.DataFrame
    criteria: pd.DataFrame
    where: list[str]
    source: str
    when: dt.datetime | None = None
    problems: list[Problem] = field(default_factory=list)
    id_header: str = "account"

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def label(self) -> str:
        """``scored.xlsx (2025-01-15)``: the source and its date, as shown."""
        return f"{self.source} ({self.when:%Y-%m-%d})" if self.when else self.source


@dataclass
class Revenue:
    """This year's revenue per account id (text): ``n`` (revenue N, NaN blank) and ``n1``
    (revenue N-1, None when unknown); ``where`` id → the cell of its revenue N;
    ``complete``: an id absent from ``n`` bought nothing (invoice lines), else it is
    unknown (not in this year's Accounts)."""

    n: pd.Series
    n1: pd.Series | None
    where: dict[str, str]
    source: str
    complete: bool = False
    problems: list[Problem] = field(default_factory=list)
    header: str = "Revenue"


def _number(v: Any) -> float:
    """A cell as a number (NaN blank); raises ValueError for text that is no number."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return math.nan
    if isinstance(v, bool):
        raise ValueError(str(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    from ..numbers import parse_number
    return parse_number(str(v))


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def _numbers(values: Sequence[Any], cells: Sequence[str], header: str,
             problems: list[Problem]) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = _number(v)
        except ValueError:
            problems.append(Problem(_('"{value}" is not a number; read as blank').format(
                value=v), cells[i], kind="not-a-number", column=header))
    return out


def _status(v: Any) -> str | None:
    from ..validate import _status_of
    text = _text(v)
    return None if text is None else (_status_of(text) or text)


def snapshot_from_scored(raw: Any, source: str, when: dt.datetime | None = None,
                         catalogue: Catalogue | None = None) -> Snapshot:
    """Last year's categories from accounts scored by Potentiel (a `RawTable` whose
    ``owned`` columns are known by their markers): Score, Category, Profile and the
    ``Score: <criterion>`` columns as they were written, the id, status and revenue as a
    run reads them. Raises `UserError` when there is no Score and Category column of
    Potentiel's, or no id column."""
    from ..validate import validate
    keys = {raw.owned[c]: j for j, c in enumerate(raw.col_numbers) if c in raw.owned}
    if "score" not in keys or "category" not in keys:
        raise UserError(_("{source}: no Score and Category columns written by Potentiel "
                          "(they are known by their markers, which a scored workbook keeps); "
                          "give the workbook as it was scored last year, or a snapshot file "
                          "with the columns account, score, category").format(source=source))
    checked = validate(raw, catalogue or Catalogue.build())
    acc = checked.accounts
    if "id" not in acc:
        raise UserError(_("{source}: no account id column (Code client, Account id); the "
                          "backtest matches last year's accounts to this year's by id").format(
                              source=source), raw.sheet)
    problems = [p for p in checked.warnings if p.column and
                p.column in {str(raw.headers[checked.columns[f]]).strip()
                             for f in ("id", "status", "revenue") if f in checked.columns}]
    positions = list(acc.index)
    id_col = checked.columns["id"]
    where = [raw.cell(p, id_col) for p in positions]

    def column(key: str) -> list[Any]:
        j = keys[key]
        return [raw.rows[p][j] if j < len(raw.rows[p]) else None for p in positions]

    def header(key: str) -> str:
        return str(raw.headers[keys[key]]).strip()

    def cells(key: str) -> list[str]:
        return [raw.cell(p, keys[key]) for p in positions]

    frame = pd.DataFrame({
        "account": [cell_text(v) for v in acc["id"]],
        "score": _numbers(column("score"), cells("score"), header("score"), problems),
        "category": [_text(v) for v in column("category")],
        "profile": [_text(v) for v in column("profile")] if "profile" in keys
        else [None] * len(positions),
        "date": [when] * len(positions),
        "status": list(acc["status"]) if "status" in acc else [None] * len(positions),
        "revenue": acc["revenue"].to_numpy(dtype=float) if "revenue" in acc
        else np.full(len(positions), np.nan),
    })
    crit = {}
    for key in sorted(k for k in keys if k.startswith("score.")):
        crit[key[len("score."):]] = _numbers(column(key), cells(key), header(key), problems)
    criteria = pd.DataFrame(crit, index=frame.index)
    id_header = str(raw.headers[id_col]).strip()
    return Snapshot(frame, criteria, where, source, when, problems, id_header)


def _criterion_name(column: str) -> str | None:
    """``score.revenue`` or ``Score: revenue`` → ``revenue``; None for any other column."""
    text = str(column).strip()
    low = text.lower()
    for prefix in ("score.", "score:", "score :"):
        if low.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix):].strip()
    return None


def snapshots_from_frame(frame: pd.DataFrame, source: str,
                         cell: Callable[[int, str], str] | None = None) -> list[Snapshot]:
    """Snapshots from a snapshot frame (the history's compact record of runs, or a file of
    it): the columns ``account``, ``score``, ``category`` (any case), optionally
    ``profile``, ``date``, ``status``, ``revenue`` and criterion scores named
    ``score.<criterion>`` or ``Score: <criterion>``. One snapshot per date, oldest first
    (rows without a date make one undated snapshot when no row has one, else they are left
    out, said). ``cell(i, column)``: the cell of row ``i``'s value in ``column``, for the
    messages. Raises `UserError` naming the missing columns."""
    cols = {normalise(c): c for c in frame.columns}
    missing = [c for c in ("account", "score", "category") if c not in cols]
    if missing:
        raise UserError(_("{source}: a snapshot needs the columns account, score and category; "
                          "{missing} missing (columns here: {have})").format(
                              source=source, missing=", ".join(missing),
                              have=", ".join(str(c) for c in list(frame.columns)[:12])))
    n = len(frame)
    cell = cell or (lambda i, col: f"{source}!{col}{i + 2}")
    problems: list[Problem] = []

    def values(name: str) -> list[Any]:
        return frame[cols[name]].tolist() if name in cols else [None] * n

    def cells(name: str) -> list[str]:
        return [cell(i, str(cols.get(name, name))) for i in range(n)]

    out = pd.DataFrame({
        "account": [cell_text(v) for v in values("account")],
        "score": _numbers(values("score"), cells("score"), str(cols["score"]), problems),
        "category": [_text(v) for v in values("category")],
        "profile": [_text(v) for v in values("profile")],
        "status": [_status(v) for v in values("status")],
        "revenue": _numbers(values("revenue"), cells("revenue"), str(cols.get("revenue", "")),
                            problems) if "revenue" in cols else np.full(n, np.nan),
    })
    dates = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
    if "date" in cols:
        raw_dates = frame[cols["date"]]
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            parsed = pd.to_datetime(raw_dates, errors="coerce")
        bad = parsed.isna() & raw_dates.notna() & (raw_dates.astype(str).str.strip() != "")
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(_('"{value}" is not a date; the row is left out').format(
                value=raw_dates.iloc[i]), cell(int(i), str(cols["date"])), kind="not-a-date",
                column=str(cols["date"])))
        dates = pd.Series(parsed.to_numpy(), dtype="datetime64[ns]")
    out["date"] = dates
    crit = {}
    for c in frame.columns:
        name = _criterion_name(c)
        if name:
            crit[name] = _numbers(frame[c].tolist(), [cell(i, str(c)) for i in range(n)],
                                  str(c), problems)
    criteria = pd.DataFrame(crit, index=out.index)
    where = cells("account")
    id_header = str(cols["account"])
    dated = out["date"].notna()
    groups: list[tuple[dt.datetime | None, np.ndarray]] = []
    if not dated.any():
        groups.append((None, np.arange(n)))
    else:
        undated = np.flatnonzero(~dated.to_numpy())
        if "date" in cols:
            for i in undated:
                if not bad.iloc[i]:
                    problems.append(Problem(_("no date: the row is left out"),
                                            cell(int(i), str(cols["date"])), kind="no-date",
                                            column=str(cols["date"])))
        for when, idx in out[dated].groupby("date").groups.items():
            groups.append((pd.Timestamp(when).to_pydatetime(), np.asarray(idx)))
    snaps = []
    for when, idx in groups:
        sub = out.loc[idx].reset_index(drop=True)
        snaps.append(Snapshot(sub, criteria.loc[idx].reset_index(drop=True),
                              [where[i] for i in idx], source, when, [], id_header))
    snaps[-1].problems = problems  # said once, with the snapshot the backtest uses
    return snaps


def year_before(runs: pd.DataFrame) -> tuple[int | None, pd.DataFrame, np.ndarray]:
    """The run closest to a year before the latest: ``runs`` has a row per kept run
    (``run``, ``date``). Returns (that run's number, None when no run is between
    `YEAR_GAP_DAYS` before the latest; the runs sorted by date; the days from each earlier
    run to the latest)."""
    runs = runs.drop_duplicates("run")
    runs = runs.assign(date=pd.to_datetime(runs["date"])).sort_values(["date", "run"])
    if runs.empty:
        return None, runs, np.zeros(0)
    days = (runs["date"].iloc[-1] - runs["date"].iloc[:-1]).dt.days.to_numpy()
    fit = np.flatnonzero((days >= YEAR_GAP_DAYS[0]) & (days <= YEAR_GAP_DAYS[1]))
    if not len(fit):
        return None, runs, days
    return int(runs["run"].iloc[int(fit[np.argmin(np.abs(days[fit] - 365))])]), runs, days


def snapshot_from_history(frame: pd.DataFrame, source: str, place: str, fix: str,
                          runs: pd.DataFrame | None = None) -> Snapshot:
    """Last year's snapshot from a history of runs (the frame of
    `potentiel.review.history.read_history`: ``run``, ``date``, ``account``, ``score``,
    ``category``, ``profile`` …): the run closest to a year before the latest run, between
    `YEAR_GAP_DAYS` before it (`year_before`), read by `snapshots_from_frame`. Its label
    names the run and its date, and a notice says which run was taken and why.
    ``source``: the workbook or file (``portfolio.xlsx``); ``place``: where the history is
    kept (the History sheet's name, or the History file's); ``fix``: what to do when no
    run is old enough, ending the message; ``runs``: every kept run (``run``, ``date``)
    when ``frame`` holds only some of them (a large history need not be read in full),
    else ``frame``'s. Raises `UserError` (one line) when the history holds no run, or none
    about a year before the latest."""
    run, runs, days = year_before(frame[["run", "date"]] if runs is None else runs)
    if runs.empty:
        raise UserError(_("the history of runs of {source} keeps no run yet, so no "
                          "categories of a year ago; {fix}").format(source=source, fix=fix),
                        place)
    last, earlier = runs.iloc[-1], runs.iloc[:-1]
    if run is None:
        if len(earlier):
            k = int(np.argmin(np.abs(days - 365)))
            detail = _("the closest is run {run} of {date}, {days} days before it").format(
                run=int(earlier["run"].iloc[k]), date=f"{earlier['date'].iloc[k]:%Y-%m-%d}",
                days=int(days[k]))
        else:
            detail = _("it is the only run kept")
        raise UserError(_("the history of runs keeps no run about a year (9 to 15 months) "
                          "before its last one, run {run} of {date} ({detail}); {fix}").format(
                              run=int(last["run"]), date=f"{last['date']:%Y-%m-%d}",
                              detail=detail, fix=fix), place)
    when = runs.loc[runs["run"] == run, "date"].iloc[0]
    rows = frame[frame["run"] == run].reset_index(drop=True)
    where = _("{place}, run {run}").format(place=place, run=run)
    snap = snapshots_from_frame(rows, _("{source}, {place} run {run}").format(
        source=source, place=place, run=run), lambda i, col: where)[-1]
    snap.id_header = _("Account")
    snap.problems.insert(0, Problem(
        _("last year's categories are those of run {run} of {date} in the history, the "
          "run closest to a year before its last one (run {last} of {last_date})").format(
              run=run, date=f"{when:%Y-%m-%d}", last=int(last["run"]),
              last_date=f"{last['date']:%Y-%m-%d}"),
        place, level="notice", kind="history-run"))
    return snap


def revenue_from_result(result: Any, raw: Any, source: str) -> Revenue:
    """This year's revenue from a run's accounts (`pipeline.Result`): revenue N and N-1
    as the run read them (typed in Accounts, or filled from the invoice lines);
    ``raw``: the accounts as read (for the cells). Raises `UserError` without an id or
    a revenue N column."""
    acc = result.accounts
    columns = {c.field: c for c in (result.reading.columns if result.reading else [])
               if c.field}
    if "id" not in acc or acc["id"].isna().all():
        raise UserError(_("{source}: no account id column (Code client, Account id); the "
                          "backtest matches last year's accounts to this year's by id").format(
                              source=source))
    if "revenue" not in columns and getattr(result, "sales", None) is None:
        raise UserError(_("{source}: no revenue N column (CA N, Chiffre d'affaires); give "
                          "this year's revenue in Accounts, or invoice lines with "
                          "--revenue").format(source=source))
    ids = acc["id"].map(cell_text)
    header = columns["revenue"].header if "revenue" in columns else _("Revenue N")
    rev_col = _column_of(raw, columns.get("revenue"))
    id_col = _column_of(raw, columns.get("id"))
    problems: list[Problem] = []
    where = {}
    keep = []
    seen: set[str] = set()
    for pos, i in zip(acc.index, ids):
        if i is None or i in seen:
            continue  # said by the reading (blank or duplicate id)
        seen.add(i)
        keep.append(pos)
        j = rev_col if rev_col is not None else id_col
        where[i] = raw.cell(pos, j) if j is not None else source
    n = pd.Series(acc.loc[keep, "revenue"].to_numpy(dtype=float),
                  index=ids[keep].to_numpy(), name="revenue")
    n1 = None
    if "revenue_n1" in acc and acc["revenue_n1"].notna().any():
        n1 = pd.Series(acc.loc[keep, "revenue_n1"].to_numpy(dtype=float), index=n.index)
    complete = False
    sales = getattr(result, "sales", None)
    if sales is not None and sales.given is not None:
        problems.extend(p for p in result.warnings if p.kind == "revenue-source")
    return Revenue(n, n1, where, source, complete, problems, header)


def _column_of(raw: Any, use: Any) -> int | None:
    if use is None:
        return None
    for j in range(len(raw.headers)):
        if raw.header_cell(j) == use.cell:
            return j
    return None


def revenue_from_lines(lines: Any, source: str) -> Revenue:
    """This year's revenue from invoice lines (`potentiel.sources.invoices.Lines`): an
    account without any line in year N bought nothing (revenue 0), so every account of
    last year is found."""
    f = lines.fields
    problems = list(lines.warnings)
    period = lines.periods[0].label if lines.periods else "N"
    problems.append(Problem(_("revenue N from invoice lines: {period}, {n} client code(s) "
                              "with lines; a code of last year without any line has revenue "
                              "0").format(period=period, n=len(f)), source,
                            level="notice", kind="revenue-source"))
    n = f["revenue"].astype(float) if "revenue" in f else pd.Series(dtype=float)
    n1 = f["revenue_n1"].astype(float) if "revenue_n1" in f and \
        lines.covered.get("revenue_n1", False) else None
    where = {i: source for i in n.index}
    return Revenue(n, n1, where, source, complete=lines.covered.get("revenue", True),
                   problems=problems, header=_("Revenue N (from invoices)"))


# ---------------------------------------------------------------------------- the result

@dataclass
class CategoryRow:
    """One category's line: ``letter`` None for the accounts without a category, ``"*"``
    for all accounts; money in the workbook's currency, shares 0–1."""

    letter: str | None
    label: str
    accounts: int
    revenue_before: float | None   # revenue N-1 (None: unknown)
    revenue: float                 # revenue N
    share_accounts: float | None
    share_revenue: float | None

    @property
    def growth(self) -> float | None:
        if self.revenue_before is None or self.revenue_before <= 0:
            return None
        return self.revenue / self.revenue_before - 1

    @property
    def lift(self) -> float | None:
        if not self.accounts or not self.share_accounts or self.share_revenue is None:
            return None
        return self.share_revenue / self.share_accounts

    @property
    def per_account(self) -> float | None:
        return self.revenue / self.accounts if self.accounts else None


@dataclass
class Conversion:
    letter: str | None
    label: str
    prospects: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.prospects if self.prospects else None


@dataclass
class Group:
    """The backtest of one group of accounts: all of them, or one profile (``name``)."""

    name: str
    rows: list[CategoryRow]      # the categories in order, then the accounts without one
    total: CategoryRow
    holds: bool | None           # lifts fall category after category (None: cannot say)
    breaks: list[tuple[str, str, float, float]]  # (upper, lower, lift upper, lift lower)
    rho: float | None            # Spearman, score vs revenue N
    p_value: float | None        # one-sided: a higher score went with more revenue
    ranked: int                  # accounts in the correlation
    conversion: list[Conversion] = field(default_factory=list)

    @property
    def predicted(self) -> bool:
        return self.rho is not None and self.p_value is not None and \
            self.p_value < SIGNIFICANT and self.rho > 0


@dataclass
class Backtest:
    groups: list[Group]
    conversion: list[Conversion]   # every prospect of last year, per category
    conversion_total: Conversion | None
    snapshot: Snapshot
    revenue: Revenue
    matched: int                   # last year's accounts found this year
    left_out: int                  # not found this year (unknown revenue)
    new: int                       # accounts this year that last year did not have
    base: str                      # where revenue N-1 comes from ("" unknown)
    problems: list[Problem] = field(default_factory=list)
    accounts: pd.DataFrame | None = None  # per account: the frame used (for the weights)


def run_backtest(snapshot: Snapshot, revenue: Revenue, spec: Any,
                 profiles: Any = None) -> Backtest:
    """Last year's categories (``snapshot``) against this year's ``revenue``. ``spec``:
    the run's `CategorySpec` (order and labels of the categories); ``profiles``: the
    run's `ProfileSet` (each profile's own labels), or None."""
    problems = list(snapshot.problems) + list(revenue.problems)
    f = snapshot.frame.copy()
    f["where"] = snapshot.where
    blank = f["account"].isna()
    for i in np.flatnonzero(blank.to_numpy()):
        problems.append(Problem(_("no account id: the row is left out"), f["where"].iloc[i],
                                kind="blank-id", column=snapshot.id_header))
    dup = f["account"].duplicated(keep="first") & ~blank
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem(_('id "{id}" is there twice last year; the first row is '
                                  "used").format(id=f["account"].iloc[i]), f["where"].iloc[i],
                                kind="duplicate-id", column=snapshot.id_header))
    keep = ~blank & ~dup
    f = f[keep.to_numpy()]
    crit = snapshot.criteria[keep.to_numpy()]
    found = f["account"].isin(revenue.n.index)
    if not revenue.complete:
        for i in np.flatnonzero(~found.to_numpy()):
            problems.append(Problem(
                _('account "{id}" of last year is not in this year\'s accounts ({source}); '
                  "left out of the backtest (its revenue N is unknown): add it with its "
                  "revenue, 0 if it bought nothing").format(id=f["account"].iloc[i],
                                                            source=revenue.source),
                f["where"].iloc[i], kind="not-this-year", column=snapshot.id_header))
        crit = crit[found.to_numpy()]
        f = f[found.to_numpy()]
    left_out = int((~found).sum()) if not revenue.complete else 0
    rn = revenue.n.reindex(f["account"]).to_numpy(dtype=float)
    if revenue.complete:
        rn = np.where(f["account"].isin(revenue.n.index).to_numpy(), rn, 0.0)
    blank_n = np.isnan(rn)
    for i in np.flatnonzero(blank_n):
        problems.append(Problem(_("revenue N is blank: counted as 0"),
                                revenue.where.get(f["account"].iloc[i], revenue.source),
                                level="notice", kind="revenue-blank", column=revenue.header))
    negative = rn < 0
    for i in np.flatnonzero(negative):
        problems.append(Problem(_("revenue N is negative ({value:,.0f}): counted as 0").format(
            value=rn[i]), revenue.where.get(f["account"].iloc[i], revenue.source),
            kind="revenue-negative", column=revenue.header))
    rn = np.where(blank_n | negative, 0.0, rn)
    base, base_name = _revenue_before(f, revenue, snapshot)
    new = int((~revenue.n.index.isin(f["account"])).sum()) if len(revenue.n) else 0
    if new:
        problems.append(Problem(_("{n} account(s) of this year were not in last year's "
                                  "snapshot: not in the backtest").format(n=new),
                                revenue.source, level="notice", kind="new-accounts"))
    f = f.reset_index(drop=True)
    crit = crit.reset_index(drop=True)
    f["revenue_n"] = rn
    f["revenue_n1"] = base if base is not None else np.nan
    prospects = _prospects(f, problems)
    f["prospect"] = prospects
    unknown = sorted({c for c in f["category"].dropna() if c not in spec.letters})
    if unknown:
        problems.append(Problem(_("last year's categories {letters} are not among this "
                                  "year's ({known}); they are shown after them").format(
                                      letters=", ".join(unknown),
                                      known=", ".join(spec.letters)),
                                snapshot.source, kind="other-categories"))
    letters = [*spec.letters, *unknown]
    groups: list[Group] = []
    names = [p for p in dict.fromkeys(f["profile"].dropna())] if "profile" in f else []
    if names:
        order = list(getattr(profiles, "names", ()) or ())
        names.sort(key=lambda p: (order.index(p) if p in order else len(order), p))
        if f["profile"].isna().any():
            problems.append(Problem(_("{n} account(s) of last year have no profile: they are "
                                      "in no profile's table").format(
                                          n=int(f["profile"].isna().sum())),
                                    snapshot.source, kind="no-profile"))
        for name in names:
            m = (f["profile"] == name).to_numpy()
            groups.append(_group(name, f[m], letters, _spec_for(spec, profiles, name)))
    else:
        groups.append(_group("", f, letters, spec))
    if len(letters) > MAX_CATEGORIES:
        problems.append(Problem(_("{n} categories: the sheet shows the first {most} (the "
                                  "terminal shows them all)").format(n=len(letters),
                                                                     most=MAX_CATEGORIES),
                                snapshot.source, kind="many-categories"))
    if len(groups) > MAX_TABLES:
        problems.append(Problem(_("{n} profiles: the sheet shows the first {most} (the "
                                  "terminal shows them all)").format(n=len(groups),
                                                                     most=MAX_TABLES),
                                snapshot.source, kind="many-profiles"))
    conversion, total = _conversions(f, letters, spec, profiles)
    frame = pd.concat([f, crit.add_prefix("criterion:")], axis=1)
    return Backtest(groups, conversion, total, snapshot, revenue, matched=len(f),
                    left_out=left_out, new=new, base=base_name, problems=problems,
                    accounts=frame)


def _revenue_before(f: pd.DataFrame, revenue: Revenue, snapshot: Snapshot
                    ) -> tuple[np.ndarray | None, str]:
    """Revenue N-1 per account: this year's N-1 column (or invoice lines) when it has a
    value, else the revenue last year's snapshot holds; (None, "") when neither."""
    if revenue.n1 is not None and revenue.n1.notna().any():
        values = revenue.n1.reindex(f["account"]).to_numpy(dtype=float)
        if revenue.complete:
            values = np.where(f["account"].isin(revenue.n1.index).to_numpy(), values, 0.0)
        return np.clip(np.nan_to_num(values), 0, None), _("revenue N-1 from {source}").format(
            source=revenue.source)
    if f["revenue"].notna().any():
        return np.clip(np.nan_to_num(f["revenue"].to_numpy(dtype=float)), 0, None), \
            _("revenue N-1: the revenue last year's snapshot holds ({source})").format(
                source=snapshot.source)
    return None, ""


def _prospects(f: pd.DataFrame, problems: list[Problem]) -> np.ndarray:
    """Which accounts were not clients last year: status prospect, suspect or former;
    without any status, those whose profile's name says prospect."""
    status = f["status"] if "status" in f else pd.Series([None] * len(f))
    if status.notna().any():
        return status.isin(NON_CLIENTS).to_numpy()
    profile = f["profile"] if "profile" in f else pd.Series([None] * len(f))
    by_name = profile.map(lambda p: isinstance(p, str) and "prospect" in normalise(p))
    if by_name.any():
        problems.append(Problem(_("last year's status is not known: the accounts of the "
                                  "profiles named prospect are taken as last year's "
                                  "prospects"), "", level="notice", kind="prospects-by-profile"))
    return by_name.to_numpy(dtype=bool)


def _spec_for(spec: Any, profiles: Any, name: str) -> Any:
    if profiles is None:
        return spec
    from ..profiles import spec_of
    return spec_of(profiles.get(name), spec)


def _label(spec: Any, letter: str) -> str:
    try:
        return spec.shown_label(letter)
    except (KeyError, ValueError, IndexError):
        return letter


def _group(name: str, f: pd.DataFrame, letters: list[str], spec: Any) -> Group:
    cat = f["category"]
    rn = f["revenue_n"].to_numpy(dtype=float)
    base = f["revenue_n1"].to_numpy(dtype=float)
    known_base = not np.isnan(base).all()
    n_all, total = len(f), float(rn.sum())

    def row(letter: str | None, label: str, m: np.ndarray) -> CategoryRow:
        k = int(m.sum())
        r = float(rn[m].sum())
        return CategoryRow(letter, label, k, float(np.nansum(base[m])) if known_base else None,
                           r, k / n_all if n_all else None,
                           r / total if total > 0 else None)

    rows = [row(k, _label(spec, k), (cat == k).to_numpy()) for k in letters]
    rows.append(row(None, _("No category"), cat.isna().to_numpy()))
    all_row = row("*", "", np.ones(n_all, dtype=bool))
    present = [r for r in rows[:-1] if r.accounts and r.lift is not None]
    breaks = [(a.letter, b.letter, a.lift, b.lift) for a, b in zip(present, present[1:])
              if not a.lift > b.lift]
    holds = None if len(present) < 2 else not breaks
    rho, p, ranked = spearman(f["score"].to_numpy(dtype=float), rn)
    return Group(name, rows, all_row, holds, breaks, rho, p, ranked)


def spearman(score: np.ndarray, revenue: np.ndarray) -> tuple[float | None, float | None, int]:
    """(ρ, one-sided p-value, accounts) of the Spearman rank correlation of ``score`` with
    ``revenue`` (average ranks for ties; accounts without a score left out); (None, None,
    n) when fewer than `MIN_RANKED` accounts or either side is constant."""
    from scipy.stats import spearmanr
    score, revenue = np.asarray(score, dtype=float), np.asarray(revenue, dtype=float)
    ok = ~np.isnan(score) & ~np.isnan(revenue)
    n = int(ok.sum())
    if n < MIN_RANKED or np.ptp(score[ok]) == 0 or np.ptp(revenue[ok]) == 0:
        return None, None, n
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = spearmanr(score[ok], revenue[ok], alternative="greater")
    rho, p = float(res.statistic), float(res.pvalue)
    return (None if math.isnan(rho) else rho), (None if math.isnan(p) else p), n


def _conversions(f: pd.DataFrame, letters: list[str], spec: Any, profiles: Any
                 ) -> tuple[list[Conversion], Conversion | None]:
    m = f["prospect"].to_numpy(dtype=bool)
    if not m.any():
        return [], None
    p = f[m]
    converted = (p["revenue_n"] > 0).to_numpy()
    cat = p["category"]
    # the labels of the profile most prospects were in (prospect: Priority target …)
    names = p["profile"].dropna()
    label_spec = _spec_for(spec, profiles, names.mode().iloc[0]) if len(names) else spec
    out = []
    for k in letters:
        mk = (cat == k).to_numpy()
        out.append(Conversion(k, _label(label_spec, k), int(mk.sum()),
                              int((mk & converted).sum())))
    none = cat.isna().to_numpy()
    out.append(Conversion(None, _("No category"), int(none.sum()), int((none & converted).sum())))
    return out, Conversion("*", "", int(m.sum()), int(converted.sum()))


# ---------------------------------------------------------------------------- words

def order_text(group: Group, letters: Sequence[str] | None = None) -> str:
    """``holds`` / ``breaks: C above B (lift 1.31 vs 0.87)`` in the run's language."""
    if group.holds is None:
        return _("cannot say: fewer than two categories have accounts")
    if group.holds:
        return _("holds: each category brought more revenue N per account than the next")
    parts = [_("{lower} at or above {upper} (lift {b:.2f} against {a:.2f})").format(
        lower=lower, upper=upper, a=a, b=b) for upper, lower, a, b in group.breaks]
    return _("breaks: {where}").format(where="; ".join(parts))


def order_title(letters: Sequence[str]) -> str:
    return _("Order {order}").format(order=" > ".join(letters))


def rho_text(group: Group) -> str:
    if group.rho is None:
        return _("cannot say: {n} account(s) with a score, or scores or revenues all "
                 "equal").format(n=group.ranked)
    verdict = _("the score predicted next year's revenue") if group.predicted else \
        _("the score did not predict next year's revenue better than chance")
    return _("ρ = {rho:.2f}, {p} (one-sided), {n} accounts: {verdict}").format(
        rho=group.rho, p=p_text(group.p_value), n=group.ranked, verdict=verdict)


def p_text(p: float | None) -> str:
    """``p = 0.031``, ``p < 0.001``."""
    if p is None:
        return "p = ?"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _group_title(group: Group) -> str:
    return _("Profile {name}").format(name=group.name) if group.name else _("All accounts")


def sources_text(bt: Backtest) -> str:
    base = _("; {base}").format(base=bt.base) if bt.base else \
        _("; revenue N-1 unknown (no growth)")
    return _("Last year: {last}; this year: revenue N from {source}{base}. {matched} "
             "account(s) compared, {left} left out (not found this year).").format(
                 last=bt.snapshot.label, source=bt.revenue.source, base=base,
                 matched=bt.matched, left=bt.left_out)


# ---------------------------------------------------------------------------- the sheet

def _r(v: float | None, digits: int) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(v, digits)


def _table_rows(group: Group) -> list[list[Any]]:
    rows = [[_(h) for h in TABLE_HEADER]]
    cats = [r for r in group.rows[:-1]][:MAX_CATEGORIES]
    cats += [None] * (MAX_CATEGORIES - len(cats))
    for r in [*cats, group.rows[-1], group.total]:
        if r is None:
            rows.append([None] * len(TABLE_HEADER))
            continue
        letter = "—" if r.letter is None else (_("All") if r.letter == "*" else r.letter)
        rows.append([letter, r.label, r.accounts, _r(r.revenue_before, 2), _r(r.revenue, 2),
                     _r(r.growth, 4), _r(r.share_accounts, 4), _r(r.share_revenue, 4),
                     _r(r.lift, 2), _r(r.per_account, 2)])
    return rows


def backtest_blocks(bt: Backtest, proposals: Sequence[Any] = (), chart_note: str = ""
                    ) -> list[Block]:
    """The Backtest sheet as blocks at fixed rows (their ``formats`` filled), in the run's
    language. ``proposals``: the suggested weights (`potentiel.review.weights.Proposal`);
    ``chart_note``: a line under the title (e.g. why there is no chart)."""
    from ..sheet_styles import HEAD, SUBTITLE, TITLE, Cells, Look
    width = len(TABLE_HEADER)
    head = [[_("Backtest: did last year's categories predict this year's revenue?")],
            [sources_text(bt)], [chart_note or None]]
    blocks = [Block(1, 1, head, clear_to_row=TABLE_ROW - 1, clear_cols=width,
                    formats=[Cells(0, 0, TITLE, fit=False), Cells(1, 0, SUBTITLE, fit=False),
                             Cells(2, 0, SUBTITLE, fit=False)])]
    for k in range(MAX_TABLES):
        row = TABLE_ROW + k * TABLE_HEIGHT
        if k < len(bt.groups):
            g = bt.groups[k]
            letters = [r.letter for r in g.rows[:-1]]
            values = [[_group_title(g)], *_table_rows(g),
                      [order_title(letters), order_text(g)],
                      [_("Rank correlation of score and revenue N (Spearman)"), rho_text(g)]]
        else:  # an unused slot: blank, without formats (restyled on every run)
            values = [[None]] * (TABLE_HEIGHT - 1)
        values = [list(v) + [None] * (width - len(v)) for v in values]
        formats = _table_formats(Cells, Look, HEAD, TITLE) if k < len(bt.groups) else []
        blocks.append(Block(row, 1, values, formats=formats))
    blocks.append(_conversion_block(bt, Cells, Look, HEAD))
    blocks.append(_weights_block(proposals, Cells, Look, HEAD))
    notes = _notes(bt, proposals)
    blocks.append(Block(NOTES_ROW, 1, notes, clear_to_row=NOTES_ROW + len(notes) + 500,
                        clear_cols=width,
                        formats=[Cells(0, 0, Look(bold=True, size=12), fit=False)]))
    return blocks


def _table_formats(Cells, Look, HEAD, TITLE) -> list[Any]:
    from ..sheet_styles import CATEGORY_COLOURS, INTEGER, MONEY, PERCENT
    n = MAX_CATEGORIES + 2
    out = [Cells(0, 0, Look(bold=True, size=12), fit=False),
           Cells(1, 0, HEAD, cols=len(TABLE_HEADER)),
           Cells(2, 2, Look(INTEGER), rows=n), Cells(2, 3, Look(MONEY), rows=n, cols=2),
           Cells(2, 5, Look(PERCENT), rows=n, cols=3), Cells(2, 8, Look("0.00"), rows=n),
           Cells(2, 9, Look(MONEY), rows=n), Cells(2 + n - 1, 0, Look(bold=True), cols=2),
           Cells(2 + n, 0, Look(bold=True), fit=False), Cells(2 + n + 1, 0, Look(bold=True),
                                                              fit=False)]
    for i, (fill, font) in enumerate(CATEGORY_COLOURS):
        out.append(Cells(2 + i, 0, Look(fill=fill, font_colour=font, bold=True,
                                        plain_fill=_PLAIN[i]), cols=2))
    return out


_PLAIN = ("#A5D6A7", "#66BB6A", "#FFD54F", "#CFD8DC")


def _conversion_block(bt: Backtest, Cells, Look, HEAD) -> Block:
    from ..sheet_styles import INTEGER, PERCENT
    rows: list[list[Any]] = [[_("Last year's prospects: conversion by category (revenue N "
                                "above 0)")]]
    if not bt.conversion:
        rows.append([_("no prospect, suspect or former client last year (Status), so no "
                       "conversion to show")])
        rows += [[None]] * (MAX_CATEGORIES + 3)
    else:
        rows.append([_(h) for h in CONVERSION_HEADER])
        cats = bt.conversion[:-1][:MAX_CATEGORIES]
        cats += [None] * (MAX_CATEGORIES - len(cats))
        for c in [*cats, bt.conversion[-1], bt.conversion_total]:
            if c is None:
                rows.append([None] * len(CONVERSION_HEADER))
                continue
            letter = "—" if c.letter is None else (_("All") if c.letter == "*" else c.letter)
            rows.append([letter, c.label, c.prospects, c.converted, _r(c.rate, 4)])
    rows = [list(r) + [None] * (len(CONVERSION_HEADER) - len(r)) for r in rows]
    n = MAX_CATEGORIES + 2
    return Block(CONVERSION_ROW, 1, rows, formats=[
        Cells(0, 0, Look(bold=True, size=12), fit=False),
        Cells(1, 0, HEAD, cols=len(CONVERSION_HEADER)),
        Cells(2, 2, Look(INTEGER), rows=n, cols=2), Cells(2, 4, Look(PERCENT), rows=n)])


def _weights_block(proposals: Sequence[Any], Cells, Look, HEAD) -> Block:
    from .weights import proposal_rows
    rows = proposal_rows(proposals, MAX_CRITERIA, MAX_PROPOSALS)
    width = 1 + 2 * MAX_PROPOSALS
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    first = 3  # title, holdout note, header
    return Block(WEIGHTS_ROW, 1, rows, formats=[
        Cells(0, 0, Look(bold=True, size=12), fit=False), Cells(1, 0, Look(italic=True),
                                                                fit=False),
        Cells(2, 0, HEAD, cols=width), Cells(first, 1, Look("0"), rows=MAX_CRITERIA,
                                             cols=width - 1),
        Cells(first + MAX_CRITERIA, 0, Look(bold=True), rows=3),
        Cells(first + MAX_CRITERIA, 1, Look("0.00"), rows=3, cols=width - 1)])


def _notes(bt: Backtest, proposals: Sequence[Any]) -> list[list[Any]]:
    from ..sources.reading import group_problems
    problems = [*bt.problems, *(p for pr in proposals for p in getattr(pr, "problems", ()))]
    rows: list[list[Any]] = [[_("Notes: every choice made about the data")]]
    grouped = group_problems(problems)
    if not grouped:
        rows.append([_("none")])
    for p in grouped:
        rows.append([p.where or None, p.message])
    return rows


# ---------------------------------------------------------------------------- terminal

def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def backtest_lines(bt: Backtest, proposals: Sequence[Any] = ()) -> list[str]:
    """The backtest and the suggested weights as terminal lines, in the run's language."""
    from ..sources.reading import group_problems
    out = [_("Backtest: did last year's categories predict this year's revenue?"),
           sources_text(bt)]
    for g in bt.groups:
        out.append("")
        out.append(_("{title}:").format(title=_group_title(g)))
        out.append("  {:<4} {:<18} {:>8} {:>14} {:>14} {:>8} {:>8} {:>8} {:>6}".format(
            _("cat"), _("label"), _("accounts"), _("revenue N-1"), _("revenue N"), _("growth"),
            _("accounts %"), _("revenue %"), _("lift")))
        for r in [*g.rows, g.total]:
            if not r.accounts and r.letter is None:
                continue
            letter = "-" if r.letter is None else (_("All") if r.letter == "*" else r.letter)
            lift = "-" if r.lift is None else f"{r.lift:.2f}"
            out.append("  {:<4} {:<18} {:>8} {:>14} {:>14} {:>8} {:>8} {:>8} {:>6}".format(
                letter, str(r.label)[:18], r.accounts, _money(r.revenue_before),
                _money(r.revenue), _pct(r.growth), _pct(r.share_accounts),
                _pct(r.share_revenue), lift))
        letters = [r.letter for r in g.rows[:-1]]
        for title, text in ((order_title(letters), order_text(g)),
                            (_("Rank correlation of score and revenue N (Spearman)"),
                             rho_text(g))):
            out.append("  " + _("{title}: {text}").format(title=title, text=text))
    if bt.conversion:
        out.append("")
        out.append(_("Last year's prospects: conversion by category (revenue N above 0)"))
        for c in [*bt.conversion, bt.conversion_total]:
            if not c.prospects and c.letter is None:
                continue
            letter = "-" if c.letter is None else (_("All") if c.letter == "*" else c.letter)
            out.append("  {:<4} {:<18} {:>6} / {:<6} {:>7}".format(
                letter, str(c.label)[:18], c.converted, c.prospects, _pct(c.rate)))
    if proposals:
        from .weights import proposal_lines
        out.append("")
        out.extend(proposal_lines(proposals))
    problems = [*bt.problems, *(p for pr in proposals for p in getattr(pr, "problems", ()))]
    if problems:
        out.append("")
        out.append(_("Notes:"))
        out.extend(f"  {p}" for p in group_problems(problems))
    return out

