"""The output sheets' contents (Matrix, Summary, Log) and the console summary.

Every text is in the run's language (`potentiel.i18n`): the constants below are English
message keys (``N_``), translated when a block is built. Pure data: each sheet is a list of `Block`s (top-left cell and a grid of plain values) that
every front end writes the same way, values only. The template workbook puts its colours
and chart on exactly these cells, so the layout constants below are shared with
``workbooks/build_template.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .i18n import N_, _, ngettext, use_language
from .problems import warning_count
from .portfolio import PENETRATION_TIERS, POTENTIAL_TIERS

if TYPE_CHECKING:
    from .pipeline import Result

from .sheetnames import (EXPLAIN_SHEET, LOG_SHEET, MATRIX_SHEET, READING_SHEET,  # noqa: F401
                         SUMMARY_SHEET)
# Matrix: three 3×3 grids (accounts, revenue, potential), each with its row/column headers.
MATRIX_GRIDS = ((N_("Accounts"), 3), (N_("Revenue"), 9), (N_("Potential"), 15))  # (title, row)
MATRIX_COLS = 4  # header column + weak / medium / strong
# Summary: per-category table from row 3, per-rep table from SUMMARY_REP_ROW.
SUMMARY_CATEGORY_ROW = 3
SUMMARY_REP_ROW = 12
SUMMARY_MAX_CATEGORIES = 6
LOG_HEADERS = (N_("Time"), N_("Rules file"), N_("Engine"), N_("Accounts"), N_("Counts"),
               N_("Top 80%"), N_("Changed"), N_("Moved up"), N_("Moved down"), N_("Warnings"),
               N_("Messages"))
# Explain: one account's facts, its criteria (best contribution first), the rules that fired.
EXPLAIN_FACTS = (N_("Account id"), N_("Name"), N_("Status"), N_("Salesperson"),
                 N_("Accounts row"), N_("Score"), N_("Category"), N_("Category label"),
                 N_("Confidence"), N_("Potential"), N_("Penetration"), N_("Matrix"),
                 N_("Top 80%"), N_("Flags"), N_("Rule effects"), N_("To collect"))
EXPLAIN_FACTS_ROW = 4
EXPLAIN_CRITERIA_ROW = EXPLAIN_FACTS_ROW + len(EXPLAIN_FACTS) + 1   # header row of the table
EXPLAIN_MAX_CRITERIA = 20
EXPLAIN_RULES_ROW = EXPLAIN_CRITERIA_ROW + EXPLAIN_MAX_CRITERIA + 2
EXPLAIN_MAX_RULES = 20
EXPLAIN_CRITERIA_HEADER = (N_("Criterion"), N_("Label"), N_("Score"), N_("Weight"),
                           N_("Share of weight"), N_("Points"), N_("Reason"))
PEN_ORDER = tuple(reversed(PENETRATION_TIERS))  # weak, medium, strong: left to right
POT_ORDER = POTENTIAL_TIERS                      # high, medium, low: top to bottom


@dataclass
class Block:
    """Plain values to write from (row, col), 1-based; ``clear_to_row`` blanks below first.
    ``formats``: how its cells look when Potentiel creates the sheet (a list of
    `potentiel.sheet_styles.Cells`, filled by `potentiel.sheet_styles.finished`)."""

    row: int
    col: int
    values: list[list[Any]]
    clear_to_row: int | None = None
    clear_cols: int | None = None
    formats: list[Any] | None = None


class Rows(Sequence):
    """A block's rows held as columns: ``head`` (a few rows of plain values, such as a
    header) then ``columns`` (one sequence per column, all as long, numpy arrays or lists;
    NaN and None are blanks). A writer that takes columns writes them as they are
    (`parts`); read as rows (``len``, an index, a slice, iteration, ``==`` a list), each
    row is built on demand. So a sheet of 100,000 lines (the History, the Reading sheet's
    check) never becomes a Python list per line."""

    __slots__ = ("head", "columns", "n")

    def __init__(self, head: list[list[Any]], columns: list[Any]):
        self.head = [list(r) for r in head]
        self.columns = list(columns)
        self.n = len(self.columns[0]) if self.columns else 0

    def __len__(self) -> int:
        return len(self.head) + self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < len(self.head):
            return self.head[i]
        i -= len(self.head)
        return [plain(c[i]) for c in self.columns]

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Rows({len(self.head)} head row(s), {self.n} × {len(self.columns)})"

    def parts(self, row: int, col: int, pad: Any = None
              ) -> list[tuple[range, list[tuple[int, Any]]]]:
        """What to write from ``(row, col)``, a column at a time: ``(sheet rows, [(sheet
        column, values)])`` for the head (plain values, short rows padded with ``pad``),
        then for the columns."""
        out = []
        if self.head:
            width = max(len(r) for r in self.head)
            out.append((range(row, row + len(self.head)),
                        [(col + j, np.array([plain(r[j]) if j < len(r) else pad
                                             for r in self.head], dtype=object))
                         for j in range(width)]))
        if self.n:
            first = row + len(self.head)
            # numbers as a Series: a writer keeps its dtype (an array it would take as objects)
            out.append((range(first, first + self.n),
                        [(col + j, pd.Series(c, copy=False) if isinstance(c, np.ndarray) and
                          c.dtype.kind in "iuf" else c) for j, c in enumerate(self.columns)]))
        return out


def plain(v: Any) -> Any:
    """A plain Python value to write: numpy scalars converted, blanks ("" , NaN, NA) None."""
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v


POTENTIAL_HEADS = {"high": N_("High potential"), "medium": N_("Medium potential"),
                   "low": N_("Low potential")}
PENETRATION_HEADS = {"strong": N_("Strong penetration"), "medium": N_("Medium penetration"),
                     "weak": N_("Weak penetration")}


def matrix_blocks(result: "Result") -> list[Block]:
    acc = result.accounts
    rev = acc["revenue"].clip(lower=0).fillna(0.0)
    pot = acc["potential"].fillna(0.0)
    blocks = [Block(1, 1, [[_("Portfolio matrix: potential × penetration")],
                           [_("High potential with weak penetration is the fragility zone.")]])]
    # each cell's accounts, found once for the three grids
    pots = {pt: acc["potential_tier"] == pt for pt in POT_ORDER}
    pens = {pn: acc["penetration_tier"] == pn for pn in PEN_ORDER}
    cells = {(pt, pn): pots[pt] & pens[pn] for pt in POT_ORDER for pn in PEN_ORDER}
    for title, row in MATRIX_GRIDS:
        grid: list[list[Any]] = [[_(title), *(_(PENETRATION_HEADS[p]) for p in PEN_ORDER)]]
        for pt in POT_ORDER:
            line: list[Any] = [_(POTENTIAL_HEADS[pt])]
            for pn in PEN_ORDER:
                mask = cells[pt, pn]
                if title == "Accounts":
                    line.append(int(mask.sum()))
                elif title == "Revenue":
                    line.append(round(float(rev[mask].sum()), 2))
                else:
                    line.append(round(float(pot[mask].sum()), 2))
            grid.append(line)
        blocks.append(Block(row, 1, grid))
    unknown = int((acc["potential_tier"].isna() | acc["penetration_tier"].isna()).sum())
    blocks.append(Block(21, 1, [[_("Accounts not in the matrix (potential or penetration "
                                   "unknown)"),
                                 None, None, unknown]]))
    # per profile, below the template's grids (its colours and chart stay on rows 1–21)
    row = MATRIX_PROFILE_ROW
    for name, in_profile in _profile_masks(result):
        grid: list[list[Any]] = [[_("Accounts, profile {profile}").format(profile=name),
                                  *(_(PENETRATION_HEADS[p]) for p in PEN_ORDER)]]
        for pt in POT_ORDER:
            grid.append([_(POTENTIAL_HEADS[pt]),
                         *(int((cells[pt, pn] & in_profile).sum()) for pn in PEN_ORDER)])
        blocks.append(Block(row, 1, grid))
        row += len(grid) + 1
    return blocks


MATRIX_PROFILE_ROW = 23  # the first per-profile grid (rules with profiles:)


def _profile_masks(result: "Result") -> list[tuple[str, np.ndarray]]:
    """(profile name, its accounts) in the rule file's order; none without profiles."""
    if getattr(result, "profile", None) is None or getattr(result, "profiles", None) is None:
        return []
    names = list(result.profiles.names)
    masks = equal_to(result.profile, names)
    return [(name, masks[name]) for name in names]


def equal_to(values: pd.Series, wanted: list[Any]) -> dict[Any, np.ndarray]:
    """For each of ``wanted``, where ``values`` equals it (what ``values == w`` gives, as a
    numpy bool array): the column's distinct values found once, not one comparison of
    every account per value."""
    from .objects import factorize_all
    codes, uniques = factorize_all(values.to_numpy(dtype=object))
    distinct = uniques.tolist()
    out = {}
    for w in wanted:
        hits = [i for i, u in enumerate(distinct) if u is not None and bool(u == w)]
        out[w] = np.isin(codes, hits) if len(hits) > 1 else \
            (codes == hits[0]) if hits else np.zeros(len(codes), dtype=bool)
    return out


def summary_blocks(result: "Result", previous_rows: int = 0) -> list[Block]:
    acc = result.accounts
    spec = result.config.categories
    cat = result.category
    rev = acc["revenue"].clip(lower=0).fillna(0.0)
    pot = acc["potential"].fillna(0.0)
    total = float(rev.sum())
    header = [_("Category"), _("Label"), _("Accounts"), _("Revenue"), _("Potential"),
              _("Share of revenue"), _("In Top 80%")]
    rows: list[list[Any]] = [header]
    letters = list(spec.letters)[:SUMMARY_MAX_CATEGORIES]
    in_cat = equal_to(cat, letters)  # once, not once per row of the tables
    for k in letters:
        m = in_cat[k]
        rows.append([k, spec.shown_label(k), int(m.sum()), round(float(rev[m].sum()), 2),
                     round(float(pot[m].sum()), 2),
                     round(float(rev[m].sum()) / total, 4) if total > 0 else None,
                     int((m & result.top).sum())])
    none = cat.isna()
    rows.append(["—", _("No category"), int(none.sum()), round(float(rev[none].sum()), 2),
                 round(float(pot[none].sum()), 2),
                 round(float(rev[none].sum()) / total, 4) if total > 0 else None,
                 int((none & result.top).sum())])
    # pad to a fixed height so the chart over this table always reads the same cells
    while len(rows) < SUMMARY_MAX_CATEGORIES + 2:
        rows.append([None] * len(header))
    blocks = [Block(1, 1, [[_("Summary by category and by salesperson")], [None]]),
              Block(SUMMARY_CATEGORY_ROW, 1, rows)]
    rep_header = [_("Salesperson"), _("Accounts"), *letters, _("Revenue"), _("Potential"),
                  _("Share of revenue")]
    nobody = _("(none)")
    reps = acc["salesperson"].fillna(nobody) if "salesperson" in acc else \
        pd.Series(nobody, index=acc.index)
    rep_rows: list[list[Any]] = [rep_header]
    for name, idx in reps.groupby(reps, sort=True).groups.items():
        m = acc.index.isin(idx)
        r = float(rev[m].sum())
        rep_rows.append([name, int(m.sum()), *(int((in_cat[k] & m).sum()) for k in letters),
                         round(r, 2), round(float(pot[m].sum()), 2),
                         round(r / total, 4) if total > 0 else None])
    width = max(len(rep_header), 7)
    rep_rows = [r + [None] * (width - len(r)) for r in
                [*rep_rows, *_summary_by_profile(result, letters, rev, pot, total, in_cat)]]
    end = SUMMARY_REP_ROW + max(previous_rows, len(rep_rows)) + 1
    blocks.append(Block(SUMMARY_REP_ROW, 1, rep_rows, clear_to_row=end, clear_cols=len(rep_header) + 2))
    return blocks


def _summary_by_profile(result: "Result", letters: list[str], rev: pd.Series, pot: pd.Series,
                        total: float, in_cat: dict[str, np.ndarray]) -> list[list[Any]]:
    """Rows under the per-rep table (so one block clears them and its formats fit): a blank
    row, then one row per profile laid out like a rep's (accounts, per category, revenue,
    potential, share of revenue); each profile ranks in its own A–D."""
    rows: list[list[Any]] = []
    masks = _profile_masks(result)
    if not masks:
        return rows
    rows += [[None], [_("Profile"), _("Accounts"), *letters, _("Revenue"), _("Potential"),
                      _("Share of revenue")]]
    for name, m in masks:
        r = float(rev[m].sum())
        rows.append([name, int(m.sum()),
                     *(int((in_cat[k] & m).sum()) for k in letters),
                     round(r, 2), round(float(pot[m].sum()), 2),
                     round(r / total, 4) if total > 0 else None])
    return rows


def explain_blocks(result: "Result", pos: int, where: str = "") -> list[Block]:
    """Why account ``pos`` (its data-row position) has its category: facts, the points each
    criterion brings (weights re-normalised over what is known for this account) and the
    rules that fired with their ``why``. Fixed-height blocks, blanked below their rows."""
    acc, out = result.accounts, result.outputs
    rules = result.rules

    def get(frame: pd.DataFrame, col: str) -> Any:
        return plain(frame.at[pos, col]) if col in frame else None

    effects = []
    points = plain(rules.points.at[pos]) if rules.points is not None else None
    if points:
        effects.append(_("{points} points").format(points=f"{points:+g}"))
    for what, series in ((N_("cap {letter}"), rules.cap), (N_("floor {letter}"), rules.floor),
                         (N_("forced {letter}"), rules.force)):
        if series is not None and series.at[pos] is not None:
            effects.append(_(what).format(letter=series.at[pos]))
    if rules.exclude is not None and bool(rules.exclude.at[pos]):
        effects.append(_("excluded from ranking"))
    facts = [get(acc, "id"), get(acc, "name"), get(acc, "status"), get(acc, "salesperson"),
             where or None, get(out, "Score"), get(out, "Category"), get(out, "Category label"),
             get(out, "Confidence"), get(out, "Potential"), get(out, "Penetration"),
             get(out, "Matrix"), get(out, "Top 80%"), get(out, "Flags") or None,
             "; ".join(effects) or None, get(out, "To collect") or None]
    title = (_("Explain: why account {id} is {category}") if facts[6] else
             _("Explain: why account {id} is without a category"))
    blocks = [Block(1, 1, [[title.format(id=facts[0] or "?", category=facts[6])],
                           [_("Select a cell in an account's row on Accounts, then run "
                              "Explain.")]]),
              Block(EXPLAIN_FACTS_ROW, 1, [[_(k), v] for k, v in zip(EXPLAIN_FACTS, facts)])]
    weighted = result.weighted
    confidence = float(weighted.confidence.at[pos]) if pos in weighted.confidence.index else 0.0
    rows = []
    for name, crit in result.criteria.items():
        score = plain(result.scores.scores.at[pos, name]) if name in result.scores.scores else None
        share = weighted.weights.get(name)
        share = share / confidence if share and score is not None and confidence > 0 else None
        contrib = weighted.contributions
        pts = plain(contrib.at[pos, name]) if name in contrib else None
        reason = result.scores.reasons.at[pos, name] if name in result.scores.reasons else None
        weight = float(result.config.weights.get(name, crit.default_weight))
        from .config import criterion_word
        rows.append([criterion_word(name), crit.label, None if score is None else round(score, 1), weight,
                     None if share is None else round(share, 4),
                     None if pts is None else round(pts, 1), plain(reason)])
    rows.sort(key=lambda r: (r[5] is None, -(r[5] or 0.0)))  # most points first, unscored last
    criteria = [[_(h) for h in EXPLAIN_CRITERIA_HEADER], *rows[:EXPLAIN_MAX_CRITERIA]]
    blocks.append(Block(EXPLAIN_CRITERIA_ROW, 1, criteria,
                        clear_to_row=EXPLAIN_CRITERIA_ROW + EXPLAIN_MAX_CRITERIA,
                        clear_cols=len(EXPLAIN_CRITERIA_HEADER)))
    fired = rules.fired.at[pos] if pos in rules.fired.index else ()
    lines: list[list[Any]] = [[_("Rule"), _("Why")]]
    lines += [[rid, rules.why.get(rid, "")] for rid in (fired or ())][:EXPLAIN_MAX_RULES]
    if len(lines) == 1:
        lines.append([_("(no rule fired)"), None])
    blocks.append(Block(EXPLAIN_RULES_ROW, 1, lines,
                        clear_to_row=EXPLAIN_RULES_ROW + EXPLAIN_MAX_RULES, clear_cols=2))
    return blocks


def counts_text(result: "Result") -> str:
    return " · ".join(f"{k} {n}" for k, n in result.counts.items())


LOG_MESSAGES_MAX = 1500  # characters of warnings in a Log row


def log_row(result: "Result", when: dt.datetime | None = None) -> list[Any]:
    when = (when or dt.datetime.now()).replace(microsecond=0)
    ch = result.changes
    from .sources.reading import group_problems
    grouped = group_problems(result.warnings)
    msgs = "; ".join(str(p) for p in grouped)
    # A Log row stays readable (and printable): the first lines; the Reading sheet has all.
    if len(msgs) > LOG_MESSAGES_MAX or len(grouped) < len(result.warnings):
        if len(msgs) > LOG_MESSAGES_MAX:
            msgs = msgs[:LOG_MESSAGES_MAX].rsplit("; ", 1)[0] + " …"
        msgs = _("(every warning with its cell: {sheet} sheet) ").format(
            sheet=_(READING_SHEET)) + msgs
    return [when, result.rules_name, result.config.engine, int(len(result.accounts)),
            counts_text(result), int(result.top.sum()), ch["changed"], ch["up"], ch["down"],
            warning_count(result.warnings), msgs[:32000]]


def extra_sheets(result: "Result", builders: dict) -> tuple[dict[str, list[Block]], list[str]]:
    """Plugin output sheets; a failing builder is reported, not fatal."""
    out, problems = {}, []
    for name, build in builders.items():
        try:
            rows = build(result)
            grid = [[plain(v) for v in row] for row in rows]
            out[name] = [Block(1, 1, grid)]
        except Exception as exc:
            problems.append(_("output sheet {name} failed: {error}").format(
                name=name, error=f"{type(exc).__name__}: {exc}"))
    return out, problems


def console_summary(result: "Result", target: str = "") -> str:
    """What the terminal shows after a run, in the run's language."""
    with use_language(getattr(result, "language", None)):
        return _console_summary(result, target)


def _console_summary(result: "Result", target: str) -> str:
    n = len(result.accounts)
    spec = result.config.categories
    first = ngettext("Scored {n} account with rules {rules} ({engine} engine)",
                     "Scored {n} accounts with rules {rules} ({engine} engine)", n).format(
        n=n, rules=result.rules_name, engine=result.config.engine)
    lines = [first + (f" → {target}" if target else "")]
    for k, c in result.counts.items():
        share = f"{c / n:.0%}" if n else "0%"
        lines.append(f"  {k} {spec.shown_label(k):<12} {c:>7}  {share:>4}")
    blank = int(result.category.isna().sum())
    if blank:
        lines.append("  - {:<12} {:>7}".format(_("no category"), blank))
    lines.append("  " + _("Top 80% of revenue: {n} account(s)").format(n=int(result.top.sum())))
    ch = result.changes
    if result.previous_category is not None and ch["changed"]:
        lines.append("  " + _("Changed since last run: {n} ({up} up, {down} down)").format(
            n=ch["changed"], up=ch["up"], down=ch["down"]))
    if result.reading is not None and result.reading.header_note:
        lines.append("  " + _("Read {sheet}: {note}").format(sheet=result.reading.sheet,
                                                            note=result.reading.header_note))
        if result.reading.left_out:
            rows = ", ".join(str(r.row) for r in result.reading.left_out[:8])
            lines.append("  " + _("Rows left out: {n} (row {rows}; why: {sheet} sheet, or "
                                  "potentiel inspect)").format(
                n=len(result.reading.left_out), rows=rows, sheet=_(READING_SHEET)))
    if result.warnings:
        from .sources.reading import group_problems
        grouped = group_problems(result.warnings)
        same = len(grouped) == len(result.warnings)
        n_warn = warning_count(result.warnings)
        if not n_warn:  # only notices: what was read, how
            lines.append(_("Notes:"))
        else:
            lines.append((_("{n} warning(s):") if same else
                          _("{n} warning(s), in {lines} lines:")).format(
                              n=n_warn, lines=len(grouped)))
        for p in grouped:
            lines.append(f"  {p}")
        if not same:
            lines.append("  " + _("(each one with its cell: the {sheet} sheet)").format(
                sheet=_(READING_SHEET)))
    return "\n".join(lines)


def top_accounts(result: "Result", n: int) -> str:
    """The ``n`` best-scored accounts as a small text table, in the run's language; with
    profiles, one table per profile (each is ranked in its own A–D, on its own weights)."""
    with use_language(getattr(result, "language", None)):
        if result.profile is None or result.profiles is None:
            return _top_accounts(result, n, result.category.notna())
        parts = []
        for name in result.profiles.names:
            mask = (result.profile == name) & result.category.notna()
            if mask.any():
                parts.append(_("Profile {profile}:").format(profile=name) + "\n"
                             + _top_accounts(result, n, mask))
        return "\n".join(parts)


def _top_accounts(result: "Result", n: int, mask: pd.Series) -> str:
    acc, out = result.accounts, result.outputs
    # best category first, then score: a capped account is not shown above an A
    rank = {k: i for i, k in enumerate(result.config.categories.letters)}
    key = pd.DataFrame({"cat": result.category.map(rank).fillna(len(rank)), "score": -out["Score"]})
    ranked = key[mask]
    order = ranked.sort_values(["cat", "score"], na_position="last").index[:n]
    lines = [_("Top {n} accounts (best category first, then highest score; accounts without a "
               "category are not listed):").format(n=len(order)),
             "  {:<10} {:<32} {:>5}  {:<3}  {:>5}  {}".format(
                 _("id"), _("name"), _("score"), _("cat"), _("known"), _("flags"))]
    for pos in order:
        ident = str(acc.at[pos, "id"]) if "id" in acc and acc.at[pos, "id"] is not None else "?"
        name = str(acc.at[pos, "name"]) if "name" in acc and acc.at[pos, "name"] is not None else ""
        score = out.at[pos, "Score"]
        score_s = f"{score:5.1f}" if score == score else "    -"
        lines.append(f"  {ident:<10} {name[:32]:<32} {score_s}  {out.at[pos, 'Category'] or '-':<3}  "
                     f"{out.at[pos, 'Confidence']:>5.0%}  {out.at[pos, 'Flags']}")
    return "\n".join(lines)


def sales_reading_rows(result: "Result") -> list[list[Any]]:
    """How the invoice lines were read, under the accounts' report on the Reading sheet."""
    sales = getattr(result, "sales", None)
    if sales is None:
        return []
    rows = sales.report.rows([])
    rows[0] = [_("How the invoice lines were read")]
    return [[], *rows[:rows.index([_("Warnings, grouped"), 0])]]


def reading_blocks(result: "Result", raw: Any = None, clear_rows: int | None = None
                   ) -> list[Block]:
    """The Reading sheet: the whole reading report and every warning of the run; with
    ``raw`` (the accounts as read), the check of what was written in Potentiel's columns,
    from column J (`potentiel.sources.fingerprint`). Rows are padded to one width; below
    them, ``clear_rows`` more rows are blanked (None: to the end of the sheet)."""
    from .sources.fingerprint import CHECK_COL, output_check_columns
    grid = result.reading.rows(result.warnings) if result.reading is not None else [[]]
    grid += sales_reading_rows(result)
    width = max((len(r) for r in grid), default=1)
    grid = [list(r) + [None] * (width - len(r)) for r in grid]

    def until(n: int) -> int:
        return 1_048_576 if clear_rows is None else n + clear_rows

    blocks = [Block(1, 1, grid, clear_to_row=until(len(grid)), clear_cols=6)]
    if raw is not None:
        check = Rows(*output_check_columns(result.outputs, raw.row_numbers))
        blocks.append(Block(1, CHECK_COL, check, clear_to_row=until(len(check)), clear_cols=2))
    return blocks
