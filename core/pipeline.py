"""The one pipeline every front end calls. Pure: tables in, tables out, no I/O.

    validate & coerce → derive → portfolio fields → criteria → rules → weighted score
      → category → portfolio views → outputs

`run()` takes the accounts as a `RawTable` and everything else ready-made (plugins,
config, rule set). `score_tables()` is what the front ends call: it reads the Settings
rows, loads the plugins and the rule file the settings name, builds the config and runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from . import portfolio, scoremodels, text
from . import progress
from .categories import (BELOW_LOWEST_BAND, EXCLUDED_FROM_RANKING, NOT_ENOUGH_DATA,
                         CategorySpec, adjust, below_bands, by_bands, by_quotas, hand_edits,
                         lowest_band, read_overrides)
from .config import Config, SettingsOverrides, apply_overrides, check_weights, read_settings
from .criterion import Criterion, Derivation
from .fields import (LOCATED_BY_COLUMN, NEAREST_REP_COLUMNS, OUTPUT_COLUMNS_HEAD,
                     OUTPUT_COLUMNS_TAIL, PROFILE_COLUMN, ROAD_KM_COLUMN, SALESPEOPLE_FIELDS, SCORE_PREFIX,
                     Catalogue)
from .i18n import _, guess_language, parse_language, use_language
from .manager import Plugins, load_plugins
from .objects import isna
from .problems import Problem, UserError
from .profiles import below_lowest
from .profiles import labels as profile_labels
from .rules.result import RulesResult
from .scoring import (CriteriaScores, Weighted, absent_columns_warning, run_criteria,
                      weighted_score)
from .validate import RawTable, Validated, validate

PORTFOLIO_FIELDS = ("penetration", "potential_tier", "penetration_tier", "nearest_rep",
                    "nearest_rep_km", "confidence")


@dataclass
class Context:
    """Run-wide data a derivation may need."""

    salespeople: pd.DataFrame | None
    config: Config


@dataclass
class Result:
    """Everything a run produced; the front ends write ``outputs`` and the views."""

    accounts: pd.DataFrame          # typed input fields, derived and portfolio fields
    outputs: pd.DataFrame           # the output columns, named as in DESIGN
    criteria: dict[str, Criterion]
    scores: CriteriaScores
    weighted: Weighted
    rules: RulesResult
    category: pd.Series
    top: pd.Series
    config: Config
    rules_name: str = ""
    warnings: list[Problem] = field(default_factory=list)
    previous_category: pd.Series | None = None
    has_reps: bool = False
    output_sheets: dict = field(default_factory=dict)  # plugin sheet name → build(result)
    derivations: dict[str, Derivation] = field(default_factory=dict)
    reading: Any = None  # the ReadingReport of the accounts (potentiel.sources.reading)
    set_columns: dict[str, str] = field(default_factory=dict)  # field set by rules → header
    # A Category override typed by a person: the letter applied per account (None where
    # none is), the category the model gave (before the override) and the header typed.
    override: pd.Series | None = None
    model_category: pd.Series | None = None
    override_header: str = ""
    sales: Any = None  # the invoice lines read (potentiel.sources.invoices.Lines), if any
    model: Any = None  # scoremodels.ModelScores: points per table, sub-scores, cross cell
    profile: pd.Series | None = None  # the profile name per account (None: no profiles)
    profiles: Any = None              # the rule file's `potentiel.profiles.ProfileSet`
    language: str = "en"  # the run's language: every text written for it ("en" or "fr")
    # the reps as located (name, latitude, longitude; None without a Salespeople table or
    # when it cannot be located) and the Salespeople table as read (potentiel.plan)
    reps: pd.DataFrame | None = None
    salespeople: Any = None
    # the accounts' table as read and field → its column there, for the cells of messages
    # about one account (`account_cell`)
    raw: Any = None
    columns: dict[str, int] = field(default_factory=dict)

    def account_cell(self, pos: Any, fld: str = "id") -> str:
        """The cell of account ``pos`` (a data-row position: the accounts' index) in the
        column of field ``fld``, or in the table's first column when it has none
        (``Accounts!A12``); "" when the table read is not kept."""
        raw = self.raw
        if raw is None or not 0 <= int(pos) < len(raw.row_numbers):
            return ""
        return raw.cell(int(pos), self.columns.get(fld, 0))

    def column_header(self, fld: str = "id") -> str:
        """The header of field ``fld``'s column as typed (the first column's when the table
        has none): what the reports group one account's warnings under."""
        raw = self.raw
        if raw is None or not raw.headers:
            return fld
        header = raw.headers[self.columns.get(fld, 0)]
        return str(header).strip() if header not in (None, "") else fld

    @property
    def counts(self) -> dict[str, int]:
        letters = self.config.categories.letters
        vc = self.category.value_counts()
        return {k: int(vc.get(k, 0)) for k in letters}

    @property
    def changes(self) -> dict[str, int]:
        """Category changes the model made since the previous run: ``changed``, ``up``,
        ``down``, ``new`` (accounts), and ``set_by_hand`` (accounts whose category comes
        from a Category override, never counted as a change).

        ``previous_category`` is the category the last run gave: the Category column read
        back, a cell edited by hand read through its Category label (see
        `categories.hand_edits`), so an edit is not a change of the model.
        """
        out = {"changed": 0, "up": 0, "down": 0, "new": 0, "set_by_hand": 0}
        by_hand = np.zeros(len(self.category), dtype=bool) if self.override is None else \
            self.override.notna().to_numpy()
        out["set_by_hand"] = int(by_hand.sum())
        prev = self.previous_category
        if prev is None:
            return out
        order = {k: float(i) for i, k in enumerate(self.config.categories.letters)}
        p = pd.to_numeric(prev.map(lambda v: order.get(str(v).strip()) if v is not None else None),
                          errors="coerce").to_numpy(dtype=float)
        n = pd.to_numeric(self.category.map(order), errors="coerce").to_numpy(dtype=float,
                                                                               copy=True)
        p = p.copy()
        n[by_hand] = np.nan  # a person's choice, not the model's
        p[by_hand] = np.nan
        both = ~np.isnan(p) & ~np.isnan(n)
        out["changed"] = int((both & (p != n)).sum())
        out["up"] = int((both & (n < p)).sum())
        out["down"] = int((both & (n > p)).sum())
        out["new"] = int((np.isnan(p) & ~np.isnan(n) & ~by_hand).sum())
        return out


def derive(accounts: pd.DataFrame, derivations: Iterable[Derivation], context: Context,
           warnings: list[Problem]) -> pd.DataFrame:
    """Fill each derived field where the account leaves it blank; typed values win."""
    pending = list(derivations)
    done: set[str] = set()
    # Dependency order: a derivation runs once the derived fields it reads are filled.
    for _round in range(len(pending) + 1):
        if not pending:
            break
        later = []
        targets = {d.field for d in pending}
        for d in pending:
            if any(i in targets and i != d.field and i not in done for i in d.inputs):
                later.append(d)
                continue
            for col in d.inputs:
                if col not in accounts:
                    accounts[col] = np.nan
            try:
                values = pd.Series(d.compute(accounts, context), index=accounts.index).astype(float)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                warnings.append(Problem(_("could not derive {field} ({label}): {error}").format(
                    field=d.field, label=d.label or d.field, error=error)))
                done.add(d.field)
                continue
            values = values.where(np.isfinite(values))
            current = accounts[d.field] if d.field in accounts else pd.Series(np.nan, index=accounts.index)
            accounts[d.field] = current.where(current.notna(), values)
            done.add(d.field)
        if len(later) == len(pending):
            names = ", ".join(d.field for d in later)
            warnings.append(Problem(_("derived fields depend on each other in a circle "
                                      "({names}); they are left as typed").format(names=names)))
            break
        pending = later
    return accounts


def portfolio_fields(accounts: pd.DataFrame, reps: pd.DataFrame | None, config: Config) -> None:
    """Nearest rep, distance, penetration and tiers: readable by rules, written as outputs."""
    names, km = portfolio.nearest_rep(accounts, reps)
    accounts["nearest_rep"] = names
    accounts["nearest_rep_km"] = km  # great-circle
    road = portfolio.by_road(km, config.detour_factor)
    accounts["nearest_rep_road_km"] = road
    if "distance_km" not in accounts:
        accounts["distance_km"] = np.nan
    # a distance typed by a person is taken as it is; a computed one is by road (estimated)
    accounts["distance_km"] = accounts["distance_km"].where(accounts["distance_km"].notna(), road)
    for col in ("revenue", "potential"):
        if col not in accounts:
            accounts[col] = np.nan
    accounts["penetration"] = portfolio.penetration(accounts["revenue"], accounts["potential"])
    high, low = portfolio.potential_bounds(accounts["potential"], config.matrix)
    accounts["potential_tier"] = portfolio.tier(accounts["potential"], high, low,
                                                portfolio.POTENTIAL_TIERS)
    m = config.matrix
    accounts["penetration_tier"] = portfolio.tier(accounts["penetration"], m.penetration_strong,
                                                  m.penetration_weak, portfolio.PENETRATION_TIERS)


def locate_places(accounts: pd.DataFrame, raw: RawTable, checked: Validated, config: Config,
                  warnings: list[Problem]) -> None:
    """Latitude and longitude from the postal code and town where they are blank
    (`potentiel.sources.geocode`), and ``located_by`` for the output column; a table
    with neither column is left as it is."""
    if "postal_code" not in accounts and "town" not in accounts:
        return
    from .sources import geocode
    columns = checked.columns

    def cell(pos: int, name: str) -> str:
        return raw.cell(pos, columns[name]) if name in columns else ""

    headers = {f: str(raw.headers[j]).strip() for f, j in columns.items()}
    try:
        found = geocode.locate(accounts, config.country, cell, headers)
    except FileNotFoundError as exc:
        warnings.append(Problem(_("accounts not located from postal code and town: "
                                  "{error}").format(error=exc), raw.sheet))
        return
    warnings.extend(found.problems)
    accounts["latitude"] = found.latitude
    accounts["longitude"] = found.longitude
    accounts["located_by"] = found.by


def run(raw: RawTable, plugins: Plugins, config: Config, ruleset: Any = None,
        salespeople: pd.DataFrame | None = None, warnings: list[Problem] | None = None,
        time_limit: float | None = None, sales: Any = None) -> Result:
    """Score the accounts of ``raw``. Never changes ``raw``. ``sales``: the invoice lines
    read (`potentiel.sources.invoices.Lines`), merged into the accounts after validation."""
    warnings = list(warnings or [])
    catalogue = plugins.catalogue()
    if ruleset is not None:
        for name, kind in getattr(ruleset, "extra_fields", {}).items():
            from .fields import Field
            catalogue.add(Field(name, kind))
    progress.scoring(len(raw.rows))
    checked: Validated = validate(raw, catalogue)
    warnings.extend(checked.warnings)
    accounts = checked.accounts
    typed_override = accounts["category_override"].copy() \
        if "category_override" in accounts else None  # as typed, whatever rules set later
    present = set(checked.columns) | set(checked.extras)
    present |= _merge_sales(accounts, sales, warnings)
    derivations = dict(plugins.derivations)
    for d in getattr(ruleset, "derivations", []) or []:
        derivations[d.field] = d
    context = Context(salespeople, config)
    accounts = derive(accounts, derivations.values(), context, warnings)
    present |= {d.field for d in derivations.values()
                if all(i in present for i in d.inputs)}
    locate_places(accounts, raw, checked, config, warnings)
    portfolio_fields(accounts, salespeople, config)
    if salespeople is not None and len(salespeople):
        present.add("distance_km")
        present |= {"nearest_rep", "nearest_rep_km"}
    criteria = scoremodels.model_criteria(ruleset, {**plugins.criteria,
                                                    **(getattr(ruleset, "tables", None) or {})})
    kwargs = {} if time_limit is None else {"time_limit": time_limit}
    crit = run_criteria(accounts, criteria, config.params, present, warnings, **kwargs)
    weights = scoremodels.model_weights(ruleset, criteria, config.weights)
    chosen = _choose_profiles(ruleset, accounts, crit.scores)
    # What rules see as `confidence`: the share of weight on known scores, before any rule.
    before_rules = _weighted(crit.scores, weights, ruleset, chosen)
    accounts["confidence"] = scoremodels.confidence(ruleset, accounts, crit.scores,
                                                    before_rules.confidence)
    # No input column is unknown, not "left out": only a weight of 0 leaves the model.
    absent_note = absent_columns_warning(criteria, crit.absent, weights, accounts["confidence"])
    if absent_note is not None:
        warnings.insert(0, absent_note)  # run-level: it explains the categories
    progress.rules(len(accounts))
    rules = _rules_stage(ruleset, accounts, crit.scores, config, warnings)
    scores = crit.scores.copy()
    for name, override in rules.score.items():
        if name in scores:
            scores[name] = override.where(override.notna(), scores[name])
    for fld, values in rules.set.items():
        if fld in accounts:
            accounts[fld] = values.where(values.notna(), accounts[fld])
        else:
            accounts[fld] = values
    # no rule changed a score: the weighted score is the one computed before the rules
    weighted = _weighted(scores, weights, ruleset, chosen) if rules.score else before_rules
    model = _score_model(ruleset, raw, checked, accounts, scores, weighted, rules, warnings)
    final = model.total
    excluded = rules.exclude.fillna(False).astype(bool) if rules.exclude is not None else \
        pd.Series(False, index=accounts.index)
    spec = config.categories
    letters = _categories(final, spec, ruleset, chosen, excluded, accounts, warnings)
    letters = adjust(letters, spec, rules.cap, rules.floor, rules.force)
    letters = letters.where(~excluded, None)
    letters, rules = _final_stage(ruleset, accounts, scores, config, final, letters, excluded,
                                  rules, model)
    model_letters = letters
    override = None
    header = ""
    if typed_override is not None:
        override, header = _category_override(raw, checked, typed_override, spec, excluded,
                                              warnings)
        letters = override.where(override.notna(), letters)
    previous = _previous_category(raw, checked, spec, warnings)
    top = portfolio.top_share(accounts["revenue"], config.top_share, eligible=~excluded)
    warnings.extend(rules.problems)
    result = Result(accounts=accounts, outputs=pd.DataFrame(index=accounts.index),
                    criteria=dict(criteria), scores=replace(crit, scores=scores),
                    weighted=replace(weighted, score=final, confidence=accounts["confidence"]),
                    rules=rules, category=letters,
                    top=top, config=config, rules_name=getattr(ruleset, "name", "") or "",
                    warnings=warnings, previous_category=previous,
                    has_reps=salespeople is not None and len(salespeople) > 0,
                    derivations=derivations, reading=checked.report,
                    set_columns=dict(getattr(ruleset, "outputs", None) or {}),
                    override=override, model_category=model_letters, override_header=header,
                    sales=sales, profile=chosen,
                    profiles=getattr(ruleset, "profiles", None), reps=salespeople,
                    raw=raw, columns=dict(checked.columns))
    result.model = model
    result.outputs = build_outputs(result, excluded)
    return result


def _score_model(ruleset: Any, raw: RawTable, checked: Validated, accounts: pd.DataFrame,
                 scores: pd.DataFrame, weighted: Weighted, rules: RulesResult,
                 warnings: list[Problem]) -> scoremodels.ModelScores:
    """The score after the rules, by the rule file's model (weighted, points, imported),
    with its sub-scores and cross (`potentiel.scoremodels`)."""
    columns = checked.columns

    def cell(pos: Any, fld: str) -> str:
        return raw.cell(pos, columns[fld]) if fld in columns else raw.sheet

    return scoremodels.compute(ruleset, accounts, scores, weighted.score, rules, warnings, cell)


def _category_override(raw: RawTable, checked: Validated, typed: pd.Series, spec: CategorySpec,
                       excluded: pd.Series, warnings: list[Problem]) -> tuple[pd.Series, str]:
    """The Category override column: (letter applied per account, None where none is; the
    header as typed). A value naming no category, and an override on an account a rule
    excludes from ranking, are warnings naming the cell, and the override is not applied."""
    j = checked.columns["category_override"]
    header = str(raw.headers[j]).strip() or _("Category override")
    letters, invalid = read_overrides(typed, spec)
    names = ", ".join(spec.letters)
    example = spec.shown_label(spec.letters[0]) or spec.letters[0]
    for pos in invalid[invalid].index:
        warnings.append(Problem(
            _('"{value}" is not a category ({letters}, or a label such as {label}); the '
              "override is ignored and the computed category kept: type one of the letters, "
              "or clear the cell").format(value=str(typed[pos]).strip(), letters=names,
                                          label=example),
            raw.cell(pos, j), kind="bad-override", column=header))
    blocked = letters.notna() & excluded
    for pos in blocked[blocked].index:
        warnings.append(Problem(
            _("the override {letter} is not applied: a rule excludes this account from "
              "ranking (Why says which); an excluded account has no category. Clear the cell, "
              "or change the rule").format(letter=letters[pos]),
            raw.cell(pos, j), kind="override-excluded", column=header))
    return letters.where(~blocked, None), header


def _previous_category(raw: RawTable, checked: Validated, spec: CategorySpec,
                       warnings: list[Problem]) -> pd.Series | None:
    """The category the last run gave, from Potentiel's own Category column read back; a
    cell changed by hand (its Category label names another letter) is reported per cell
    and read through its label, so that an edit never counts as a model change."""
    if checked.previous_category is None:
        return None
    edits = hand_edits(checked.previous_category, checked.previous_label, spec)
    if not edits.edited.any():
        return edits.model
    cols = {raw.owned[c]: j for j, c in enumerate(raw.col_numbers)
            if raw.owned.get(c) in ("category", "category_label")}
    j = cols["category"]
    header = str(raw.headers[j]).strip() or _("Category")
    label_j = cols.get("category_label")
    for pos in edits.edited[edits.edited].index:
        was = edits.model[pos] or _("no category")
        now = edits.typed[pos] or _("blank")
        label_at = _(" (its label {cell} says {label})").format(
            cell=raw.cell(pos, label_j).split("!")[-1],
            label=str(checked.previous_label[pos]).strip()) if label_j is not None else ""
        warnings.append(Problem(
            _("{header} was changed by hand from {was} to {now}{label_at}; Potentiel's "
              "category is written back; to keep a category of your own, use a Category "
              "override column").format(header=header, was=was, now=now, label_at=label_at),
            raw.cell(pos, j), kind="hand-edit", column=header))
    return edits.model


def _rules_stage(ruleset: Any, accounts: pd.DataFrame, scores: pd.DataFrame, config: Config,
                 warnings: list[Problem]) -> RulesResult:
    if ruleset is None:
        return RulesResult.empty(accounts.index)
    from .rules import apply_rules
    return apply_rules(ruleset, accounts, scores, engine=config.engine)


# --- profiles and the second stage (potentiel.profiles, stage: final rules) ----------------

def _choose_profiles(ruleset: Any, accounts: pd.DataFrame,
                     scores: pd.DataFrame) -> pd.Series | None:
    """The profile of every account (None without profiles), also ``accounts["profile"]``
    so rules read it."""
    profiles = getattr(ruleset, "profiles", None)
    if profiles is None:
        return None
    from .profiles import PROFILE_FIELD, choose
    chosen = choose(profiles, accounts, scores)
    accounts[PROFILE_FIELD] = chosen
    return chosen


def _weighted(scores: pd.DataFrame, weights: dict[str, float], ruleset: Any,
              chosen: pd.Series | None) -> Weighted:
    if chosen is None:
        return weighted_score(scores, weights)
    from .profiles import score_by_profile
    return score_by_profile(scores, chosen, ruleset.profiles, weights)


def _categories(score: pd.Series, spec: CategorySpec, ruleset: Any, chosen: pd.Series | None,
                excluded: pd.Series, accounts: pd.DataFrame,
                warnings: list[Problem]) -> pd.Series:
    if chosen is None:
        if spec.mode == "quotas":
            return by_quotas(score, spec, ranked=~excluded)
        return by_bands(score, spec)
    from .profiles import categorize, group_notes
    warnings.extend(group_notes(ruleset.profiles, chosen, accounts))
    return categorize(score, chosen, ruleset.profiles, spec, ~excluded, accounts)


def _final_stage(ruleset: Any, accounts: pd.DataFrame, scores: pd.DataFrame, config: Config,
                 score: pd.Series, letters: pd.Series, excluded: pd.Series,
                 rules: RulesResult, model: Any = None) -> tuple[pd.Series, RulesResult]:
    """Run the ``stage: final`` rules on the first stage's outcome; their caps, floors and
    forces apply to the categories, their flags, Why and ``set`` join the first stage's."""
    if ruleset is None or not ruleset.final_rules:
        return letters, rules
    from .rules import apply_rules
    from .rules.engines import outcome_columns
    from .rules.result import combine
    top = portfolio.top_share(accounts["revenue"], config.top_share, eligible=~excluded)
    facts = outcome_columns(accounts, score, letters, top, rules.flags, ruleset.final_kinds,
                            model)
    second = apply_rules(ruleset, facts, scores, engine=config.engine, stage="final")
    for fld, values in second.set.items():
        accounts[fld] = values.where(values.notna(), accounts[fld]) if fld in accounts \
            else values
    letters = adjust(letters, config.categories, second.cap, second.floor, second.force)
    return letters.where(~excluded, None), combine(rules, second)


def build_outputs(result: Result, excluded: pd.Series) -> pd.DataFrame:
    """The output columns, in DESIGN's order, with plain values (numbers, text, booleans)."""
    acc = result.accounts
    spec = result.config.categories
    out: dict[str, Any] = {}
    out["Score"] = result.weighted.score.round(1)
    out["Category"] = result.category
    label = profile_labels(result.category, result.profile, result.profiles, spec)
    below, lowest = below_lowest(result.weighted.score, result.profile, result.profiles, spec)
    # without a category: below the lowest band, or not enough data; excluded over both
    none = isna(result.category.to_numpy(dtype=object))
    out_of = excluded.to_numpy(dtype=bool)
    below = below & none & ~out_of
    said = np.where(none & below.to_numpy(), _(BELOW_LOWEST_BAND),
                    np.where(none, _(NOT_ENOUGH_DATA), label.to_numpy(dtype=object)))
    out["Category label"] = pd.Series(np.where(out_of, _(EXCLUDED_FROM_RANKING), said),
                                      index=label.index, dtype=object)
    if result.profile is not None:
        out[PROFILE_COLUMN] = result.profile
    for name in result.criteria:
        out[SCORE_PREFIX + name] = result.scores.scores[name].round(1)
    out["Potential"] = acc["potential"].round(2)
    out["Penetration"] = acc["penetration"].round(4)
    out["Matrix"] = text.matrix_column(acc["potential_tier"], acc["penetration_tier"])
    out["Top 80%"] = result.top
    flags = text.flags_column(result.rules.flags, excluded, result.override)
    out["Flags"] = flags
    why = text.why_column(result)
    if below.any():  # no category although scored: say which band it missed
        notes = [_("below the lowest band, {letter} from {min}").format(
            letter=b.letter, min=f"{b.min:g}") for b in lowest[below]]
        why[below] = [f"{note}. {w}" if w else note for note, w in zip(notes, why[below])]
    out["Why"] = why
    out["Confidence"] = result.weighted.confidence.round(3)
    out["To collect"] = text.to_collect_column(result)
    road = result.has_reps and result.config.detour_factor != 1
    if result.has_reps:
        out["Nearest rep"] = acc["nearest_rep"]
        out["Nearest rep km"] = acc["nearest_rep_km"].round(1)
        if road:
            out[ROAD_KM_COLUMN] = acc["nearest_rep_road_km"].round(1)
    if "located_by" in acc:
        out[LOCATED_BY_COLUMN] = acc["located_by"].map(lambda v: _(v) if isinstance(v, str) else v)
    from .sources.invoices import output_columns as invoice_columns
    from_lines = invoice_columns(result.sales, acc.index)  # what the invoice lines gave
    out.update(from_lines)
    # A field a rule sets shows in its own column (the value used after the rules); the
    # user's input cell of that field is never written.
    for fld, header in result.set_columns.items():
        out[header] = acc[fld] if fld in acc else pd.Series(None, index=acc.index, dtype=object)
    model_columns = scoremodels.output_columns(result.model) if result.model is not None else {}
    out.update(model_columns)
    frame = _side_by_side(out, acc.index)
    order = [*OUTPUT_COLUMNS_HEAD, *((PROFILE_COLUMN,) if result.profile is not None else ()),
             *(SCORE_PREFIX + n for n in result.criteria),
             *model_columns,
             *OUTPUT_COLUMNS_TAIL, *(NEAREST_REP_COLUMNS if result.has_reps else ()),
             *((ROAD_KM_COLUMN,) if road else ()),
             *((LOCATED_BY_COLUMN,) if "located_by" in acc else ()),
             *from_lines, *result.set_columns.values()]
    return frame[order]


def _side_by_side(columns: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """``pd.DataFrame(columns, index=index)``, the columns kept as they are (not copied into
    one block per dtype) when each is a Series on ``index`` already."""
    if columns and all(isinstance(c, pd.Series) and c.index.equals(index)
                       for c in columns.values()):
        frame = pd.concat(columns, axis=1)
        frame.index = index
        return frame
    return pd.DataFrame(columns, index=index)


def read_salespeople(raw: RawTable | None, warnings: list[Problem],
                     country: str = "FR") -> pd.DataFrame | None:
    """The optional Salespeople table as name / latitude / longitude; a rep's base may be
    given by postal code or town instead of coordinates (``country``: the default one)."""
    if raw is None:
        return None
    checked = validate(raw, Catalogue.build(base=SALESPEOPLE_FIELDS))
    warnings.extend(p for p in checked.warnings if p.kind != "no-id-column")
    reps = checked.accounts
    places = "postal_code" in reps or "town" in reps
    missing = [c for c in ("name", "latitude", "longitude") if c not in reps
               and not (places and c != "name")]
    if missing:
        wanted = "" if "name" in missing else _(" (or a Postal code or Town column)")
        warnings.append(Problem(_("Salespeople table has no {columns} column{wanted}; "
                                  "nearest-rep distances are not computed").format(
                                      columns=", ".join(missing), wanted=wanted), raw.sheet))
        return None
    if places:
        _locate_reps(reps, raw, checked, country, warnings)
    used = ", ".join(f"{c.header} → {c.field}" for c in checked.report.columns if c.field)
    located = int(reps["latitude"].notna().sum())
    warnings.append(Problem(_("reps read from the sheet {sheet}, {note}: {n} rep(s), {located} "
                              "located ({columns})").format(
                                  sheet=raw.sheet, note=raw.header_note or _("headers on row 1"),
                                  n=len(reps), located=located, columns=used), raw.sheet,
                            level="notice", kind="reps-read"))
    return reps[["name", "latitude", "longitude"]]


def _locate_reps(reps: pd.DataFrame, raw: RawTable, checked: Validated, country: str,
                 warnings: list[Problem]) -> None:
    from .sources import geocode
    columns = checked.columns
    headers = {f: str(raw.headers[j]).strip() for f, j in columns.items()}
    try:
        found = geocode.locate(reps, country, lambda pos, f: raw.cell(pos, columns[f])
                               if f in columns else "", headers)
    except FileNotFoundError as exc:
        warnings.append(Problem(_("reps not located from postal code and town: {error}").format(
            error=exc), raw.sheet))
        return
    warnings.extend(found.problems)
    reps["latitude"] = found.latitude
    reps["longitude"] = found.longitude
    lost = [pos for pos in reps.index[found.by == geocode.NOT_FOUND]
            if isinstance(reps.at[pos, "name"], str)]
    for pos in lost:
        warnings.append(Problem(_('rep "{name}" has no place that can be located (coordinates, '
                                  "postal code or town); left out of the nearest-rep "
                                  "distances").format(name=reps.at[pos, "name"]),
                                raw.cell(pos, columns["name"]) if "name" in columns
                                else raw.sheet, kind="rep-not-located"))


RULES_PATH_ENV = "POTENTIEL_RULES_PATH"  # extra folders of rule files (e.g. a server's)


def resolve_rules_file(name: str | None, base_dir: Path | None, where: str = "",
                       from_command_line: bool = False) -> Path | None:
    """Find a rules file: a name from Settings is looked for next to the workbook, then in
    the rules folder; the working folder counts only for ``--rules`` on the command line
    (a server's working folder is none of a workbook's business)."""
    if not name:
        return None
    from .resources import rules_dir
    candidates = []
    p = Path(name).expanduser()
    extra = [Path(d) for d in os.environ.get(RULES_PATH_ENV, "").split(os.pathsep) if d]
    roots = ([Path.cwd()] if from_command_line else []) + ([base_dir] if base_dir else []) + \
        extra + [rules_dir(), rules_dir() / "clients"]
    for root in ([Path("/")] if p.is_absolute() else roots):
        for suffix in ("", ".yaml", ".yml"):
            c = (root / p) if not p.is_absolute() else p
            c = c.with_name(c.name + suffix) if suffix else c
            candidates.append(c)
            if c.is_file():
                return c
    raise UserError(_('rules file "{name}" not found; looked in the workbook folder, in '
                      "{env} folders and in {folder} (give a path, or a name from rules/)").format(
                        name=name, env=RULES_PATH_ENV, folder=rules_dir()), where)


def run_language(settings_rows: Iterable[tuple[Any, Any, str]], headers: Iterable[Any] = (),
                 owned: Iterable[int] = (), col_numbers: Iterable[int] = ()) -> str:
    """The language of a run: the Settings row ``Language`` / ``Langue`` (English,
    Français, en, fr …), else the language of the Accounts headers (their French and
    English field names and aliases; Potentiel's own columns, ``owned`` sheet columns,
    do not count), else English. A Language value that names no language is said when
    Settings are read, and the headers decide meanwhile."""
    for label, value, _where in settings_rows:
        if label is not None and _normalise(label) in ("language", "langue"):
            lang = parse_language(value)
            if lang:
                return lang
    owned = set(owned)
    cols = list(col_numbers)
    headers = [h for j, h in enumerate(headers)
               if not (j < len(cols) and cols[j] in owned)]
    french, english = _header_words()
    return guess_language(headers, french, english)


def _normalise(text: Any) -> str:
    from .fields import normalise
    return normalise(text)


_WORDS: tuple[set[str], set[str]] | None = None
# Words that make an alias French (an alias with an accent is French too).
_FRENCH_MARKS = {"ca", "code", "client", "raison", "sociale", "nom", "societe", "statut",
                 "commercial", "vendeur", "responsable", "secteur", "activite", "chiffre",
                 "affaires", "potentiel", "effectif", "effectifs", "depense", "salarie",
                 "incidents", "paiement", "delai", "note", "credit", "croissance",
                 "prescripteur", "relation", "ville", "commune", "pays", "concurrents",
                 "categorie", "identifiant", "numero", "ventes", "annuel", "cotation",
                 "localite", "postal", "cp", "forcee", "manuelle"}


def _header_words() -> tuple[set[str], set[str]]:
    """(French words, English words): the built-in fields' labels are English, their
    aliases French when they hold an accent or a French word, English otherwise."""
    global _WORDS
    if _WORDS is None:
        import re
        import unicodedata

        from .fields import BUILTIN_FIELDS
        french, english = set(), set()
        for f in BUILTIN_FIELDS:
            english.add(f.english_title)
            for alias in f.aliases:
                plain = unicodedata.normalize("NFKD", alias).encode("ascii", "ignore").decode()
                words = set(re.findall(r"[a-z]+", plain.lower()))
                if plain != alias or words & _FRENCH_MARKS:
                    french.add(alias)
                else:
                    english.add(alias)
        _WORDS = (french - english, english - french)
    return _WORDS


def score_tables(accounts: RawTable, settings_rows: Iterable[tuple[Any, Any, str]] = (),
                 salespeople: RawTable | None = None, *, rules: str | Path | None = None,
                 plugin_dirs: Iterable[str | Path] = (), engine: str | None = None,
                 base_dir: Path | None = None, plugins: Plugins | None = None,
                 time_limit: float | None = None, sales: RawTable | None = None) -> Result:
    """What every front end calls: Settings → plugins → rule file → config → run.

    ``rules``, ``plugin_dirs`` and ``engine`` come from the command line and win over the
    Settings sheet. ``sales``: invoice lines (`potentiel.sources.invoices`), whatever file
    or sheet they came from; accounts they add are in ``result.sales.added`` for the front
    end to write. Raises `UserError` for anything the user must fix first.

    The run is in the language `run_language` chooses (``result.language``): a front end
    that writes should run its writing inside ``use_language(result.language)`` too.
    """
    settings_rows = list(settings_rows)
    lang = run_language(settings_rows, accounts.headers, accounts.owned, accounts.col_numbers)
    with use_language(lang):
        result = _score_tables(accounts, settings_rows, salespeople, rules=rules,
                               plugin_dirs=plugin_dirs, engine=engine, base_dir=base_dir,
                               plugins=plugins, time_limit=time_limit, sales=sales)
    result.language = lang
    return result


def _score_tables(accounts: RawTable, settings_rows: list, salespeople: RawTable | None, *,
                  rules: str | Path | None, plugin_dirs: Iterable[str | Path],
                  engine: str | None, base_dir: Path | None, plugins: Plugins | None,
                  time_limit: float | None, sales: RawTable | None) -> Result:
    warnings: list[Problem] = []
    known = set(plugins.criteria) if plugins else None
    # Plugins first need the plugin folder from Settings; weights need the criteria names.
    folder = _setting(settings_rows, ("Plugin folder", "Dossier des plugins"))
    dirs = [*plugin_dirs, *([_resolve_dir(folder[0], base_dir)] if folder else [])]
    if plugins is None:
        plugins = load_plugins(dirs)
    warnings.extend(plugins.problems)
    known = set(plugins.criteria)
    overrides, unknown = read_settings(settings_rows, known)
    warnings.extend(unknown)
    rules_name = str(rules) if rules else overrides.values.get("Rules file")
    where = "" if rules else overrides.where.get("Rules file", "")
    path = resolve_rules_file(rules_name, base_dir, where, from_command_line=bool(rules))
    ruleset = _load_ruleset(path, plugins)
    config = _config_from(ruleset, overrides)
    check_weights(config, {**plugins.criteria, **(getattr(ruleset, "tables", None) or {})},
                  overrides)
    if engine:
        config = replace(config, engine=engine)
    reps = read_salespeople(salespeople, warnings, config.country)
    accounts = _with_column_map(accounts, settings_rows, ruleset, plugins, warnings)
    accounts, lines = _read_sales(accounts, sales, overrides, plugins)
    result = run(accounts, plugins, config, ruleset, reps, warnings, time_limit=time_limit,
                 sales=lines)
    if not result.rules_name:
        result.rules_name = str(path) if path else "default"
    result.output_sheets = dict(plugins.output_sheets)
    result.salespeople = salespeople
    return result


    accounts = _with_column_map(accounts, settings_rows, ruleset, plugins, warnings)
    accounts, lines = _read_sales(accounts, sales, overrides, plugins)
    result = run(accounts, plugins, config, ruleset, reps, warnings, time_limit=time_limit,
                 sales=lines)


def inspect_tables(accounts: RawTable, settings_rows: Iterable[tuple[Any, Any, str]] = (), *,
                   rules: str | Path | None = None, plugin_dirs: Iterable[str | Path] = (),
                   base_dir: Path | None = None, plugins: Plugins | None = None,
                   sales: RawTable | None = None):
    """How the accounts are read, without scoring: the same Settings, plugins, rule file and
    column map as `score_tables`, up to validation. Returns the `ReadingReport`, whose
    ``notices`` also hold the Settings and plugin warnings. With ``sales`` (invoice lines),
    the accounts are merged with them as a run would (the first accounts shown with the
    fields the lines gave) and the lines' own report is in ``parts``. Raises `UserError` as
    `score_tables` does."""
    settings_rows = list(settings_rows)
    warnings: list[Problem] = []
    folder = _setting(settings_rows, ("Plugin folder", "Dossier des plugins"))
    dirs = [*plugin_dirs, *([_resolve_dir(folder[0], base_dir)] if folder else [])]
    plugins = plugins or load_plugins(dirs)
    warnings.extend(plugins.problems)
    overrides, unknown = read_settings(settings_rows, set(plugins.criteria))
    warnings.extend(unknown)
    rules_name = str(rules) if rules else overrides.values.get("Rules file")
    where = "" if rules else overrides.where.get("Rules file", "")
    ruleset = _load_ruleset(resolve_rules_file(rules_name, base_dir, where,
                                               from_command_line=bool(rules)), plugins)
    accounts = _with_column_map(accounts, settings_rows, ruleset, plugins, warnings)
    catalogue = plugins.catalogue()
    for name, kind in getattr(ruleset, "extra_fields", {}).items():
        from .fields import Field
        catalogue.add(Field(name, kind))
    accounts, lines = _read_sales(accounts, sales, overrides, plugins)
    checked = validate(accounts, catalogue)
    report = checked.report
    if lines is not None:
        read_notes, lines.warnings = lines.warnings, []
        filled = _merge_sales(checked.accounts, lines, warnings)
        lines.report.notices = read_notes
        for row, pos in zip(report.preview, checked.accounts.index):
            for f in sorted(filled):
                v = checked.accounts.at[pos, f]
                row[f] = None if v is None or (isinstance(v, float) and np.isnan(v)) else v
        report.parts.append((_("How the invoice lines were read"), lines.report))
    report.notices[:0] = warnings
    return report


def _with_column_map(accounts: RawTable, settings_rows: list[tuple[Any, Any, str]],
                     ruleset: Any, plugins: Plugins, warnings: list[Problem]) -> RawTable:
    """The accounts with the column map: the rule file's ``columns:``, then the Settings
    rows ``Column: <field>`` (which win). A mapped header missing from the sheet is said."""
    from .sources.headers import check_column_map, column_map_rows
    catalogue = plugins.catalogue()
    from_settings, where = column_map_rows(settings_rows, catalogue)
    from_rules = dict(getattr(ruleset, "columns", {}) or {})
    if not from_settings and not from_rules:
        return accounts
    rules_where = {f: str(getattr(ruleset, "path", "") or "rules") for f in from_rules}
    warnings.extend(check_column_map({**from_rules, **from_settings}, {**rules_where, **where},
                                     accounts.headers, accounts.sheet))
    return replace(accounts, column_map={**from_rules, **from_settings})


# --- invoice lines (potentiel.sources.invoices): read once, merged after validation ---------

def _read_sales(accounts: RawTable, sales: RawTable | None, overrides: SettingsOverrides,
                plugins: Plugins) -> tuple[RawTable, Any]:
    if sales is None:
        return accounts, None
    from .sources import invoices
    lines = invoices.read_lines(sales, invoices.line_settings(overrides.values, overrides.where))
    return invoices.with_line_accounts(accounts, lines, plugins.catalogue()), lines


def _merge_sales(accounts: pd.DataFrame, sales: Any, warnings: list[Problem]) -> set[str]:
    if sales is None:
        return set()
    from .sources import invoices
    return invoices.merge(accounts, sales, warnings)



def _setting(rows: list[tuple[Any, Any, str]], keys: tuple[str, ...]) -> tuple[str, str] | None:
    from .fields import normalise
    wanted = {normalise(k) for k in keys}
    for label, value, where in rows:
        if label is not None and normalise(label) in wanted and value not in (None, ""):
            return str(value).strip(), where
    return None


def _resolve_dir(folder: str, base_dir: Path | None) -> Path:
    p = Path(folder).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


_RULESETS: dict[str, tuple[tuple, Any, Plugins]] = {}


def _load_ruleset(path: Path | None, plugins: Plugins) -> Any:
    """Load (and check) the rule file; a long-running process (the server) reuses the
    compiled rule set while none of its files (``extends`` chain included) changed."""
    from .rules import load_ruleset
    key = str(path)
    cached = _RULESETS.get(key)
    # the same plugins object (kept referenced here, so its identity cannot be reused)
    if cached is not None and cached[2] is plugins and cached[0] == _stamp(cached[1].files):
        return cached[1]
    ruleset = load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    if len(_RULESETS) > 32:
        _RULESETS.clear()
    _RULESETS[key] = (_stamp(ruleset.files), ruleset, plugins)
    return ruleset


def _stamp(files) -> tuple:
    out = []
    for f in files:
        try:
            st = Path(f).stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(f), None, None))
    return tuple(out)


def _config_from(ruleset: Any, overrides: SettingsOverrides) -> Config:
    config = Config()
    if ruleset is not None:
        config = replace(config, weights=dict(ruleset.weights), params=dict(ruleset.params),
                         categories=ruleset.categories or config.categories,
                         plan=getattr(ruleset, "plan", None) or config.plan)
    return apply_overrides(config, overrides)


def score_records(records: list[Mapping[str, Any]], plugins: Plugins | None = None,
                  ruleset: Any = None, config: Config | None = None,
                  salespeople: pd.DataFrame | None = None) -> Result:
    """Score accounts given as dicts (field → value): for tests and rule-file test cases."""
    plugins = plugins or load_plugins()
    headers = sorted({k for r in records for k in r})
    raw = RawTable(headers, [[r.get(h) for h in headers] for r in records])
    if config is None:
        config = _config_from(ruleset, SettingsOverrides())
    return run(raw, plugins, config, ruleset, salespeople)


def _model_expectations(model: Any, n: int) -> dict[str, list]:
    """Per account, what a rule test's ``subscores``, ``bands`` and ``cross`` compare."""
    if model is None:
        return {}
    subs = [{k: float(v.iloc[i]) for k, v in model.subscores.items()} for i in range(n)]
    bands = [{k: v.iloc[i] for k, v in model.bands.items()} for i in range(n)]
    cells = model.cell.tolist() if model.cell is not None else [None] * n
    return {"subscores": subs, "bands": bands, "cross": cells}


def rule_test_scorer(plugins: Plugins, engine: str | None = None):
    """``score_accounts(records, ruleset)`` for a rule file's ``tests:`` cases; ``engine``
    (durable or compiled) overrides the default rules engine."""
    def score_accounts(records: list[Mapping[str, Any]], ruleset: Any) -> pd.DataFrame:
        config = _config_from(ruleset, SettingsOverrides())
        if engine:
            config = replace(config, engine=engine)
        result = score_records(records, plugins=plugins, ruleset=ruleset, config=config)
        flags = result.outputs["Flags"].fillna("")
        return pd.DataFrame({
            "flags": [tuple(f for f in str(v).split(", ") if f) for v in flags],
            "category": result.category.to_numpy(dtype=object),
            "score": result.weighted.score.to_numpy(dtype=float),
            "fired": list(result.rules.fired),
            "profile": (result.profile if result.profile is not None
                        else pd.Series(None, index=result.category.index)).to_numpy(dtype=object),
            **_model_expectations(result.model, len(records)),
        })
    return score_accounts
