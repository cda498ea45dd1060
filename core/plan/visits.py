"""Visit frequency and rep capacity: what the plan counts (issue 14, points 1 and 2).

The method says what categories are for: how often each account is visited. Here:

- **visits a year** per category, for clients and for prospects (their own table), and
  for a profile of the rule file that has its own table; defaults A 12, B 6, C 4, D 1 for
  clients and A 4, B 2, C 1, D 0 for prospects (`DEFAULT_VISITS`);
- **visit length** in minutes: a standard visit (``Visit length (min)``, 60 by default)
  and, per category, a longer or shorter one where the company says so;
- **a rep's capacity**: visits a day (5) and field days a year (200), from Settings, each
  rep's own in the Salespeople sheet (columns Visits a day / Visites par jour and Field
  days / Jours terrain). A day holds *visits a day* standard visits.

Where each value comes from, last one wins: the defaults → the rule file's ``plan:``
section (`read_rule_sections`) → the Settings sheet (`settings_key` reads the per-category
rows; `potentiel.config` the others) → a rep's row in Salespeople (capacity only).

Which table an account takes: its profile's, when the plan has a table of that name
(``visits: {key-accounts: {A: 24}}``), else its status group's: clients (status client
or blank, as the default rule file's profiles) or prospects (prospect, suspect, former);
a category a table does not give falls back to the group's, then to the defaults. The
profile names ``client`` and ``prospect`` of the default rule file are the two groups.

Source of the method: the classic workload method of sales-force sizing (W. J. Talley,
"How to design sales territories", Journal of Marketing, 1961): accounts per category ×
visits a year × visit length, against the time a rep has. Values are kept as the
decimals they were typed as and summed as fractions (`exact_value`), so a plan adds up
exactly.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..fields import normalise
from ..i18n import N_, _
from ..problems import Problem

CLIENTS, PROSPECTS = "clients", "prospects"
# Visits a year per category when neither the rule file nor Settings say (the issue's).
DEFAULT_VISITS: dict[str, dict[str, float]] = {
    CLIENTS: {"A": 12, "B": 6, "C": 4, "D": 1},
    PROSPECTS: {"A": 4, "B": 2, "C": 1, "D": 0},
}
DEFAULT_VISITS_A_DAY = 5.0
DEFAULT_FIELD_DAYS = 200.0
DEFAULT_VISIT_LENGTH = 60.0    # minutes of a standard visit
DEFAULT_REACH_KM = 200.0       # a prospect this far from a rep's base is within reach
GROUP_TITLES = {CLIENTS: N_("Clients"), PROSPECTS: N_("Prospects")}
_GROUP_WORDS = {"client": CLIENTS, "clients": CLIENTS, "prospect": PROSPECTS,
                "prospects": PROSPECTS}
PROSPECT_STATUSES = ("prospect", "suspect", "former")


def group_key(name: Any) -> str:
    """The table a name means: ``clients`` for client(s), ``prospects`` for prospect(s),
    else the name (a profile's) in lower case without accents, spaces collapsed: the same
    key from a rule file, a Settings label and the profile an account takes."""
    text = _plain_label(name)
    return _GROUP_WORDS.get(normalise(text), text)


def group_title(group: str) -> str:
    """A table's name as the sheet shows it: Clients / Prospects in the run's language, a
    profile's name as written."""
    return _(GROUP_TITLES[group]) if group in GROUP_TITLES else group


def exact_value(x: Any) -> Fraction:
    """The decimal a number was typed as, as a fraction (``0.1`` is exactly 1/10)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return Fraction(Decimal(repr(float(x))))


@dataclass(frozen=True)
class PlanSettings:
    """What the plan is told. ``visits``/``lengths``: (table, category) → visits a year /
    minutes; the scalars None where not given (the defaults then apply, see the
    properties); ``where``: the cell or ``file:line`` each value came from, for messages
    (keys ``visits:<table>:<letter>``, ``lengths:<table>:<letter>``, or the field's name)."""

    visits: Mapping[tuple[str, str], float] = field(default_factory=dict)
    lengths: Mapping[tuple[str, str], float] = field(default_factory=dict)
    visits_a_day: float | None = None
    field_days: float | None = None
    visit_length: float | None = None
    target: float | None = None
    revenue_weight: float | None = None
    reach_km: float | None = None
    where: Mapping[str, str] = field(default_factory=dict)

    def over(self, other: "PlanSettings") -> "PlanSettings":
        """These settings with ``other``'s on top (a value ``other`` gives wins)."""
        scalars = {k: getattr(other, k) if getattr(other, k) is not None else getattr(self, k)
                   for k in ("visits_a_day", "field_days", "visit_length", "target",
                             "revenue_weight", "reach_km")}
        return replace(self, visits={**self.visits, **other.visits},
                       lengths={**self.lengths, **other.lengths},
                       where={**self.where, **other.where}, **scalars)

    @property
    def day(self) -> float:
        """Visits a day of a rep (Settings, else 5)."""
        return DEFAULT_VISITS_A_DAY if self.visits_a_day is None else self.visits_a_day

    @property
    def days(self) -> float:
        """Field days a year of a rep (Settings, else 200)."""
        return DEFAULT_FIELD_DAYS if self.field_days is None else self.field_days

    @property
    def length(self) -> float:
        """Minutes of a standard visit (Settings, else 60)."""
        return DEFAULT_VISIT_LENGTH if self.visit_length is None else self.visit_length

    @property
    def reach(self) -> float:
        """Km from a rep's base within which a prospect is in reach (Settings, else 200)."""
        return DEFAULT_REACH_KM if self.reach_km is None else self.reach_km

    @property
    def weight(self) -> float:
        """Share of the target split by last year's revenue (0: by potential only)."""
        return 0.0 if self.revenue_weight is None else self.revenue_weight

    def tables(self) -> list[str]:
        """The tables the plan knows: clients, prospects, then the profiles' own."""
        named = [g for g, _letter in (*self.visits, *self.lengths)]
        return [CLIENTS, PROSPECTS, *dict.fromkeys(g for g in named
                                                   if g not in (CLIENTS, PROSPECTS))]


# --- Settings rows: "Visits a year A", "Visites par an prospects B", "Durée de visite A" ----

_VISIT_ROW = re.compile(
    r"^(?P<what>visits a year|visits per year|visites par an|visites annuelles|"
    r"visit length|visit duration|duree de visite|duree des visites)"
    r"\s*:?\s*(?:(?P<group>.+?)\s+)?(?P<letter>[a-z][a-z0-9]{0,2}[+-]?)\s*(\(min\))?$")


def _plain_label(label: Any) -> str:
    text = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.replace("_", " ").lower().split())


def settings_key(label: Any) -> tuple[str, str, str] | None:
    """A Settings row of the plan's tables: ``("visits" | "lengths", table, category)``,
    e.g. ``Visits a year A`` → ``("visits", "clients", "A")``, ``Visites par an prospects
    B`` → ``("visits", "prospects", "B")``, ``Visit length key-accounts A (min)`` →
    ``("lengths", "key-accounts", "A")``; None for any other label. The table's name keeps
    its case as typed in the label (a profile's name)."""
    text = _plain_label(label)
    m = _VISIT_ROW.match(text)
    if m is None:
        return None
    what = "lengths" if re.search("length|duration|duree", m.group("what")) else "visits"
    group = m.group("group")
    return what, group_key(group) if group else CLIENTS, m.group("letter").upper()


# --- the rule file's plan: section ---------------------------------------------------------

RULE_KEYS = ("visits", "lengths", "visits_a_day", "field_days", "visit_length", "target",
             "revenue_weight", "reach_km")


def read_rule_sections(sections: Iterable[tuple[str, Any, int]], letters: Iterable[str],
                       profiles: Iterable[str] = ()) -> tuple[PlanSettings, list[Problem]]:
    """The ``plan:`` sections of a rule file and the files it extends, root first, as
    ``(source, section, line)``; a child's key replaces its parent's, and in the tables
    of ``visits:`` and ``lengths:`` a child's category replaces the parent's (the others
    are inherited). Returns the
    settings and the errors (``file:line``). ``letters``: the categories; ``profiles``:
    the profile names a table may be named after.

    Keys: ``visits_a_day``, ``field_days``, ``visit_length`` (minutes), ``target`` (€),
    ``revenue_weight`` (0–1 or a percentage), ``reach_km``, and ``visits:`` / ``lengths:``,
    each a table per group: ``clients``, ``prospects`` or a profile's name → ``{A: 12}``."""
    letters = list(letters)
    known = {CLIENTS, PROSPECTS, *(group_key(p) for p in profiles)}
    out = PlanSettings()
    problems: list[Problem] = []
    for source, section, line in sections:
        where = f"{source}:{line}"
        if not isinstance(section, dict):
            problems.append(Problem(_("plan: must be a set of keys ({keys})").format(
                keys=", ".join(RULE_KEYS)), where, "error"))
            continue
        own, problem = _read_section(section, source, letters, known)
        problems += problem
        out = out.over(own)
    return out, problems


def _line(section: Any, key: Any, source: str) -> str:
    line_of = getattr(section, "line_of", None)
    return f"{source}:{line_of(key)}" if line_of else source


def _read_section(section: Mapping, source: str, letters: list[str],
                  known: set[str]) -> tuple[PlanSettings, list[Problem]]:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    tables: dict[str, dict[tuple[str, str], float]] = {"visits": {}, "lengths": {}}
    where: dict[str, str] = {}

    def error(message: str, at: str) -> None:
        problems.append(Problem(message, at, "error"))

    for key, value in section.items():
        at = _line(section, key, source)
        if key not in RULE_KEYS:
            import difflib
            hit = difflib.get_close_matches(str(key), RULE_KEYS, n=1, cutoff=0.6)
            hint = _(" (did you mean {name}?)").format(name=hit[0]) if hit else ""
            error(_('plan: unknown key "{key}"{hint}; plan: has {keys}').format(
                key=key, hint=hint, keys=", ".join(RULE_KEYS)), at)
            continue
        if key in ("visits", "lengths"):
            if not isinstance(value, dict):
                error(_("plan: {key} is a table per group, e.g. {key}: {{clients: {{A: 12, "
                        "B: 6}}, prospects: {{A: 4}}}}").format(key=key), at)
                continue
            for group, row in value.items():
                g_at = _line(value, group, source)
                g = group_key(group)
                if g not in known:
                    error(_('plan: {key}: "{group}" is neither clients, prospects nor a '
                            "profile of this rule file ({known})").format(
                        key=key, group=group, known=", ".join(sorted(known))), g_at)
                    continue
                if not isinstance(row, dict):
                    error(_("plan: {key}: {group} is a value per category, e.g. {{A: 12, "
                            "B: 6}}").format(key=key, group=group), g_at)
                    continue
                for letter, v in row.items():
                    l_at = _line(row, letter, source)
                    if str(letter) not in letters:
                        error(_("plan: {key}: {group}: no category {letter} (categories: "
                                "{letters})").format(key=key, group=group, letter=letter,
                                                     letters=", ".join(letters)), l_at)
                        continue
                    number = _number(v)
                    if number is None or number < 0 or (key == "lengths" and number <= 0):
                        what = _("visits a year, 0 or more") if key == "visits" else \
                            _("minutes, more than 0")
                        error(_("plan: {key}: {group}: {letter}: {value!r} is not a number of "
                                "{what}").format(key=key, group=group, letter=letter, value=v,
                                                 what=what), l_at)
                        continue
                    tables[key][(g, str(letter))] = number
                    where[f"{key}:{g}:{letter}"] = l_at
            continue
        number = _share(value) if key == "revenue_weight" else _number(value)
        bad = number is None or number < 0 or (
            key in ("visits_a_day", "field_days", "visit_length", "reach_km") and number <= 0) \
            or (key == "field_days" and number > 366) or (key == "revenue_weight" and number > 1)
        if bad:
            error(_("plan: {key}: {value!r} is not {what}").format(
                key=key, value=value, what=_(RULE_WHAT[key])), at)
            continue
        values[key] = number
        where[key] = at
    return PlanSettings(visits=tables["visits"], lengths=tables["lengths"], where=where,
                        **values), problems


RULE_WHAT = {"visits_a_day": N_("a number of visits a day, more than 0"),
             "field_days": N_("a number of field days a year, from 1 to 366"),
             "visit_length": N_("a number of minutes, more than 0"),
             "target": N_("an amount of revenue, 0 or more"),
             "revenue_weight": N_("a share from 0 to 1 (or 0 % to 100 %)"),
             "reach_km": N_("a distance in km, more than 0")}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    try:
        from ..numbers import parse_number
        return parse_number(str(value))
    except ValueError:
        return None


def _share(value: Any) -> float | None:
    text = str(value).strip()
    v = _number(value)
    if v is None:
        return None
    if text.endswith("%"):
        from ..exact import share
        return share(v)
    return v


# --- per account: the table, visits a year and visit length --------------------------------

def status_groups(status: pd.Series) -> pd.Series:
    """``clients`` where the status is client or blank, ``prospects`` where it is prospect,
    suspect or former (the default rule file's two profiles)."""
    s = status.astype(object)
    pro = s.isin(PROSPECT_STATUSES).to_numpy()
    return pd.Series(np.where(pro, PROSPECTS, CLIENTS), index=status.index, dtype=object)


@dataclass
class Frequencies:
    """Per account (same index as the accounts): ``table`` (the table its visits come
    from), ``visits`` (a year, 0 without a category) and ``length`` (minutes of one
    visit); ``problems``: categories no table gives (counted 0 visits, said)."""

    table: pd.Series
    visits: pd.Series
    length: pd.Series
    problems: list[Problem]


def frequencies(accounts: pd.DataFrame, category: pd.Series, settings: PlanSettings,
                profile: pd.Series | None = None) -> Frequencies:
    """Visits a year and visit length of every account, from its category and its table
    (see the module docstring). ``accounts`` needs ``status`` (else every account is a
    client); ``category``: the letter per account (None: no category, 0 visits);
    ``profile``: the profile per account, or None."""
    index = accounts.index
    status = accounts["status"] if "status" in accounts else pd.Series(None, index=index)
    group = status_groups(status)
    own = {g for g, _letter in (*settings.visits, *settings.lengths)}
    if profile is not None:
        prof = profile.map(lambda p: group_key(p) if isinstance(p, str) else None)
        table = prof.where(prof.isin(own - {CLIENTS, PROSPECTS}) & prof.notna(), group)
    else:
        table = group.copy()
    letters = category.astype(object)
    keys = pd.DataFrame({"table": table, "group": group, "letter": letters})
    visits = np.full(len(index), np.nan)
    length = np.full(len(index), np.nan)
    problems: list[Problem] = []
    combos = keys.drop_duplicates()
    for t, g, k in combos.itertuples(index=False):
        hit = ((keys["table"] == t) & (keys["group"] == g)
               & (keys["letter"] == k if isinstance(k, str) else keys["letter"].isna())).to_numpy()
        if not isinstance(k, str):
            visits[hit], length[hit] = 0.0, settings.length
            continue
        v = settings.visits.get((t, k), settings.visits.get((g, k),
                                                            DEFAULT_VISITS.get(g, {}).get(k)))
        if v is None:
            problems.append(Problem(
                _('no visit frequency for category {letter} of {table}: its {n} account(s) '
                  'count 0 visits; set "Visits a year {setting}" in Settings (or plan: visits: '
                  "in the rule file)").format(
                    letter=k, table=group_title(t), n=int(hit.sum()),
                    setting=k if t == CLIENTS else f"{t} {k}"),
                "", kind="no-visit-frequency"))
            v = 0.0
        visits[hit] = v
        length[hit] = settings.lengths.get((t, k), settings.lengths.get((g, k), settings.length))
    return Frequencies(table=table, visits=pd.Series(visits, index=index),
                       length=pd.Series(length, index=index), problems=problems)


def frequency_rows(settings: PlanSettings, letters: list[str]) -> list[tuple[str, str, list]]:
    """The table the Plan sheet shows: ``(table, "visits" | "lengths", value per letter)``
    for clients, prospects and each profile's own table (a blank where that table takes
    the group's value)."""
    rows = []
    for t in settings.tables():
        base = t if t in (CLIENTS, PROSPECTS) else None
        visits = [settings.visits.get((t, k), DEFAULT_VISITS[base].get(k) if base else None)
                  for k in letters]
        lengths = [settings.lengths.get((t, k), settings.length if base else None)
                   for k in letters]
        rows += [(t, "visits", visits), (t, "lengths", lengths)]
    return rows


# --- rep capacity ----------------------------------------------------------------------

NO_REP = N_("(no salesperson)")


def rep_key(name: Any) -> str:
    """How rep names are matched between Accounts and Salespeople: spaces collapsed, case
    ignored."""
    return " ".join(str(name).split()).casefold()


def read_roster(raw: Any) -> pd.DataFrame:
    """The Salespeople table as the plan reads it: ``name``, ``visits_a_day``,
    ``field_days`` (NaN where blank or unreadable: the run said so when it read the
    sheet), ``where`` (the name's cell). Rows without a name are left out; a name given
    twice is kept (`capacity` takes the first row and says so). ``raw``: the `RawTable`
    of the sheet, or None."""
    columns = ["name", "visits_a_day", "field_days", "where"]
    if raw is None:
        return pd.DataFrame(columns=columns)
    from ..fields import SALESPEOPLE_FIELDS, Catalogue
    from ..validate import validate
    checked = validate(raw, Catalogue.build(base=SALESPEOPLE_FIELDS))
    reps = checked.accounts
    if "name" not in reps:
        return pd.DataFrame(columns=columns)
    j = checked.columns["name"]
    out = pd.DataFrame({
        "name": reps["name"],
        "visits_a_day": reps["visits_a_day"] if "visits_a_day" in reps else np.nan,
        "field_days": reps["field_days"] if "field_days" in reps else np.nan,
        "where": [raw.cell(pos, j) for pos in reps.index]}, index=reps.index)
    out = out[out["name"].map(lambda v: isinstance(v, str) and v.strip() != "")]
    return out.reset_index(drop=True)


@dataclass
class Capacity:
    """Per rep (rows in the order given): ``rep`` (the name shown), ``visits_a_day``,
    ``field_days``, ``from_sheet`` (True where Salespeople gave a value), and exact
    ``visits`` (a year, in standard visits) and ``minutes`` (of visits a year) as
    fractions; ``problems``: what was chosen (reps with no Salespeople row)."""

    table: pd.DataFrame
    problems: list[Problem]


def capacity(reps: Iterable[str], roster: pd.DataFrame, settings: PlanSettings,
             sheet: str = "") -> Capacity:
    """The capacity of each rep of ``reps`` (the accounts' salespeople) and of each rep of
    the Salespeople ``roster`` (`read_roster`) who holds no account yet: visits a day ×
    field days a year standard visits, each of ``settings.length`` minutes. A value the
    rep's Salespeople row gives wins over Settings. ``sheet``: the Salespeople sheet's
    name, for messages."""
    by_key: dict[str, Any] = {}
    problems = []
    for n, row in zip(roster["name"], roster.itertuples()):
        first = by_key.setdefault(rep_key(n), row)
        if first is not row:
            problems.append(Problem(
                _('rep "{name}" has two rows in {sheet}: the capacity of the first ({first}) '
                  "is used; delete or rename the other").format(
                    name=n, sheet=sheet or "Salespeople", first=first.where),
                row.where, kind="rep-twice"))
    roster = roster[~roster["name"].map(rep_key).duplicated()]
    names = list(dict.fromkeys(reps))
    names += [n for n in roster["name"] if rep_key(n) not in {rep_key(m) for m in names}]
    rows, missing = [], []
    for name in names:
        row = by_key.get(rep_key(name))
        day = getattr(row, "visits_a_day", np.nan) if row is not None else np.nan
        days = getattr(row, "field_days", np.nan) if row is not None else np.nan
        if row is None and len(roster):
            missing.append(name)
        day_ok, days_ok = _known(day), _known(days)
        d = float(day) if day_ok else settings.day
        f = float(days) if days_ok else settings.days
        visits = exact_value(d) * exact_value(f)
        rows.append({"rep": name, "visits_a_day": d, "field_days": f,
                     "from_sheet": day_ok or days_ok, "visits": visits,
                     "minutes": visits * exact_value(settings.length)})
    if missing:
        problems.append(Problem(
            _("{n} rep(s) of Accounts have no row in {sheet} ({names}): their capacity is "
              "the Settings' ({day:g} visits a day, {days:g} field days)").format(
                n=len(missing), sheet=sheet or "Salespeople", names=", ".join(missing[:8])
                + (_(" and {n} more").format(n=len(missing) - 8) if len(missing) > 8 else ""),
                day=settings.day, days=settings.days), sheet, level="notice",
            kind="rep-default-capacity"))
    table = pd.DataFrame(rows, columns=["rep", "visits_a_day", "field_days", "from_sheet",
                                        "visits", "minutes"])
    return Capacity(table, problems)


def _known(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v)) and float(v) >= 0
    except (TypeError, ValueError):
        return False
