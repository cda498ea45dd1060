"""Reading numbers the way people type them in French and English workbooks.

``"1 200 €"`` → 1200, ``"12,5"`` → 12.5, ``"1.200,50"`` → 1200.5, ``"1,234,567"`` →
1234567, ``"12 %"`` → 12, ``"180 k€"`` → 180000. A text that could mean two different
numbers (``"1,200"``: 1.2 in France, 1200 in England) is refused, never guessed.
"""

from __future__ import annotations

import math
import re

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_CURRENCY = re.compile(r"(€|eur|euros?|\$|usd|£|gbp|chf|ht|ttc)$", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6, "md": 1e9, "mds": 1e9, "g": 1e9}
_SCALE_RE = re.compile(r"^(.*?)(k|m|md|mds)$", re.IGNORECASE)
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")


class Ambiguous(ValueError):
    """The text is a number, but which one depends on the writer's locale."""


def parse_number(text: str, percent: bool = False) -> float:
    """Parse a typed number. Raises ValueError (or `Ambiguous`) with a plain reason."""
    s = str(text).strip()
    if not s:
        raise ValueError("is empty")
    s = s.replace("\u2212", "-")  # the typographic minus
    negative = False
    if s.startswith("(") and s.endswith(")"):  # accounting negative: (1 200)
        negative, s = True, s[1:-1].strip()
    if s.endswith("%"):
        s = s[:-1].strip()
    s = _SPACES.sub("", s)
    s = _CURRENCY.sub("", s)
    scale = 1.0
    m = _SCALE_RE.match(s)
    if m and m.group(1) and m.group(1)[-1].isdigit():
        s, scale = m.group(1), _SCALE[m.group(2).lower()]
    if s.startswith("+"):
        s = s[1:]
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    if not s or not re.fullmatch(r"[\d.,]+", s) or not s[0].isdigit() and s[0] not in ".,":
        raise ValueError("is not a number")
    value = _digits(s)
    value = value * scale
    if not math.isfinite(value):
        raise ValueError("is too large")
    return -value if negative else value


def _digits(s: str) -> float:
    commas, dots = s.count(","), s.count(".")
    if commas and dots:
        # The separator that comes last is the decimal one: 1.200,50 or 1,200.50.
        dec, thou = (",", ".") if s.rfind(",") > s.rfind(".") else (".", ",")
        whole, _, frac = s.rpartition(dec)
        if s.count(dec) != 1 or not _grouped(whole, thou):
            raise ValueError("is not a number")
        return float(whole.replace(thou, "") + "." + frac)
    sep = "," if commas else "." if dots else ""
    if not sep:
        return float(s)
    count = commas or dots
    whole, _, frac = s.rpartition(sep)
    if count > 1:
        if not _grouped(s, sep) or s.startswith(sep):
            raise ValueError("is not a number")
        return float(s.replace(sep, ""))
    if sep == "." and _PLAIN.match(s):
        if len(frac) == 3 and whole not in ("", "0") and len(whole) <= 3:
            # "1.200" is 1.2 in English and 1200 in French.
            raise Ambiguous("could be read two ways (1.2 or 1200)")
        return float(s)
    if len(frac) == 3 and whole not in ("", "0") and len(whole) <= 3:
        raise Ambiguous("could be read two ways (1,2 or 1 200)")
    return float((whole or "0") + "." + frac)


def _grouped(s: str, sep: str) -> bool:
    """True when ``s`` is digits grouped by threes with ``sep`` (1,234,567)."""
    parts = s.split(sep)
    return (bool(parts[0]) and len(parts[0]) <= 3 and parts[0].isdigit()
            and all(len(p) == 3 and p.isdigit() for p in parts[1:]))
