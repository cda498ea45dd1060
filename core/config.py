"""The run's configuration, and the Settings sheet that sales ops tune.

Where each value comes from, last one wins: built-in defaults → the rule file (weights,
categories, criterion params) → the workbook's Settings sheet → the command line. The
Settings sheet is a list of ``Setting | Value | Help`` rows, in English or French; a blank
value means "use the rule file's". `SETTINGS` below is the one list of known settings:
the template workbook is built from it and the reader understands exactly these.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from .categories import DEFAULT_CATEGORIES, Band, CategorySpec, Quota
from .exact import share as exact_share
from .fields import normalise
from .i18n import N_, _, language
from .numbers import parse_number
from .plan.visits import PlanSettings, settings_key as plan_settings_key
from .portfolio import MatrixTiers
from .sources.headers import is_column_map_label
from .problems import Problem, UserError

ENGINES = ("durable", "compiled")


@dataclass
class Config:
    """Everything a run needs besides the accounts, the plugins and the rules."""

    weights: dict[str, float] = field(default_factory=dict)
    categories: CategorySpec = DEFAULT_CATEGORIES
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    matrix: MatrixTiers = field(default_factory=MatrixTiers)
    top_share: float = 0.8
    rules_file: str | None = None
    plugin_dirs: list[str] = field(default_factory=list)
    engine: str = "durable"
    country: str = "FR"          # where postal codes and towns are looked up by default
    detour_factor: float = 1.0   # road km ≈ great-circle km × this (about 1.25 by road)
    plan: PlanSettings = field(default_factory=PlanSettings)  # visits, capacity, objectives


@dataclass(frozen=True)
class Setting:
    key: str            # English label shown in the sheet
    french: str         # French label
    help: str
    kind: str           # "text", "number", "share", "engine", "mode", "path"
    example: Any = None  # value shown in the template (None: left blank)


SETTINGS: tuple[Setting, ...] = (
    Setting("Rules file", "Fichier de règles",
            "Rule file for this company (in the rules folder). Blank: rules/default.yaml.",
            "path", None),
    Setting("Plugin folder", "Dossier des plugins",
            "Folder with extra criterion plugins (.py files). Blank: none.", "path", None),
    Setting("Engine", "Moteur",
            "durable (default) or compiled: two engines that give the same results.",
            "engine", None),
    Setting("Category mode", "Mode de catégorie",
            "bands: category from the score. quotas: top share of accounts gets A, and so on.",
            "mode", None),
    Setting("Potential high from", "Potentiel élevé à partir de",
            "Potential (€) from which an account is high potential. Blank: top third.",
            "number", None),
    Setting("Potential low below", "Potentiel faible en dessous de",
            "Potential (€) below which an account is low potential. Blank: bottom third.",
            "number", None),
    Setting("Penetration strong from", "Pénétration forte à partir de",
            "Share of potential already won from which penetration is strong.", "share", 0.5),
    Setting("Penetration weak below", "Pénétration faible en dessous de",
            "Share of potential below which penetration is weak.", "share", 0.2),
    Setting("Top revenue share", "Part du chiffre d'affaires",
            "Accounts making this share of revenue are flagged Top 80%.", "share", 0.8),
)

# Settings of the invoice-lines source (potentiel.sources.invoices reads their values, kept
# as typed: a month, a date, yes/no).
INVOICE_SETTINGS: tuple[Setting, ...] = (
    Setting("Fiscal year ends", "Fin d'exercice",
            "Month the fiscal year ends (June, juin or 6). Blank: December (calendar years).",
            "raw", None),
    Setting("Revenue up to", "CA jusqu'au",
            "A date: revenue N is then the 12 months to that date (N-1, N-2 the 12 before).",
            "raw", None),
    Setting("Add accounts from invoice lines", "Ajouter les comptes des factures",
            "yes: client codes of the invoice lines missing from Accounts are added as clients.",
            "raw", None),
)

# Places (potentiel.sources.geocode).
PLACE_SETTINGS: tuple[Setting, ...] = (
    Setting("Country", "Pays",
            "Country of the postal codes and towns when a row gives none (code or name). "
            "Blank: FR.", "country", None),
    Setting("Detour factor", "Coefficient de détour",
            "Road km ≈ straight-line km × this factor (about 1.25 by road). Rules and the "
            "accessibility criterion see the distance so multiplied. Blank: 1.", "factor", None),
)

# The language of every word Potentiel writes (potentiel.i18n); blank: the language of the
# Accounts headers.
LANGUAGE_SETTINGS: tuple[Setting, ...] = (
    Setting("Language", "Langue",
            "English or Français: the language of the output columns, sheets and messages. "
            "Blank: the language of the Accounts headers.", "language", "English"),
)

# The plan (potentiel.plan): capacity, visit length, objectives, reach. The visits a year
# per category are rows of their own ("Visits a year A", "Visites par an prospects A",
# "Visit length A"), read by `potentiel.plan.visits.settings_key`.
PLAN_SETTINGS: tuple[Setting, ...] = (
    Setting("Visits a day", "Visites par jour",
            "A rep's visits a day (capacity); a Visits a day column in Salespeople gives each "
            "rep's own. Blank: 5.", "positive", None),
    Setting("Field days a year", "Jours terrain par an",
            "A rep's days in the field a year; a Field days column in Salespeople gives each "
            "rep's own. Blank: 200.", "days", None),
    Setting("Visit length (min)", "Durée de visite (min)",
            "Minutes of a standard visit: a day holds Visits a day of them. A category's own "
            "length: a row Visit length A. Blank: 60.", "positive", None),
    Setting("Revenue target", "Objectif de CA",
            "The company's revenue target for the year, split among the reps by the potential "
            "of their portfolios (Objectives sheet). Blank: no targets.", "amount", None),
    Setting("Objectives by last year's revenue", "Objectifs selon le CA N",
            "Share of the target split by last year's revenue instead of potential (0 % to "
            "100 %). Blank: 0 %, by potential only (fair share).", "share", None),
    Setting("Reach (km)", "Rayon d'action (km)",
            "Prospects this far from a rep's base or nearer are within the rep's reach "
            "(Territory sheet). Blank: 200 km.", "positive", None),
)
_KIND_WHAT = {"positive": N_("a number above 0"), "amount": N_("an amount of 0 or more"),
              "days": N_("a number of days from 1 to 366")}
# The per-category rows the Settings sheet may hold, for messages (known settings).
PLAN_ROWS = ("Visits a year A", "Visits a year prospects A", "Visit length A")

# Check before you change (potentiel.review): the history of runs (history.py reads their
# values, kept as typed) and the Backtest action's last year's file (backtest, files).
REVIEW_SETTINGS: tuple[Setting, ...] = (
    Setting("History file", "Fichier d'historique",
            "Keep the history of runs in this file beside the workbook (.parquet or .csv) "
            "instead of its hidden History sheet. Blank: in the workbook.", "raw", None),
    Setting("History runs", "Exécutions gardées",
            "How many runs the history keeps (one per day: the day's last run); the oldest "
            "go first. Blank: 60.", "raw", None),
    Setting("Changes since", "Changements depuis",
            "The Changes sheet compares each run with this earlier one: a run number or a "
            "date. Blank: the run before.", "raw", None),
    Setting("Last year's file", "Fichier de l'an dernier",
            "The workbook scored last year (or a snapshot file, CSV or Parquet), next to this "
            "one or a path, for the Backtest action. Several: separate them with ;, the older "
            "first. Blank: this workbook's own History, its run about a year before the "
            "last.", "path", None),
)

_EXTRA_SETTINGS = (*INVOICE_SETTINGS, *PLACE_SETTINGS, *LANGUAGE_SETTINGS, *PLAN_SETTINGS,
                   *REVIEW_SETTINGS)
SETTINGS = (*SETTINGS, *_EXTRA_SETTINGS)  # every row of the template's Settings sheet
_BY_KEY = {normalise(s.key): s for s in SETTINGS} | {normalise(s.french): s for s in SETTINGS}
# The built-in criteria's French names: in Settings (``Poids : CA``) and in the output
# headers of a French run (``Score : CA``). A plugin's criterion keeps its own name.
CRITERION_FRENCH = {"revenue": "CA", "trend": "tendance", "potential": "potentiel",
                    "penetration": "pénétration", "solvency": "solvabilité",
                    "growth": "croissance", "prescription": "prescription",
                    "relationship": "relation", "accessibility": "accessibilité"}


def criterion_word(name: str) -> str:
    """A criterion's name in the run's language (``revenue`` → ``CA`` in French)."""
    from .i18n import language
    return CRITERION_FRENCH.get(name, name) if language() == "fr" else name


_WEIGHT = re.compile(r"^(weight|poids)(?P<name>[a-z0-9]+)$")
# Category rows, matched on the label with + and - kept (see `_category_key`): a category
# name is a letter, up to two letters or digits, an optional + or - ("Band A+", "Seuil A1").
_CATEGORY = r"(?P<letter>[a-z][a-z0-9]{0,2}[+-]?)"
_BAND = re.compile(r"^(band|seuil|bande|category|categorie)-?" + _CATEGORY
                   + r"(min|minimum|from|minscore)?$")
_QUOTA = re.compile(r"^(quota|share|part)-?" + _CATEGORY + "$")
_LABEL = re.compile(r"^(label|libelle)-?" + _CATEGORY + "$")
_PARAM = re.compile(r"^(param|parametre)\s*:?\s*(?P<crit>[a-z0-9_]+)\.(?P<param>[a-z0-9_]+)$", re.I)


@dataclass
class SettingsOverrides:
    """What the Settings sheet set, with the cell of each value for messages."""

    values: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    bands: dict[str, float] = field(default_factory=dict)
    quotas: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    # the plan's per-category rows: ("visits" | "lengths", table, category) → value
    plan: dict[tuple[str, str, str], float] = field(default_factory=dict)


def _number(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool):
        raise UserError(_("{value!r} is not a number ({what})").format(value=value, what=what),
                        where)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return parse_number(str(value))
    except ValueError as exc:
        raise UserError(_('"{value}" {error} ({what}); type a number').format(
                            value=value, error=exc, what=what), where) from None


def _share(value: Any, where: str, what: str) -> float:
    text = str(value).strip()
    v = _number(value, where, what)
    if text.endswith("%") or v > 1:
        v = exact_share(v)  # in decimal: 12.3 is 0.123 (12.3 / 100 is not)
    if not 0 <= v <= 1:
        raise UserError(_('"{value}" is not a share between 0 and 100 % ({what})').format(
                            value=value, what=what), where)
    return v


def read_settings(rows: Iterable[tuple[Any, Any, str]], criteria: Iterable[str] = ()) -> tuple[
        SettingsOverrides, list[Problem]]:
    """Parse ``(label, value, cell)`` rows of the Settings sheet.

    Returns the overrides and warnings (unknown settings). Raises `UserError` naming the
    cell for a value that cannot be used.
    """
    out, warnings, errors = SettingsOverrides(), [], []
    criteria = list(criteria)
    crit = {normalise(CRITERION_FRENCH[c]): c for c in criteria if c in CRITERION_FRENCH}
    crit.update({normalise(c): c for c in criteria})
    for label, value, where in rows:
        if label is None or str(label).strip() == "":
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if is_column_map_label(label):  # the column map: read by potentiel.sources.headers
            continue
        key = normalise(label)
        try:
            _read_one(out, key, str(label), value, where, crit, warnings)
        except UserError as exc:
            errors.extend(exc.problems)
    if errors:
        raise UserError(errors)
    return out, warnings


def _category_key(label: str) -> str:
    """A Settings label as the category rows read it: as `normalise`, but keeping + and -
    (``"Band A+"`` → ``"banda+"``, ``"Seuil A1 min"`` → ``"seuila1min"``)."""
    text = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9+-]", "", text.lower())


def _read_one(out: SettingsOverrides, key: str, label: str, value: Any, where: str,
              crit: dict[str, str], warnings: list[Problem]) -> None:
    setting = _BY_KEY.get(key)
    if setting is not None:
        what = setting.key.lower()
        if setting.kind == "number":
            out.values[setting.key] = _number(value, where, what)
        elif setting.kind == "share":
            out.values[setting.key] = _share(value, where, what)
        elif setting.kind == "engine":
            v = str(value).strip().lower()
            if v not in ENGINES:
                raise UserError(_('"{value}" is not an engine; use durable or compiled').format(
                                    value=value), where)
            out.values[setting.key] = v
        elif setting.kind == "country":
            from .sources.geocode import country_code
            code = country_code(value, None)
            if code is None:
                raise UserError(_('"{value}" is not a country Potentiel knows; type its '
                                  "two-letter code (FR, BE, CH …)").format(value=value), where)
            out.values[setting.key] = code
        elif setting.kind == "factor":
            v = _number(value, where, what)
            if not 1 <= v <= 3:
                raise UserError(_('"{value}" is not a detour factor; type a number from 1 '
                                  "(straight line) to 3 (about 1.25 by road)").format(value=value), where)
            out.values[setting.key] = v
        elif setting.kind == "mode":
            v = normalise(value)
            v = {"bands": "bands", "band": "bands", "bandes": "bands", "seuils": "bands",
                 "quotas": "quotas", "quota": "quotas"}.get(v)
            if v is None:
                raise UserError(_('"{value}" is not a category mode; use bands or quotas').format(
                                    value=value), where)
            out.values[setting.key] = v
        elif setting.kind == "language":
            from .i18n import parse_language
            lang = parse_language(value)
            if lang is None:
                raise UserError(_('"{value}" is not a language Potentiel writes; type English '
                                  "or Français (en or fr)").format(value=value), where)
            out.values[setting.key] = lang
        elif setting.kind in ("positive", "amount", "days"):
            v = _number(value, where, what)
            if v < 0 or (setting.kind != "amount" and v == 0) or (setting.kind == "days"
                                                                    and v > 366):
                raise UserError(_('"{value}" is not {what} ({setting})').format(
                    value=value, what=_(_KIND_WHAT[setting.kind]),
                    setting=setting.french if language() == "fr" else setting.key), where)
            out.values[setting.key] = v
        elif setting.kind == "raw":
            out.values[setting.key] = value  # read by the module that owns the setting
        else:
            out.values[setting.key] = str(value).strip()
        out.where[setting.key] = where
        return
    m = _WEIGHT.match(key)
    if m:
        name = crit.get(m.group("name"))
        if name is None:
            warnings.append(Problem(_('"{label}": no criterion named {name!r}, ignored '
                                      "(known: {list})").format(
                                        label=label, name=m.group("name"),
                                        list=", ".join(sorted(set(crit.values())))), where))
            return
        w = _number(value, where, _("weight of {name}").format(name=name))
        if w < 0:
            raise UserError(_("a weight cannot be negative ({name}); use 0 to ignore it").format(
                                name=name), where)
        out.weights[name] = w
        out.where[f"weight:{name}"] = where
        return
    category_key = _category_key(label)
    for regex, target, conv in ((_BAND, out.bands, _number), (_QUOTA, out.quotas, _share)):
        m = regex.match(category_key)
        if m:
            letter = m.group("letter").upper()
            target[letter] = conv(value, where, f"category {letter}")
            out.where[f"category:{letter}"] = where
            return
    m = _LABEL.match(category_key)
    if m:
        out.labels[m.group("letter").upper()] = str(value).strip()
        return
    plan = plan_settings_key(label)
    if plan is not None:
        what, table, letter = plan
        v = _number(value, where, str(label).strip())
        if v < 0 or (what == "lengths" and v == 0):
            raise UserError(_('"{value}" is not {what} ({label})').format(
                value=value, label=str(label).strip(),
                what=_("a number of visits, 0 or more") if what == "visits" else
                _("a number of minutes above 0")), where)
        out.plan[plan] = v
        out.where[f"{what}:{table}:{letter}"] = where
        return
    m = _PARAM.match(str(label).strip())
    if m:
        out.params.setdefault(m.group("crit").lower(), {})[m.group("param").lower()] = value
        out.where[f"param:{m.group('crit')}.{m.group('param')}"] = where
        return
    known = [s.key for s in SETTINGS] + ["Weight: <criterion>", "Band A", "Quota A", "Label A",
                                         "Param: <criterion>.<param>", *PLAN_ROWS]
    warnings.append(Problem(_('unknown setting "{label}", ignored (known: {list})').format(
                                label=label, list=", ".join(known)),
                            where))


def apply_overrides(config: Config, ov: SettingsOverrides) -> Config:
    """A new Config with the Settings sheet's values on top."""
    v = ov.values
    weights = {**config.weights, **ov.weights}
    params = {k: dict(p) for k, p in config.params.items()}
    for crit, p in ov.params.items():
        params.setdefault(crit, {}).update(p)
    matrix = replace(
        config.matrix,
        potential_high=v.get("Potential high from", config.matrix.potential_high),
        potential_low=v.get("Potential low below", config.matrix.potential_low),
        penetration_strong=v.get("Penetration strong from", config.matrix.penetration_strong),
        penetration_weak=v.get("Penetration weak below", config.matrix.penetration_weak),
    )
    cats = _categories(config.categories, ov, v.get("Category mode"))
    return replace(
        config, weights=weights, params=params, matrix=matrix, categories=cats,
        top_share=v.get("Top revenue share", config.top_share),
        rules_file=v.get("Rules file", config.rules_file),
        plugin_dirs=[*config.plugin_dirs, *([v["Plugin folder"]] if v.get("Plugin folder") else [])],
        engine=v.get("Engine", config.engine),
        country=v.get("Country", config.country),
        detour_factor=v.get("Detour factor", config.detour_factor),
        plan=config.plan.over(_plan_settings(ov)),
    )


def _plan_settings(ov: SettingsOverrides) -> PlanSettings:
    """What the Settings sheet says of the plan (`potentiel.plan.visits`)."""
    v = ov.values
    keys = {"Visits a day": "visits_a_day", "Field days a year": "field_days",
            "Visit length (min)": "visit_length", "Revenue target": "target",
            "Objectives by last year's revenue": "revenue_weight", "Reach (km)": "reach_km"}
    given = {name: v[key] for key, name in keys.items() if key in v}
    where = {name: ov.where[key] for key, name in keys.items() if key in ov.where}
    tables: dict[str, dict] = {"visits": {}, "lengths": {}}
    for (what, table, letter), value in ov.plan.items():
        tables[what][(table, letter)] = value
        where[f"{what}:{table}:{letter}"] = ov.where.get(f"{what}:{table}:{letter}", "")
    return PlanSettings(visits=tables["visits"], lengths=tables["lengths"], where=where,
                        **given)


def check_weights(config: Config, criteria: Mapping[str, Any], ov: SettingsOverrides) -> None:
    """Raise `UserError` when every criterion weighs 0 once Settings are applied.

    ``criteria`` maps names to criteria (their ``default_weight`` counts for those no one
    weighted). A weight of 0 for some criteria is how a company leaves them out; all of
    them 0 leaves nothing to score on. The error names the Settings cells that set weights
    (a rule file with every weight 0 is refused when it is loaded).
    """
    if not criteria:
        return
    weights = {n: float(config.weights.get(n, getattr(c, "default_weight", 0) or 0))
               for n, c in criteria.items()}
    if any(w > 0 for w in weights.values()):
        return
    cells = [ov.where[k] for k in ov.where if k.startswith("weight:")]
    where = _cell_span(cells)
    raise UserError(Problem(
        _("every weight is 0, so no account could be scored: give at least one criterion a "
          "weight above 0 (a weight of 0 leaves that one criterion out)")
        + ("" if cells else _(" in the rule file or in Settings")), where, "error"))


def _cell_span(cells: list[str]) -> str:
    """``Settings!B2:B10`` for cells one under the other, else the cells listed."""
    if not cells:
        return ""
    parsed = [re.fullmatch(r"(?P<sheet>.+)!(?P<col>[A-Z]+)(?P<row>\d+)", c) for c in cells]
    if all(parsed):
        sheets = {m["sheet"] for m in parsed}
        cols = {m["col"] for m in parsed}
        rows = sorted(int(m["row"]) for m in parsed)
        if len(sheets) == 1 and len(cols) == 1 and rows == list(range(rows[0], rows[-1] + 1)):
            sheet, col = sheets.pop(), cols.pop()
            return f"{sheet}!{col}{rows[0]}" + (f":{col}{rows[-1]}" if len(rows) > 1 else "")
    return ", ".join(cells)


def _categories(spec: CategorySpec, ov: SettingsOverrides, mode: str | None) -> CategorySpec:
    mode = mode or spec.mode
    labels = {**{b.letter: b.label for b in (*spec.bands, *spec.quotas)}, **ov.labels}
    if mode == "bands":
        bands = {b.letter: b.min for b in spec.bands} or {b.letter: b.min for b in DEFAULT_CATEGORIES.bands}
        bands.update(ov.bands)
        items = sorted(bands.items(), key=lambda kv: -kv[1])
        new = CategorySpec("bands", bands=tuple(Band(k, m, labels.get(k, "")) for k, m in items),
                           quotas=spec.quotas)
    else:
        quotas = {q.letter: q.share for q in spec.quotas}
        if not quotas:
            quotas = {"A": 0.1, "B": 0.2, "C": 0.3, "D": None}
        quotas.update(ov.quotas)
        # the file's order (A+ before A before A-), new names after, the rest (no share) last
        known = [q.letter for q in spec.quotas] or ["A", "B", "C", "D"]
        letters = [k for k in known if k in quotas] + sorted(k for k in quotas if k not in known)
        letters.sort(key=lambda k: quotas[k] is None)
        new = CategorySpec("quotas", bands=spec.bands,
                           quotas=tuple(Quota(k, quotas[k], labels.get(k, "")) for k in letters))
    _check_categories(new, ov)
    return new


def _check_categories(spec: CategorySpec, ov: SettingsOverrides) -> None:
    if spec.mode == "quotas":
        total = sum(q.share or 0 for q in spec.quotas)
        if total > 1 + 1e-9:
            where = next((ov.where[k] for k in ov.where if k.startswith("category:")), "Settings")
            raise UserError(_("category quotas add up to {total:.0%}, more than 100 %").format(
                                total=total), where)
