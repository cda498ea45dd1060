"""Preview: which accounts the current Settings and rules would move between categories,
and what made the difference, before anything is written.

The front ends score as usual (`potentiel.pipeline.score_tables`) but write no output;
`preview` compares the categories of that run with the ones the workbook holds:
Potentiel's own Category column, found by its ownership marker (``result.previous_category``,
read back as for the category override: a cell changed by hand counts as what the model
gave). It gives the migration matrix (from each category to each, in accounts and in
revenue) and the accounts that moved, each with what made the difference:

- a Category override typed by a person;
- a rule's cap, floor, force or exclusion (the rules that fire now and did not, or no
  longer fire, when the last run is in the history);
- the criteria: with the last run's weights kept in the history (`potentiel.review.history`)
  and its criterion scores read back from the workbook's ``Score: <criterion>`` columns,
  each criterion whose weight or score changed, with the points that change alone moves
  the score (the last run's weighted points against the same with only that criterion's
  new weight and score, weights re-normalised over what is known, as the score is), the
  largest in the direction of the move first; without the last run's weights, the
  criteria whose scores changed, or that the weights changed;
- the category bands, when the last run's are known and differ.

Pure: the front ends write `preview_blocks` on the Preview sheet (Aperçu) or print
`preview_lines`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..categories import by_bands, by_quotas
from ..config import criterion_word
from ..i18n import N_, _
from ..report import Block, plain
from ..sheet_styles import HEAD, INTEGER, MONEY, SUBTITLE, TITLE, Cells, Look, SheetLook
from ..sheetnames import PREVIEW_SHEET
from ..sources.ownership import key_of
from .history import History, account_key, run_model

if TYPE_CHECKING:
    from ..pipeline import Result
    from ..validate import RawTable

NONE = "—"  # no category (or not in the workbook's Category column)
MOVED_HEADERS = (N_("Account"), N_("Name"), N_("Before"), N_("After"), N_("Score before"),
                 N_("Score after"), N_("What made the difference"))
MATRIX_ROW = 4
EPS = 0.05  # points: below this a change is rounding (scores are written to 0.1)
LOOK = SheetLook(widths={1: 16, 2: 28, **{c: 11 for c in range(3, 7)}, 7: 90})


@dataclass
class Before:
    """What the workbook holds from the last run, per account (``result.accounts``' index):
    its ``category`` (None where none), ``score`` and criterion scores (NaN where not
    written), ``flags``; and, from the history's last run when it is the run the workbook
    shows, its ``model`` (`history.run_model`), ``rules`` fired and ``profile``."""

    category: pd.Series
    score: pd.Series
    criteria: dict[str, pd.Series]
    flags: pd.Series
    scored: bool                       # the workbook holds categories of Potentiel's
    model: dict | None = None
    rules: pd.Series | None = None
    profile: pd.Series | None = None
    notes: list[str] = field(default_factory=list)


def read_before(result: "Result", raw: "RawTable", history: History | None = None) -> Before:
    """The last run as the workbook shows it (see `Before`)."""
    index = result.accounts.index
    owned = {raw.owned[c]: j for j, c in enumerate(raw.col_numbers or ()) if c in raw.owned}

    def column(key: str) -> pd.Series:
        j = owned.get(key)
        if j is None:
            return pd.Series([None] * len(index), index=index, dtype=object)
        rows = raw.rows  # accounts the invoice lines add are past its rows: nothing before
        values = [rows[pos][j] if pos < len(rows) and j < len(rows[pos]) else None
                  for pos in index]
        return pd.Series(values, index=index, dtype=object)

    def number(key: str) -> pd.Series:
        return pd.to_numeric(column(key), errors="coerce").astype(float)

    prev = result.previous_category
    scored = prev is not None
    category = prev.reindex(index) if scored else pd.Series([None] * len(index), index=index,
                                                             dtype=object)
    category = category.map(lambda v: None if v is None or (isinstance(v, float) and
                                                            math.isnan(v)) or str(v).strip()
                            == "" else str(v).strip())
    before = Before(category, number("score"),
                    {n: number(key_of("Score: " + n)) for n in result.criteria},
                    column("flags"), scored)
    if history is not None and history.last is not None and scored:
        _from_history(before, result, history)
    elif scored:
        before.notes.append(_("the weights of the last run are not known (the workbook has no "
                              "history yet): the criteria are compared on their scores"))
    return before


def _from_history(before: Before, result: "Result", history: History) -> None:
    """The last run's model, rules and profiles, when its scores are the workbook's."""
    last = history.last
    snap = history.snapshots[last.run]
    ids = result.accounts["id"] if "id" in result.accounts else \
        pd.Series(None, index=result.accounts.index)
    keys = pd.Series([account_key(v) for v in ids.to_numpy(dtype=object)],
                     index=result.accounts.index, dtype=object)
    have = set(snap.index)
    inside = pd.Series([k in have for k in keys], index=keys.index, dtype=bool)
    kept = snap.reindex(keys[inside].to_numpy())
    shown = before.score[inside].to_numpy(dtype=float)
    saved = kept["score"].to_numpy(dtype=float)
    same = (np.isnan(shown) & np.isnan(saved)) | (np.abs(shown - saved) <= EPS + 1e-9)
    if not inside.any() or not same.all():
        before.notes.append(_("the last run in the history ({date}) is not the one the "
                              "workbook shows: the criteria are compared on their scores").format(
                                  date=f"{last.date:%Y-%m-%d %H:%M}"))
        return
    before.model = last.model or None
    rules = pd.Series([None] * len(keys), index=keys.index, dtype=object)
    profile = rules.copy()
    rules[inside] = kept["rules"].to_numpy(dtype=object)
    profile[inside] = kept["profile"].to_numpy(dtype=object)
    before.rules, before.profile = rules, profile


@dataclass
class Preview:
    """The migration matrix and the moves. ``counts``/``revenue``: from (rows) × to
    (columns), the letters best first then `NONE`; ``moved``: one row per account whose
    category would change (account, name, before, after, score_before, score_after, why),
    the largest moves first; ``up``/``down``/``other``: counts (other: to or from no
    category); ``notes``: what the comparison could not know."""

    letters: list[str]
    counts: pd.DataFrame
    revenue: pd.DataFrame
    moved: pd.DataFrame
    total: int
    up: int
    down: int
    other: int
    scored_before: bool
    notes: list[str] = field(default_factory=list)


def preview(result: "Result", raw: "RawTable", history: History | None = None) -> Preview:
    """Compare the run's categories with the workbook's (see the module's docstring)."""
    before = read_before(result, raw, history)
    index = result.accounts.index
    after = result.category.reindex(index)
    letters = _letters(result, before.category, after)
    axis = [*letters, NONE]
    old = before.category.map(lambda v: v if v in letters else NONE)
    new = after.map(lambda v: v if v in letters else NONE)
    revenue = pd.to_numeric(result.accounts["revenue"], errors="coerce").clip(lower=0) \
        .fillna(0.0) if "revenue" in result.accounts else pd.Series(0.0, index=index)
    counts = pd.DataFrame(0, index=axis, columns=axis, dtype=int)
    money = pd.DataFrame(0.0, index=axis, columns=axis)
    pairs = pd.DataFrame({"f": old.to_numpy(), "t": new.to_numpy(), "r": revenue.to_numpy()})
    for (f, t), g in pairs.groupby(["f", "t"], sort=False):
        counts.at[f, t] = len(g)
        money.at[f, t] = round(float(g["r"].sum()), 2)
    rank = {k: i for i, k in enumerate(letters)}
    moved_mask = (old != new).to_numpy()
    model = run_model(result)
    by_score = _by_score(result)
    rows = []
    up = down = other = 0
    for pos in index[moved_mask]:
        f, t = old[pos], new[pos]
        if f in rank and t in rank:
            direction = 1 if rank[t] < rank[f] else -1
            up, down = up + (direction > 0), down + (direction < 0)
        else:
            direction = 0
            other += 1
        why = _difference(result, before, model, by_score, pos, f, t, direction)
        rows.append([_id(result, pos), _name(result, pos), None if f == NONE else f,
                     None if t == NONE else t, _num(before.score[pos]),
                     _num(result.weighted.score.get(pos)), why,
                     abs(rank.get(t, len(letters)) - rank.get(f, len(letters)))])
    moved = pd.DataFrame(rows, columns=["account", "name", "before", "after", "score_before",
                                        "score_after", "why", "_step"])
    moved = moved.sort_values("_step", ascending=False, kind="stable").drop(columns="_step") \
        .reset_index(drop=True)
    notes = list(before.notes) if len(moved) else []
    if not before.scored:
        notes = [_("the workbook holds no category of Potentiel's yet (never scored, or its "
                   "Category column was deleted): every account shows as new")]
    return Preview(letters, counts, money, moved, len(index), up, down, other, before.scored,
                   notes)


def _letters(result: "Result", *series: pd.Series) -> list[str]:
    letters = list(result.config.categories.letters)
    if result.profiles is not None:
        from ..profiles import spec_of
        for p in result.profiles.profiles:
            letters += [k for k in spec_of(p, result.config.categories).letters
                        if k not in letters]
    for s in series:
        letters += sorted({v for v in s.dropna() if isinstance(v, str) and v not in letters})
    return letters


def _by_score(result: "Result") -> pd.Series:
    """The category the score alone gives (bands or quotas, per profile), before rules."""
    score = result.weighted.score
    excluded = result.rules.exclude.fillna(False).astype(bool) \
        if result.rules.exclude is not None else pd.Series(False, index=score.index)
    spec = result.config.categories
    if result.profile is None or result.profiles is None:
        return by_quotas(score, spec, ranked=~excluded) if spec.mode == "quotas" else \
            by_bands(score, spec)
    from ..profiles import categorize
    return categorize(score, result.profile, result.profiles, spec, ~excluded, result.accounts)


def _id(result: "Result", pos: Any) -> Any:
    v = plain(result.accounts.at[pos, "id"]) if "id" in result.accounts else None
    return account_key(v) if v is not None else None


def _name(result: "Result", pos: Any) -> Any:
    return plain(result.accounts.at[pos, "name"]) if "name" in result.accounts else None


def _num(v: Any) -> float | None:
    v = plain(v)
    return None if v is None else round(float(v), 1)


# --------------------------------------------------------------------------- the difference


def _difference(result: "Result", before: Before, model: dict, by_score: pd.Series, pos: Any,
                f: str, t: str, direction: int) -> str:
    pieces: list[str] = []
    if result.override is not None and result.override.get(pos) is not None:
        pieces.append(_("set by hand in {column}").format(
            column=result.override_header or _("Category override")))
        return "; ".join(pieces)
    if not before.scored or (f == NONE and before.category[pos] is None
                             and math.isnan(before.score[pos])):
        return _("not scored by the last run")
    pieces += _profile_pieces(result, before, pos)
    pieces += _rule_pieces(result, before, by_score, pos, t)
    pieces += _criteria_pieces(result, before, model, pos, direction)
    pieces += _band_pieces(result, before, model, pos, f, t)
    if not pieces:
        pieces.append(_("score {before} → {after}").format(
            before=_shown(before.score[pos]), after=_shown(result.weighted.score.get(pos))))
    return "; ".join(pieces)


def _shown(v: Any) -> str:
    v = plain(v)
    return "—" if v is None else f"{float(v):.1f}"


def _fired(series: pd.Series | None, pos: Any) -> set[str] | None:
    if series is None:
        return None
    v = series.get(pos)
    if isinstance(v, tuple):
        return set(v)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return set()
    return {s.strip() for s in str(v).split(",") if s.strip()}


def _profile_pieces(result: "Result", before: Before, pos: Any) -> list[str]:
    if result.profile is None or before.profile is None:
        return []
    was, now = before.profile.get(pos), result.profile.get(pos)
    if was is None or now is None or was == now:
        return []
    return [_("profile {before} → {after}").format(before=was, after=now)]


def _rule_pieces(result: "Result", before: Before, by_score: pd.Series, pos: Any,
                 t: str) -> list[str]:
    rules = result.rules
    now = _fired(rules.fired, pos) or set()
    was = _fired(before.rules, pos)
    pieces = []
    letter = None if t == NONE else t
    effect = None
    if rules.exclude is not None and bool(rules.exclude.get(pos, False)):
        effect = _("excluded from ranking by a rule")
    elif letter is not None and by_score.get(pos) != letter:
        for series, text in ((rules.force, N_("forced to {letter} by a rule")),
                             (rules.cap, N_("capped at {letter} by a rule")),
                             (rules.floor, N_("raised to {letter} by a rule (floor)"))):
            if series is not None and series.get(pos) == letter:
                effect = _(text).format(letter=letter)
                break
    if effect is not None:
        new = sorted(now - was) if was is not None else sorted(now)
        if was is not None and new:
            effect += " (" + _("fires now: {rules}").format(rules=", ".join(new)) + ")"
        elif now:
            effect += " (" + _("fired: {rules}").format(rules=", ".join(sorted(now))) + ")"
        pieces.append(effect)
    elif was is not None:
        new, gone = sorted(now - was), sorted(was - now)
        if new:
            pieces.append(_("rules that fire now: {rules}").format(rules=", ".join(new)))
        if gone:
            pieces.append(_("rules that no longer fire: {rules}").format(rules=", ".join(gone)))
    return pieces


def _weights_for(model: dict | None, profile: Any) -> dict[str, float] | None:
    if not model or model.get("kind", "weighted") != "weighted":
        return None
    weights = model.get("weights") or {}
    key = profile if isinstance(profile, str) and profile in weights else ""
    found = weights.get(key)
    if found is None and len(weights) == 1:
        found = next(iter(weights.values()))
    return {k: float(v) for k, v in found.items()} if isinstance(found, dict) else None


def _points(scores: dict[str, float], weights: dict[str, float]) -> dict[str, float]:
    """The points each criterion brings, as `potentiel.scoring.weighted_score` counts
    them: weights > 0 re-normalised over the criteria known for the account."""
    known = {c: s for c, s in scores.items() if weights.get(c, 0) > 0 and not math.isnan(s)}
    total = sum(weights[c] for c in known)
    if total <= 0:
        return {}
    return {c: s * weights[c] / total for c, s in known.items()}


def _criteria_pieces(result: "Result", before: Before, model: dict, pos: Any,
                     direction: int) -> list[str]:
    if getattr(result.model, "kind", "weighted") != "weighted":
        return []
    profile_now = result.profile.get(pos) if result.profile is not None else None
    w_now = _weights_for(model, profile_now) or {}
    profile_was = before.profile.get(pos) if before.profile is not None else profile_now
    w_was = _weights_for(before.model, profile_was)
    s_now = {c: float(result.scores.scores.at[pos, c]) if c in result.scores.scores else
             math.nan for c in result.criteria}
    s_was = {c: float(before.criteria[c].get(pos, math.nan)) for c in result.criteria}
    changed_scores = {c for c in s_now if not (math.isnan(s_now[c]) and math.isnan(s_was[c]))
                      and (math.isnan(s_now[c]) != math.isnan(s_was[c])
                           or abs(s_now[c] - s_was[c]) > EPS + 1e-9)}
    if w_was is None:
        pieces = []
        moves = sorted(changed_scores, key=lambda c: -abs(_delta(s_now[c], s_was[c])))
        for c in moves[:3]:
            pieces.append(_("{criterion} score {before} → {after}").format(
                criterion=criterion_word(c), before=_shown(s_was[c]), after=_shown(s_now[c])))
        if not pieces:
            p_now = _points(s_now, w_now)
            top = max(p_now, key=p_now.get) if p_now else None
            text = _("the weights or the bands changed (the last run's are not known)")
            if top is not None:
                text += "; " + _("now {criterion} brings the most: {points} points").format(
                    criterion=criterion_word(top), points=f"{p_now[top]:.1f}")
            pieces.append(text)
        return pieces
    # Each change on its own, from the last run: the score with only this criterion's new
    # weight and score, minus the last run's (the weights re-normalised, as the score is).
    base = _weighted(s_was, w_was)
    if math.isnan(base):
        return []
    effects = {}
    for c in set(w_now) | set(w_was) | set(s_now):
        weight_moved = abs(w_now.get(c, 0.0) - w_was.get(c, 0.0)) > 1e-9
        if not weight_moved and c not in changed_scores:
            continue
        effects[c] = _weighted({**s_was, c: s_now.get(c, math.nan)},
                               {**w_was, c: w_now.get(c, 0.0)}) - base
    sign = direction if direction else (1 if _weighted(s_now, w_now) >= base else -1)
    pushing = sorted((c for c, e in effects.items() if not math.isnan(e) and e * sign > EPS),
                     key=lambda c: -abs(effects[c]))
    pieces = []
    for c in pushing[:2]:
        points = f"{effects[c]:+.1f}"
        w_a, w_b = f"{w_was.get(c, 0.0):g}", f"{w_now.get(c, 0.0):g}"
        if c in changed_scores and w_a != w_b:
            text = _("{criterion} weight {before} → {after}, score {score_before} → "
                     "{score_after}: {points} points").format(
                criterion=criterion_word(c), before=w_a, after=w_b,
                score_before=_shown(s_was[c]), score_after=_shown(s_now[c]), points=points)
        elif c in changed_scores:
            text = _("{criterion} score {before} → {after}: {points} points").format(
                criterion=criterion_word(c), before=_shown(s_was[c]),
                after=_shown(s_now[c]), points=points)
        else:
            text = _("{criterion} weight {before} → {after} (score {score}): {points} "
                     "points").format(criterion=criterion_word(c), before=w_a, after=w_b,
                                      score=_shown(s_now.get(c)), points=points)
        pieces.append(text)
    return pieces


def _weighted(scores: dict[str, float], weights: dict[str, float]) -> float:
    """The weighted score of one account (NaN when nothing weighted is known)."""
    points = _points(scores, weights)
    return sum(points.values()) if points else math.nan


def _delta(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return 100.0  # known on one side only: the largest change
    return a - b


def _band_pieces(result: "Result", before: Before, model: dict, pos: Any, f: str,
                 t: str) -> list[str]:
    if not before.model:
        return []
    profile = result.profile.get(pos) if result.profile is not None else None
    now = _spec_of(model, profile)
    was = _spec_of(before.model, before.profile.get(pos) if before.profile is not None
                   else profile)
    if not now or not was or now.get("mode") != "bands" or was.get("mode") != "bands":
        return []
    pieces = []
    for letter in dict.fromkeys(k for k in (t, f) if k != NONE):
        a, b = was.get("bands", {}).get(letter), now.get("bands", {}).get(letter)
        if a is not None and b is not None and abs(a - b) > 1e-9:
            pieces.append(_("category {letter} starts at {after} (was {before})").format(
                letter=letter, after=f"{b:g}", before=f"{a:g}"))
    return pieces


def _spec_of(model: dict | None, profile: Any) -> dict | None:
    if not model:
        return None
    cats = model.get("categories") or {}
    key = profile if isinstance(profile, str) and profile in cats else ""
    return cats.get(key) or (next(iter(cats.values())) if len(cats) == 1 else None)


# --------------------------------------------------------------------------- sheet and terminal


def summary_text(p: Preview) -> str:
    n = len(p.moved)
    return _("{n} of {total} accounts would change category: {up} up, {down} down, {other} to "
             "or from no category").format(n=n, total=p.total, up=p.up, down=p.down,
                                           other=p.other)


def _grid(frame: pd.DataFrame, corner: str) -> list[list[Any]]:
    axis = list(frame.columns)
    head = [corner, *axis, _("Total")]
    rows = [head]
    for f in frame.index:
        line = frame.loc[f].tolist()
        rows.append([f, *[plain(v) for v in line], plain(sum(line))])
    totals = frame.sum(axis=0).tolist()
    rows.append([_("Total"), *[plain(v) for v in totals], plain(sum(totals))])
    return rows


def preview_blocks(p: Preview, previous_rows: int = 0, account_cell=None) -> list[Block]:
    """The Preview sheet: title and summary, the migration matrix in accounts and in revenue
    (from the rows' category to the columns'), then the accounts that would move with what
    made the difference. Rows an earlier preview wrote below are blanked. ``account_cell``:
    how an account id is written (see `potentiel.review.history.sheet_blocks`)."""
    head = [[_("Preview: the categories the current Settings and rules would give, against "
               "the ones in the workbook (nothing else was written)")],
            [summary_text(p)],
            ["; ".join(p.notes) if p.notes else None]]
    counts = _grid(p.counts, _("Accounts: from ↓ to →"))
    money = _grid(p.revenue, _("Revenue: from ↓ to →"))
    row_money = MATRIX_ROW + len(counts) + 1
    row_moved = row_money + len(money) + 1
    moved = [[_(h) for h in MOVED_HEADERS]]
    for rec in p.moved.itertuples(index=False):
        moved.append([account_cell(rec.account) if account_cell and rec.account else
                      rec.account, rec.name, rec.before, rec.after, rec.score_before,
                      rec.score_after, rec.why])
    if len(moved) == 1:
        moved.append([_("(no account would change category)")] + [None] * 6)
    last = row_moved + len(moved) - 1
    width = len(counts[0])

    def matrix_looks(b_rows: int, fmt: str) -> list[Cells]:
        return [Cells(0, 0, HEAD, cols=width), Cells(1, 0, Look(bold=True), rows=b_rows - 1),
                Cells(1, 1, Look(fmt), rows=b_rows - 1, cols=width - 1)]

    return [Block(1, 1, head, formats=[Cells(0, 0, TITLE, fit=False),
                                       Cells(1, 0, SUBTITLE, fit=False),
                                       Cells(2, 0, SUBTITLE, fit=False)]),
            Block(MATRIX_ROW, 1, counts, formats=matrix_looks(len(counts), INTEGER)),
            Block(row_money, 1, money, formats=matrix_looks(len(money), MONEY)),
            Block(row_moved, 1, [[plain(v) for v in r] for r in moved],
                  clear_to_row=max(previous_rows, last), clear_cols=len(MOVED_HEADERS),
                  formats=[Cells(0, 0, HEAD, cols=len(MOVED_HEADERS), fit=False)])]


def preview_lines(p: Preview, most: int | None = 50) -> list[str]:
    """The preview as terminal lines, in the run's language."""
    lines = [_("Preview (nothing written): the categories the current Settings and rules "
               "would give, against the ones in the workbook"), "  " + summary_text(p)]
    lines += ["  " + n for n in p.notes]
    for title, frame, fmt in ((_("Accounts: from ↓ to →"), p.counts, "{:>7,.0f}"),
                              (_("Revenue: from ↓ to →"), p.revenue, "{:>12,.0f}")):
        grid = _grid(frame, title)
        width = max(len(str(r[0])) for r in grid)
        lines.append("")
        lines.append(f"  {grid[0][0]:<{width}}" + "".join(
            f"{str(h):>{len(fmt.format(0))}}" for h in grid[0][1:]))
        for r in grid[1:]:
            lines.append(f"  {str(r[0]):<{width}}" + "".join(fmt.format(v or 0) for v in r[1:]))
    if len(p.moved):
        lines.append("")
        lines.append(_("Accounts that would move:"))
        rows = p.moved if most is None else p.moved.head(most)
        for rec in rows.itertuples(index=False):
            name = f" {rec.name}" if rec.name else ""
            lines.append(f"  {rec.account or '?'}{name}: {rec.before or NONE} → "
                         f"{rec.after or NONE} ({_shown(rec.score_before)} → "
                         f"{_shown(rec.score_after)}): {rec.why}")
        if most is not None and len(p.moved) > most:
            lines.append("  " + _("… and {n} more (the {sheet} sheet lists them all: add -o "
                                  "FILE)").format(n=len(p.moved) - most, sheet=_(PREVIEW_SHEET)))
    return lines
