"""The account fields Potentiel knows: names, types, French and English aliases.

Headers are matched by name, never by position: case, accents, spaces and punctuation
are ignored, so ``Chiffre d'affaires``, ``CHIFFRE D AFFAIRES`` and ``chiffre_daffaires``
are the same header. Criterion plugins add their own input fields (with aliases) to this
catalogue through `Input` declarations; the core builds one `Catalogue` per run.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

# Field types. "money", "number", "integer", "percent" and "rating" are numeric.
TEXT, STATUS, MONEY, NUMBER, INTEGER, PERCENT, RATING = (
    "text", "status", "money", "number", "integer", "percent", "rating")
NUMERIC_TYPES = frozenset({MONEY, NUMBER, INTEGER, PERCENT, RATING})
STATUSES = ("client", "prospect", "suspect", "former")


@dataclass(frozen=True)
class Field:
    """One account field: canonical name, type, human label, aliases, valid range."""

    name: str
    type: str = NUMBER
    label: str = ""
    aliases: tuple[str, ...] = ()
    unit: str = ""
    min: float | None = None
    max: float | None = None
    description: str = ""

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def title(self) -> str:
        """The field as a person reads it, in the run's language (``CA N`` in French)."""
        from .i18n import language
        if language() == "fr" and self.name in FRENCH_TITLES:
            return FRENCH_TITLES[self.name]
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def english_title(self) -> str:
        """The field's English title, whatever the run's language (for keys and names)."""
        return self.label or self.name.replace("_", " ").capitalize()


# The fields as a French sales team calls them (the headers Potentiel reads them from). Kept
# here, not in the catalog: "Potential" is also an output header, translated differently.
FRENCH_TITLES = {
    "id": "Code client", "name": "Raison sociale", "status": "Statut",
    "salesperson": "Commercial", "sector": "Secteur", "revenue": "CA N",
    "revenue_n1": "CA N-1", "revenue_n2": "CA N-2", "potential": "Potentiel",
    "headcount": "Effectif", "spend_per_employee": "Dépense par salarié",
    "payment_incidents": "Incidents de paiement", "dso_days": "Délai de paiement (jours)",
    "credit_rating": "Note de crédit", "growth_pct": "Croissance %",
    "prescription": "Prescription", "relationship": "Relation", "distance_km": "Distance (km)",
    "latitude": "Latitude", "longitude": "Longitude", "competitors": "Concurrents",
    "category_override": "Catégorie forcée", "postal_code": "Code postal", "town": "Ville",
    "country": "Pays",
}

BUILTIN_FIELDS: tuple[Field, ...] = (
    Field("id", TEXT, "Account id", ("Code client", "Identifiant", "ID client", "Account ID",
                                     "Client ID", "Code", "N° client", "Numéro client"),
          description="account identifier (required, unique)"),
    Field("name", TEXT, "Name", ("Raison sociale", "Nom", "Account name", "Client", "Société",
                                 "Company", "Account", "Nom de l'entreprise", "Entreprise",
                                 "Nom du compte", "Nom client", "Company name", "Dénomination"),
          description="account name"),
    Field("status", STATUS, "Status", ("Statut", "Type", "Stage"),
          description="client, prospect, suspect or former (a client no more)"),
    Field("salesperson", TEXT, "Salesperson", ("Commercial", "Rep", "Sales rep", "Vendeur",
                                               "Owner", "Responsable", "Propriétaire",
                                               "Propriétaire du compte", "Account owner",
                                               "Chargé d'affaires", "Commercial responsable"),
          description="rep in charge"),
    Field("sector", TEXT, "Sector", ("Secteur", "Industry", "Secteur d'activité", "Activité"),
          description="industry"),
    Field("revenue", MONEY, "Revenue N", ("CA N", "CA", "Chiffre d'affaires", "Chiffre d'affaires N",
                                          "Revenue N", "Sales", "Ventes", "CA annuel"), "€",
          description="revenue of the last full year (N)"),
    Field("revenue_n1", MONEY, "Revenue N-1", ("CA N-1", "Revenue N-1", "Chiffre d'affaires N-1",
                                               "Revenue N1", "CA N1"), "€",
          description="revenue of year N-1"),
    Field("revenue_n2", MONEY, "Revenue N-2", ("CA N-2", "Revenue N-2", "Chiffre d'affaires N-2",
                                               "Revenue N2", "CA N2"), "€",
          description="revenue of year N-2"),
    Field("potential", MONEY, "Potential", ("Potentiel", "Potential revenue", "Potentiel CA"), "€",
          description="revenue the account could bring, if known"),
    Field("headcount", INTEGER, "Headcount", ("Effectif", "Effectifs", "Employees", "Staff",
                                              "Salariés", "Nombre de salariés"), min=0,
          description="staff of the account"),
    Field("spend_per_employee", MONEY, "Spend per employee",
          ("Dépense par salarié", "Depense par salarie", "Spend/employee", "Dépense/salarié"), "€",
          min=0, description="average spend per employee"),
    Field("payment_incidents", INTEGER, "Payment incidents",
          ("Incidents de paiement", "Incidents", "Impayés", "Late payments",
           "Nb incidents paiement", "Nombre d'incidents de paiement", "Nb impayés"), min=0,
          description="late or unpaid invoices, last 12 months"),
    Field("dso_days", NUMBER, "DSO (days)", ("DSO", "Délai de paiement", "Days sales outstanding",
                                             "DSO jours", "Délai de paiement (jours)", "Délai de paiement (j)",
                                             "Délai moyen de paiement"), "days",
          min=0, description="days sales outstanding"),
    Field("credit_rating", TEXT, "Credit rating", ("Note de crédit", "Rating", "Cotation",
                                                   "Note crédit", "Notation"),
          description="external rating (AAA…D, or a score out of 20)"),
    Field("growth_pct", PERCENT, "Growth %", ("Croissance", "Croissance %", "Growth",
                                              "Taux de croissance"), "%",
          description="the account's own growth, in percent"),
    Field("prescription", RATING, "Prescription", ("Prescription", "Influence", "Prescripteur"),
          "0-5", min=0, max=5, description="influence, prescription, reputation (0–5)"),
    Field("relationship", RATING, "Relationship", ("Relation", "Relationship quality",
                                                   "Qualité de la relation"), "1-5",
          min=1, max=5, description="subjective relationship quality (1–5)"),
    Field("distance_km", NUMBER, "Distance (km)", ("Distance", "Distance km", "Distance (km)",
                                                   "Km", "Distance au commercial"), "km",
          min=0, description="to the nearest rep (computed from coordinates when blank)"),
    Field("latitude", NUMBER, "Latitude", ("Latitude", "Lat"), "°", min=-90, max=90,
          description="account location"),
    Field("longitude", NUMBER, "Longitude", ("Longitude", "Lon", "Lng", "Long"), "°",
          min=-180, max=180, description="account location"),
    Field("postal_code", TEXT, "Postal code", ("Code postal", "CP", "Zip", "Zip code", "Postcode",
                                               "Post code", "Postal code", "Code postal client"),
          description="postal code (locates the account offline when latitude and longitude are blank)"),
    Field("town", TEXT, "Town", ("Ville", "Commune", "City", "Localité", "Localite", "Town"),
          description="town (locates the account offline, with the postal code when given)"),
    Field("country", TEXT, "Country", ("Pays", "Country", "Code pays"),
          description="country of the postal code and town (blank: Settings Country, else FR)"),
    Field("category_override", TEXT, "Category override",
          ("Catégorie forcée", "Categorie forcee", "Forced category", "Catégorie manuelle",
           "Manual category"),
          description="a category set by a person: it wins over the computed one (shown in Why)"),
    Field("competitors", INTEGER, "Competitors", ("Concurrents", "Nombre de concurrents",
                                                  "Entrenched competitors", "Concurrence"),
          min=0, description="entrenched suppliers"),
)

# Columns Potentiel writes. Always these names, so formulas and filters keep working.
OUTPUT_COLUMNS_HEAD = ("Score", "Category", "Category label")
OUTPUT_COLUMNS_TAIL = ("Potential", "Penetration", "Matrix", "Top 80%", "Flags", "Why",
                       "Confidence", "To collect")
NEAREST_REP_COLUMNS = ("Nearest rep", "Nearest rep km")  # km: great-circle (straight line)
# Where accounts are located from a postal code or town, how; with a detour factor, the
# nearest rep's distance by road as estimated (great-circle km × the factor).
LOCATED_BY_COLUMN = "Located by"
PROFILE_COLUMN = "Profile"  # the profile each account is ranked in (rule files with profiles:)
ROAD_KM_COLUMN = "Nearest rep road km"
SCORE_PREFIX = "Score: "

SALESPEOPLE_FIELDS: tuple[Field, ...] = (
    Field("name", TEXT, "Name", ("Nom", "Commercial", "Rep", "Salesperson", "Vendeur")),
    Field("latitude", NUMBER, "Latitude", ("Latitude", "Lat"), min=-90, max=90),
    Field("longitude", NUMBER, "Longitude", ("Longitude", "Lon", "Lng", "Long"), min=-180, max=180),
    # a rep's base may be given by postal code or town instead (located offline)
    Field("postal_code", TEXT, "Postal code", ("Code postal", "CP", "Zip", "Zip code", "Postcode",
                                               "Post code")),
    Field("town", TEXT, "Town", ("Ville", "Commune", "City", "Localité", "Base", "Town")),
    Field("country", TEXT, "Country", ("Pays", "Code pays")),
    # a rep's own capacity (potentiel.plan.visits): Settings give everyone else's
    Field("visits_a_day", NUMBER, "Visits a day", ("Visites par jour", "Visits per day",
                                                   "Visites/jour", "Visites jour"), min=0),
    Field("field_days", NUMBER, "Field days", ("Jours terrain", "Jours de terrain",
                                               "Field days a year", "Jours terrain par an",
                                               "Days in the field"), min=0, max=366),
)

_non_alnum = re.compile(r"[^0-9a-z]+")


def normalise(text: object) -> str:
    """Lower-case, strip accents, drop spaces and punctuation: ``"CA N-1"`` → ``"can1"``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return _non_alnum.sub("", s.lower())


def is_output_header(header: object) -> bool:
    """True for a column Potentiel owns (it is rewritten, never read as input)."""
    h = str(header).strip()
    return (h in OUTPUT_COLUMNS_HEAD or h in OUTPUT_COLUMNS_TAIL or h in NEAREST_REP_COLUMNS
            or h in (LOCATED_BY_COLUMN, ROAD_KM_COLUMN, PROFILE_COLUMN)
            or h.startswith(SCORE_PREFIX))


@dataclass
class Catalogue:
    """Known fields for one run: the built-ins plus every criterion plugin's inputs."""

    fields: dict[str, Field] = field(default_factory=dict)
    _index: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, extra: Iterable[Field] = (), base: Iterable[Field] = BUILTIN_FIELDS) -> "Catalogue":
        cat = cls()
        for f in base:
            cat.add(f)
        for f in extra:
            cat.add(f)
        return cat

    def add(self, f: Field) -> None:
        if f.name not in self.fields:
            self.fields[f.name] = f
        for key in (f.name, f.label, *f.aliases):
            if key:
                self._index.setdefault(normalise(key), f.name)

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    def match(self, header: object) -> str | None:
        """The field a header names, or None."""
        return self._index.get(normalise(header))

    def suggest(self, word: object, cutoff: float = 0.75) -> str | None:
        """Closest known field for a misspelt header or name, or None."""
        key = normalise(word)
        if not key:
            return None
        hit = difflib.get_close_matches(key, list(self._index), n=1, cutoff=cutoff)
        return self._index[hit[0]] if hit else None
