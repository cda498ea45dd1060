"""Reading numbers the way people type them in French and English workbooks.

``"1 200 €"`` → 1200, ``"12,5"`` → 12.5, ``"1.200,50"`` → 1200.5, ``"1,234,567"`` →
1234567, ``"12 %"`` → 12, ``"180 k€"`` → 180000, ``"€1,234.56"`` → 1234.56,
``"12 500 € HT"`` → 12500, ``"1 200 €/an"`` → 1200. A text that could mean two different
numbers (``"1,200"``: 1.2 in France, 1200 in England) is refused, never guessed, unless
the field's range leaves one reading only (`read_number`: a latitude ``"48,857"`` is 48.857).

`read_number` reads one cell's text for a field and says what it decided (`Reading.note`),
so that the caller can report each choice once per column:

- ``"NC"``, ``"n.c."``, ``"n.s."``, ``"N/A"``, ``"nd"``, ``"?"``: not available, blank;
- ``"-"`` (or ``–``, ``—``) alone: 0 in an amount (an accountant's zero), blank elsewhere;
- an amount marked ``TTC`` (tax included) is taken as typed, never converted;
- with ``bands``: a band of a count (``"50-99"``, ``"10 à 19 salariés"``,
  ``"2 000 à 4 999"``) is its midpoint, an open band (``"250 et plus"``, ``"10000+"``,
  ``"Plus de 500"``) its lower bound, and ``"moins de 10"`` the band 0–10.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from .i18n import _

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
# Units people type after an amount (spaces already removed): currency, tax basis, per year.
_SUFFIX = re.compile(r"(€|eur|euros?|\$|usd|£|gbp|chf|ht|ttc|/an|parans?|/année|/annee|/year|"
                     r"/yr|peryear|p\.?a\.?)$", re.IGNORECASE)
_PREFIX = re.compile(r"^(€|eur|\$|usd|£|gbp|chf)", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6, "md": 1e9, "mds": 1e9, "g": 1e9}
_SCALE_RE = re.compile(r"^(.*?)(k|m|md|mds)$", re.IGNORECASE)
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_DIGITS = re.compile(r"[\d.,]+")
_MARK_SEPARATORS = re.compile(r"[\s./_']+")

# What a cell says when the value is not known (compared without case, spaces, dots or
# slashes: "n.c." and "N/C" are "nc").
NOT_AVAILABLE = frozenset({
    "nc", "ns", "na", "nd", "nr", "nk", "so", "sansobjet", "inconnu", "inconnue",
    "unknown", "noncommunique", "nonrenseigne", "nondisponible", "nonconnu", "tbd", "tbc",
    "aucuneinfo", "?", "??", "???"})
DASHES = frozenset({"-", "\u2013", "\u2014", "\u2212", "--"})

# Notes a `Reading` may carry.
NOTE_NOT_AVAILABLE, NOTE_DASH_ZERO, NOTE_TTC = "not-available", "dash-zero", "ttc"
NOTE_BAND, NOTE_OPEN_BAND, NOTE_BY_RANGE = "band", "open-band", "decimal-by-range"


class Ambiguous(ValueError):
    """The text is a number, but which one depends on the writer's locale.

    ``readings``: the two numbers it could be (the decimal reading first)."""

    def __init__(self, message: str, readings: tuple[float, ...] = ()):
        super().__init__(message)
        self.readings = readings


@dataclass(frozen=True)
class Reading:
    """A cell's text read for a field: ``value`` (None: blank, the value is unknown) and
    ``note``: "" when the text was a plain number, else one of the NOTE_* keys."""

    value: float | None
    note: str = ""


def parse_number(text: str, percent: bool = False) -> float:
    """Parse a typed number. Raises ValueError (or `Ambiguous`) with a plain reason."""
    return _parse(text)[0]


def _parse(text: str) -> tuple[float, bool]:
    """The number and whether it was marked TTC."""
    s = str(text).strip()
    if not s:
        raise ValueError(_("is empty"))
    s = s.replace("\u2212", "-")  # the typographic minus
    negative = False
    if s.startswith("(") and s.endswith(")"):  # accounting negative: (1 200)
        negative, s = True, s[1:-1].strip()
    if s.endswith("%"):
        s = s[:-1].strip()
    s = _SPACES.sub("", s)
    ttc = False
    for _round in range(6):  # "12 k€ HT /an": the units come off one at a time
        if s.startswith("(") and s.endswith(")") and not negative:  # "(1 200,00) € HT"
            negative, s = True, s[1:-1]
            continue
        m = _SUFFIX.search(s)
        if not m or m.start() == 0:
            break
        ttc |= m.group(1).lower() == "ttc"
        s = s[:m.start()]
    if s.startswith("-") and _PREFIX.match(s[1:]):  # -€12
        negative, s = not negative, s[1:]
    s = _PREFIX.sub("", s)  # €1,234.56, EUR 12
    scale = 1.0
    m = _SCALE_RE.match(s)
    if m and m.group(1) and m.group(1)[-1].isdigit():
        s, scale = m.group(1), _SCALE[m.group(2).lower()]
    if s.startswith("+"):
        s = s[1:]
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    if not s or not _DIGITS.fullmatch(s) or not s[0].isdigit() and s[0] not in ".,":
        raise ValueError(_("is not a number"))
    sign = -scale if negative else scale
    try:
        value = _digits(s)
    except Ambiguous as exc:
        raise Ambiguous(str(exc), tuple(r * sign for r in exc.readings)) from None
    value = value * sign
    if not math.isfinite(value):
        raise ValueError(_("is too large"))
    return value, ttc


def _digits(s: str) -> float:
    commas, dots = s.count(","), s.count(".")
    if commas and dots:
        # The separator that comes last is the decimal one: 1.200,50 or 1,200.50.
        dec, thou = (",", ".") if s.rfind(",") > s.rfind(".") else (".", ",")
        whole, _sep, frac = s.rpartition(dec)
        if s.count(dec) != 1 or not _grouped(whole, thou):
            raise ValueError(_("is not a number"))
        return float(whole.replace(thou, "") + "." + frac)
    sep = "," if commas else "." if dots else ""
    if not sep:
        return float(s)
    count = commas or dots
    whole, _sep, frac = s.rpartition(sep)
    if count > 1:
        if not _grouped(s, sep) or s.startswith(sep):
            raise ValueError(_("is not a number"))
        return float(s.replace(sep, ""))
    both = (float(whole + "." + frac), float(whole + frac)) if whole else ()
    if sep == "." and _PLAIN.match(s):
        if len(frac) == 3 and whole not in ("", "0") and len(whole) <= 3:
            # "1.200" is 1.2 in English and 1200 in French.
            raise Ambiguous(_("could be read two ways (1.2 or 1200)"), both)
        return float(s)
    if len(frac) == 3 and whole not in ("", "0") and len(whole) <= 3:
        raise Ambiguous(_("could be read two ways (1,2 or 1 200)"), both)
    return float((whole or "0") + "." + frac)


def _grouped(s: str, sep: str) -> bool:
    """True when ``s`` is digits grouped by threes with ``sep`` (1,234,567)."""
    parts = s.split(sep)
    return (bool(parts[0]) and len(parts[0]) <= 3 and parts[0].isdigit()
            and all(len(p) == 3 and p.isdigit() for p in parts[1:]))


def marker_key(text: str) -> str:
    """A short text compared without case, accents, spaces, dots or slashes ("N/A" → "na")."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii") \
        if not text.isascii() else text
    return _MARK_SEPARATORS.sub("", s.lower())


def read_number(text: str, *, amount: bool = False, bands: bool = False,
                low: float | None = None, high: float | None = None) -> Reading:
    """One cell's text read as a number for a field (see the module docstring).

    ``amount``: the field is money (``-`` is 0, TTC is noted); ``bands``: the field is a
    count that may be typed as a band; ``low``/``high``: the field's range, which settles
    a text that could be read two ways when only one reading lies within it (both bounds
    needed). Raises ValueError (or `Ambiguous`) with a plain reason when the text is not
    a number.
    """
    s = text.strip()
    if s in DASHES:
        return Reading(0.0, NOTE_DASH_ZERO) if amount else Reading(None, NOTE_NOT_AVAILABLE)
    if len(s) <= 24 and marker_key(s) in NOT_AVAILABLE:
        return Reading(None, NOTE_NOT_AVAILABLE)
    try:
        value, ttc = _parse(s)
    except Ambiguous as exc:
        if low is not None and high is not None:
            fits = [r for r in exc.readings if low <= r <= high]
            if len(fits) == 1:
                return Reading(fits[0], NOTE_BY_RANGE)
        raise
    except ValueError:
        band = parse_band(s) if bands else None
        if band is None:
            raise
        lo, hi = band
        if hi is None:
            return Reading(lo, NOTE_OPEN_BAND)
        return Reading((lo + hi) / 2, NOTE_BAND if hi > lo else "")
    return Reading(value, NOTE_TTC if ttc and amount else "")


# ---------------------------------------------------------------- bands of a count

_NUM = r"(\d{1,3}(?:[ .,']\d{3})+|\d+)"
_UNIT = re.compile(r"\b(salaries?|employes?|employees?|emp|staff|personnes?|pers|people|"
                   r"collaborateurs?|agents?)\b\.?")
_ONE = re.compile(rf"^{_NUM}$")
_CLOSED = re.compile(rf"^(?:de|from|between|entre)?\s*{_NUM}\s*(?:-|a|to|et|and|ou|or)\s*{_NUM}$")
_OPEN_AFTER = re.compile(rf"^{_NUM}\s*(?:\+|et\s*\+|et\s+plus|ou\s+plus|and\s+(?:more|over|above)|"
                         rf"or\s+more|plus|et\s+au-?dela|ou\s+\+)$")
_OPEN_BEFORE = re.compile(rf"^(?:plus\s+de|more\s+than|over|above|au-?dela\s+de|>=?|"
                          rf"superieur\s+a|at\s+least|au\s+moins)\s*{_NUM}$")
_UPTO = re.compile(rf"^(?:moins\s+de|less\s+than|under|below|<=?|jusqu'?\s*a|up\s+to|"
                   rf"inferieur\s+a)\s*{_NUM}$")


def _count(token: str) -> float:
    return float(re.sub(r"[ .,']", "", token))


def parse_band(text: str) -> tuple[float, float | None] | None:
    """``(low, high)`` of a band of a count (``high`` None when open), or None when the
    text is no band: ``"50-99"`` → (50, 99), ``"2 000 à 4 999 salariés"`` → (2000, 4999),
    ``"250 et plus"`` → (250, None), ``"moins de 10"`` → (0, 10), ``"10 salariés"`` →
    (10, 10)."""
    s = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[\s\u00a0\u202f\u2009]+", " ", s.replace("\u2013", "-").replace("\u2014", "-"))
    s = s.replace("\u2265", ">=").replace("\u2264", "<=").strip()
    s = re.sub(r" +", " ", _UNIT.sub("", s)).strip()
    m = _ONE.match(s)  # "10 salariés": a count, no band
    if m:
        return _count(m.group(1)), _count(m.group(1))
    m = _CLOSED.match(s)
    if m:
        lo, hi = _count(m.group(1)), _count(m.group(2))
        return (lo, hi) if lo <= hi else None
    m = _OPEN_AFTER.match(s) or _OPEN_BEFORE.match(s)
    if m:
        return _count(m.group(1)), None
    m = _UPTO.match(s)
    if m:
        return 0.0, _count(m.group(1))
    return None
