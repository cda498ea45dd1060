"""The output sheets' contents (Matrix, Summary, Log) and the console summary.

Pure data: each sheet is a list of `Block`s (top-left cell and a grid of plain values) that
every front end writes the same way, values only. The template workbook puts its colours
and chart on exactly these cells, so the layout constants below are shared with
``workbooks/build_template.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .portfolio import PENETRATION_TIERS, POTENTIAL_TIERS

if TYPE_CHECKING:
    from .pipeline import Result

from .sheetnames import (EXPLAIN_SHEET, LOG_SHEET, MATRIX_SHEET, READING_SHEET,  # noqa: F401
                         SUMMARY_SHEET)
# Matrix: three 3×3 grids (accounts, revenue, potential), each with its row/column headers.
MATRIX_GRIDS = (("Accounts", 3), ("Revenue", 9), ("Potential", 15))  # (title, first row)
MATRIX_COLS = 4  # header column + weak / medium / strong
# Summary: per-category table from row 3, per-rep table from SUMMARY_REP_ROW.
SUMMARY_CATEGORY_ROW = 3
SUMMARY_REP_ROW = 12
SUMMARY_MAX_CATEGORIES = 6
LOG_HEADERS = ("Time", "Rules file", "Engine", "Accounts", "Counts", "Top 80%", "Changed",
               "Moved up", "Moved down", "Warnings", "Messages")
# Explain: one account's facts, its criteria (best contribution first), the rules that fired.
EXPLAIN_FACTS = ("Account id", "Name", "Status", "Salesperson", "Accounts row", "Score",
                 "Category", "Category label", "Confidence", "Potential", "Penetration",
                 "Matrix", "Top 80%", "Flags", "Rule effects", "To collect")
EXPLAIN_FACTS_ROW = 4
EXPLAIN_CRITERIA_ROW = EXPLAIN_FACTS_ROW + len(EXPLAIN_FACTS) + 1   # header row of the table
EXPLAIN_MAX_CRITERIA = 20
EXPLAIN_RULES_ROW = EXPLAIN_CRITERIA_ROW + EXPLAIN_MAX_CRITERIA + 2
EXPLAIN_MAX_RULES = 20
EXPLAIN_CRITERIA_HEADER = ("Criterion", "Label", "Score", "Weight", "Share of weight",
                           "Points", "Reason")
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


def matrix_blocks(result: "Result") -> list[Block]:
    acc = result.accounts
    rev = acc["revenue"].clip(lower=0).fillna(0.0)
    pot = acc["potential"].fillna(0.0)
    blocks = [Block(1, 1, [["Portfolio matrix: potential × penetration"],
                           ["High potential with weak penetration is the fragility zone."]])]
    # each cell's accounts, found once for the three grids
    pots = {pt: acc["potential_tier"] == pt for pt in POT_ORDER}
    pens = {pn: acc["penetration_tier"] == pn for pn in PEN_ORDER}
    cells = {(pt, pn): pots[pt] & pens[pn] for pt in POT_ORDER for pn in PEN_ORDER}
    for title, row in MATRIX_GRIDS:
        grid: list[list[Any]] = [[title, *(f"{p.capitalize()} penetration" for p in PEN_ORDER)]]
        for pt in POT_ORDER:
            line: list[Any] = [f"{pt.capitalize()} potential"]
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
    blocks.append(Block(21, 1, [["Accounts not in the matrix (potential or penetration unknown)",
                                 None, None, unknown]]))
    # per profile, below the template's grids (its colours and chart stay on rows 1–21)
    row = MATRIX_PROFILE_ROW
    for name, in_profile in _profile_masks(result):
        from .i18n import _
        grid: list[list[Any]] = [[_("Accounts, profile {profile}").format(profile=name),
                                  *(f"{p.capitalize()} penetration" for p in PEN_ORDER)]]
        for pt in POT_ORDER:
            grid.append([f"{pt.capitalize()} potential",
                         *(int((cells[pt, pn] & in_profile).sum()) for pn in PEN_ORDER)])
        blocks.append(Block(row, 1, grid))
        row += len(grid) + 1
    return blocks


MATRIX_PROFILE_ROW = 23  # the first per-profile grid (rules with profiles:)


def _profile_masks(result: "Result") -> list[tuple[str, pd.Series]]:
    """(profile name, its accounts) in the rule file's order; none without profiles."""
    if getattr(result, "profile", None) is None or getattr(result, "profiles", None) is None:
        return []
    return [(name, result.profile == name) for name in result.profiles.names]


def summary_blocks(result: "Result", previous_rows: int = 0) -> list[Block]:
    acc = result.accounts
    spec = result.config.categories
    cat = result.category
    rev = acc["revenue"].clip(lower=0).fillna(0.0)
    pot = acc["potential"].fillna(0.0)
    total = float(rev.sum())
    header = ["Category", "Label", "Accounts", "Revenue", "Potential", "Share of revenue",
              "In Top 80%"]
    rows: list[list[Any]] = [header]
    letters = list(spec.letters)[:SUMMARY_MAX_CATEGORIES]
    for k in letters:
        m = cat == k
        rows.append([k, spec.label(k), int(m.sum()), round(float(rev[m].sum()), 2),
                     round(float(pot[m].sum()), 2),
                     round(float(rev[m].sum()) / total, 4) if total > 0 else None,
                     int((m & result.top).sum())])
    none = cat.isna()
    rows.append(["—", "No category", int(none.sum()), round(float(rev[none].sum()), 2),
                 round(float(pot[none].sum()), 2),
                 round(float(rev[none].sum()) / total, 4) if total > 0 else None,
                 int((none & result.top).sum())])
    # pad to a fixed height so the chart over this table always reads the same cells
    while len(rows) < SUMMARY_MAX_CATEGORIES + 2:
        rows.append([None] * len(header))
    blocks = [Block(1, 1, [["Summary by category and by salesperson"], [None]]),
              Block(SUMMARY_CATEGORY_ROW, 1, rows)]
    rep_header = ["Salesperson", "Accounts", *letters, "Revenue", "Potential", "Share of revenue"]
    reps = acc["salesperson"].fillna("(none)") if "salesperson" in acc else \
        pd.Series("(none)", index=acc.index)
    rep_rows: list[list[Any]] = [rep_header]
    in_cat = {k: (cat == k).to_numpy() for k in letters}  # once, not once per salesperson
    for name, idx in reps.groupby(reps, sort=True).groups.items():
        m = acc.index.isin(idx)
        r = float(rev[m].sum())
        rep_rows.append([name, int(m.sum()), *(int((in_cat[k] & m).sum()) for k in letters),
                         round(r, 2), round(float(pot[m].sum()), 2),
                         round(r / total, 4) if total > 0 else None])
    width = max(len(rep_header), 7)
    rep_rows = [r + [None] * (width - len(r)) for r in
                [*rep_rows, *_summary_by_profile(result, letters, rev, pot, total)]]
    end = SUMMARY_REP_ROW + max(previous_rows, len(rep_rows)) + 1
    blocks.append(Block(SUMMARY_REP_ROW, 1, rep_rows, clear_to_row=end, clear_cols=len(rep_header) + 2))
    return blocks


def _summary_by_profile(result: "Result", letters: list[str], rev: pd.Series, pot: pd.Series,
                        total: float) -> list[list[Any]]:
    """Rows under the per-rep table (so one block clears them): per profile, a blank row,
    a title, then its categories with its own labels, like the per-category table."""
    from .i18n import _
    from .profiles import spec_of
    rows: list[list[Any]] = []
    spec = result.config.categories
    for name, in_profile in _profile_masks(result):
        own = spec_of(result.profiles.get(name), spec)
        rows += [[None], [_("Profile {profile}").format(profile=name), None,
                          int(in_profile.sum())],
                 ["Category", "Label", "Accounts", "Revenue", "Potential", "Share of revenue",
                  "In Top 80%"]]
        for k in letters:
            m = (result.category == k) & in_profile
            rows.append([k, own.label(k), int(m.sum()), round(float(rev[m].sum()), 2),
                         round(float(pot[m].sum()), 2),
                         round(float(rev[m].sum()) / total, 4) if total > 0 else None,
                         int((m & result.top).sum())])
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
        effects.append(f"{points:+g} points")
    for what, series in (("cap", rules.cap), ("floor", rules.floor), ("forced", rules.force)):
        if series is not None and series.at[pos] is not None:
            effects.append(f"{what} {series.at[pos]}")
    if rules.exclude is not None and bool(rules.exclude.at[pos]):
        effects.append("excluded from ranking")
    facts = [get(acc, "id"), get(acc, "name"), get(acc, "status"), get(acc, "salesperson"),
             where or None, get(out, "Score"), get(out, "Category"), get(out, "Category label"),
             get(out, "Confidence"), get(out, "Potential"), get(out, "Penetration"),
             get(out, "Matrix"), get(out, "Top 80%"), get(out, "Flags") or None,
             "; ".join(effects) or None, get(out, "To collect") or None]
    blocks = [Block(1, 1, [[f"Explain: why account {facts[0] or '?'} is "
                            f"{facts[6] or 'without a category'}"],
                           ["Select a cell in an account's row on Accounts, then run Explain."]]),
              Block(EXPLAIN_FACTS_ROW, 1, [[k, v] for k, v in zip(EXPLAIN_FACTS, facts)])]
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
        rows.append([name, crit.label, None if score is None else round(score, 1), weight,
                     None if share is None else round(share, 4),
                     None if pts is None else round(pts, 1), plain(reason)])
    rows.sort(key=lambda r: (r[5] is None, -(r[5] or 0.0)))  # most points first, unscored last
    criteria = [list(EXPLAIN_CRITERIA_HEADER), *rows[:EXPLAIN_MAX_CRITERIA]]
    blocks.append(Block(EXPLAIN_CRITERIA_ROW, 1, criteria,
                        clear_to_row=EXPLAIN_CRITERIA_ROW + EXPLAIN_MAX_CRITERIA,
                        clear_cols=len(EXPLAIN_CRITERIA_HEADER)))
    fired = rules.fired.at[pos] if pos in rules.fired.index else ()
    lines: list[list[Any]] = [["Rule", "Why"]]
    lines += [[rid, rules.why.get(rid, "")] for rid in (fired or ())][:EXPLAIN_MAX_RULES]
    if len(lines) == 1:
        lines.append(["(no rule fired)", None])
    blocks.append(Block(EXPLAIN_RULES_ROW, 1, lines,
                        clear_to_row=EXPLAIN_RULES_ROW + EXPLAIN_MAX_RULES, clear_cols=2))
    return blocks


def counts_text(result: "Result") -> str:
    return " · ".join(f"{k} {n}" for k, n in result.counts.items())


def log_row(result: "Result", when: dt.datetime | None = None) -> list[Any]:
    when = (when or dt.datetime.now()).replace(microsecond=0)
    ch = result.changes
    from .sources.reading import group_problems
    grouped = group_problems(result.warnings)
    msgs = "; ".join(str(p) for p in grouped)
    if len(msgs) > 32000 or len(grouped) < len(result.warnings):
        msgs = f"(every warning with its cell: {READING_SHEET} sheet) " + msgs
    return [when, result.rules_name, result.config.engine, int(len(result.accounts)),
            counts_text(result), int(result.top.sum()), ch["changed"], ch["up"], ch["down"],
            len(result.warnings), msgs[:32000]]


def extra_sheets(result: "Result", builders: dict) -> tuple[dict[str, list[Block]], list[str]]:
    """Plugin output sheets; a failing builder is reported, not fatal."""
    out, problems = {}, []
    for name, build in builders.items():
        try:
            rows = build(result)
            grid = [[plain(v) for v in row] for row in rows]
            out[name] = [Block(1, 1, grid)]
        except Exception as exc:
            problems.append(f"output sheet {name} failed: {type(exc).__name__}: {exc}")
    return out, problems


def console_summary(result: "Result", target: str = "") -> str:
    n = len(result.accounts)
    spec = result.config.categories
    lines = [f"Scored {n} account{'s' if n != 1 else ''} with rules {result.rules_name}"
             f" ({result.config.engine} engine)" + (f" → {target}" if target else "")]
    for k, c in result.counts.items():
        share = f"{c / n:.0%}" if n else "0%"
        lines.append(f"  {k} {spec.label(k):<12} {c:>7}  {share:>4}")
    blank = int(result.category.isna().sum())
    if blank:
        lines.append(f"  - {'no category':<12} {blank:>7}")
    lines.append(f"  Top 80% of revenue: {int(result.top.sum())} account(s)")
    ch = result.changes
    if result.previous_category is not None and ch["changed"]:
        lines.append(f"  Changed since last run: {ch['changed']} ({ch['up']} up, {ch['down']} down)")
    if result.reading is not None and result.reading.header_note:
        lines.append(f"  Read {result.reading.sheet}: {result.reading.header_note}")
        if result.reading.left_out:
            rows = ", ".join(str(r.row) for r in result.reading.left_out[:8])
            lines.append(f"  Rows left out: {len(result.reading.left_out)} (row {rows}; why: "
                         f"{READING_SHEET} sheet, or potentiel inspect)")
    if result.warnings:
        from .sources.reading import group_problems
        grouped = group_problems(result.warnings)
        same = len(grouped) == len(result.warnings)
        lines.append(f"{len(result.warnings)} warning(s)" +
                     ("" if same else f", in {len(grouped)} lines") + ":")
        for p in grouped:
            lines.append(f"  {p}")
        if not same:
            lines.append(f"  (each one with its cell: the {READING_SHEET} sheet)")
    return "\n".join(lines)


def top_accounts(result: "Result", n: int) -> str:
    """The ``n`` best-scored accounts as a small text table; with profiles, one table per
    profile (each is ranked in its own A–D, on its own weights)."""
    if result.profile is None or result.profiles is None:
        return _top_accounts(result, n, result.category.notna())
    from .i18n import _
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
    lines = [f"Top {len(order)} accounts (best category first, then highest score; accounts "
             "without a category are not listed):",
             f"  {'id':<10} {'name':<32} {'score':>5}  cat  known  flags"]
    for pos in order:
        ident = str(acc.at[pos, "id"]) if "id" in acc and acc.at[pos, "id"] is not None else "?"
        name = str(acc.at[pos, "name"]) if "name" in acc and acc.at[pos, "name"] is not None else ""
        score = out.at[pos, "Score"]
        score_s = f"{score:5.1f}" if score == score else "    -"
        lines.append(f"  {ident:<10} {name[:32]:<32} {score_s}  {out.at[pos, 'Category'] or '-':<3}  "
                     f"{out.at[pos, 'Confidence']:>5.0%}  {out.at[pos, 'Flags']}")
    return "\n".join(lines)
