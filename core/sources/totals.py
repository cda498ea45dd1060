"""Total rows are not accounts.

Exports and pivot tables pasted as values end with a ``TOTAL`` or ``Total général`` row,
and sometimes carry sub-totals per rep or region. Such a row is left out of scoring, of
the Top 80 % and of the Summary, and the reading report lists it. A row is a total when:

- its id, or its first column, reads as a total word (``Total``, ``TOTAL``, ``Total
  général``, ``Sous-total``, ``Grand total``, ``Somme``, ``Total Nantes`` …);
- or it has no id, its name reads as a total word;
- or it has no id (or a total word as name) and each of its amounts equals the sum of the
  rows above it (since the previous total), with cents.

An account named "Total Energies" with an id and ordinary amounts is an account: a
total word in the *name* only counts when the id is blank or the amounts add up.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import _

_TOTAL_WORDS = ("total", "totaux", "totalgeneral", "soustotal", "grandtotal", "somme", "sum",
                "subtotal", "ensemble", "cumul", "totalht", "totalttc")
_TOTAL_START = re.compile(r"^(sous[- ]?total|sub[- ]?total|total|grand total|somme)\b", re.I)


def _words(v: Any) -> str:
    s = unicodedata.normalize("NFKD", str(v)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", re.sub(r"[^0-9a-z ]+", " ", s)).strip()


def is_total_label(v: Any) -> bool:
    """``Total``, ``TOTAL``, ``Total général``, ``Sous-total Nantes``, ``Somme`` …; not
    ``Total Energies`` alone (see `total_rows`, which also looks at the id and amounts)."""
    if not isinstance(v, str) or not v.strip():
        return False
    w = _words(v)
    if w.replace(" ", "") in _TOTAL_WORDS:
        return True
    return bool(_TOTAL_START.match(w)) and len(w.split()) <= 4


def _strict_total(v: Any) -> bool:
    """A total word alone (no other word): ``Total``, ``Total général``, ``Sous-total``."""
    return isinstance(v, str) and _words(v).replace(" ", "") in _TOTAL_WORDS


def _maybe(values: np.ndarray) -> np.ndarray:
    """A fast first pass: True where a cell could read as a total word (its text holds one
    of the words' stems); `is_total_label` decides on those few."""
    s = pd.Series(values, dtype=object)
    texts = s.where(s.map(type) == str)
    return texts.str.contains(_STEMS, regex=True, na=False).to_numpy(dtype=bool)


_STEMS = r"(?i)t\W*o\W*t|somm|sum|ensembl|cumul"


def total_rows(accounts: pd.DataFrame, first_col: pd.Series | None,
               money: list[str]) -> dict[int, str]:
    """Row position → why it is a total row.

    ``accounts``: typed fields (``id``, ``name`` and the money fields), index = data-row
    position; ``first_col``: the first column's cells as text (same index), or None.
    Linear: the words are looked for in one vectorised pass, and only the rows that may be
    totals (a total word, or no id) are checked one by one against the sums above.
    """
    out: dict[int, str] = {}
    n = len(accounts)
    if not n:
        return out
    none = np.full(n, None, dtype=object)
    ids = accounts["id"].to_numpy(dtype=object) if "id" in accounts else none
    names = accounts["name"].to_numpy(dtype=object) if "name" in accounts else none
    firsts = first_col.to_numpy(dtype=object) if first_col is not None else none
    no_id = pd.isna(ids) | (pd.Series(ids, dtype=object).map(
        lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool))
    candidates = _maybe(ids) | _maybe(firsts) | no_id
    money = [m for m in money if m in accounts]
    amounts = accounts[money].to_numpy(dtype=float) if money else np.zeros((n, 0))
    cents = np.where(np.isnan(amounts), 0.0, np.round(amounts * 100))
    prefix = np.vstack([np.zeros((1, len(money))), np.cumsum(cents, axis=0)])  # rows < k
    last = -1          # the last total row (its own cents are excluded from what follows)
    left_out = np.zeros(len(money))  # cents of the total rows found so far
    totals_before = 0
    positions = accounts.index.to_numpy()
    for k in np.flatnonzero(candidates):
        ident, name, first = ids[k], names[k], firsts[k]
        why = None
        if is_total_label(ident):
            why = _('the id "{id}" reads as a total').format(id=ident)
        elif first is not None and is_total_label(first) and first != name:
            why = _('"{text}" in the first column reads as a total').format(text=first)
        elif no_id[k] and (is_total_label(name) or _strict_total(name)):
            why = _('no id and the name "{name}" reads as a total').format(name=name)
        elif money and (no_id[k] or _strict_total(name)):
            counted = k - totals_before  # accounts above, totals left out
            since = k - last - 1
            if counted >= 2:
                row = amounts[k]
                known = ~np.isnan(row)
                running = prefix[k] - prefix[last + 1]
                grand = prefix[k] - left_out
                if known.any() and np.any(row[known] != 0) and \
                        ((since >= 2 and np.array_equal(cents[k][known], running[known])) or
                         np.array_equal(cents[k][known], grand[known])):
                    why = _("no id, and its amounts are the sum of the rows above")
        if why is not None:
            out[int(positions[k])] = why
            left_out += cents[k]
            totals_before += 1
            last = k
    return out


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())
