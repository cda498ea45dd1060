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


def total_rows(accounts: pd.DataFrame, first_col: pd.Series | None,
               money: list[str]) -> dict[int, str]:
    """Row position → why it is a total row.

    ``accounts``: typed fields (``id``, ``name`` and the money fields), index = data-row
    position; ``first_col``: the first column's cells as text (same index), or None.
    """
    out: dict[int, str] = {}
    if not len(accounts):
        return out
    ids = accounts["id"] if "id" in accounts else pd.Series(None, index=accounts.index, dtype=object)
    names = accounts["name"] if "name" in accounts else pd.Series(None, index=accounts.index,
                                                                   dtype=object)
    money = [m for m in money if m in accounts]
    amounts = accounts[money].to_numpy(dtype=float) if money else np.zeros((len(accounts), 0))
    cents = np.where(np.isnan(amounts), 0.0, np.round(amounts * 100))
    running = np.zeros(len(money))
    since = 0  # accounts summed since the last total
    counted = 0  # accounts summed in all
    grand = np.zeros(len(money))
    positions = accounts.index.to_numpy()
    for k, pos in enumerate(positions):
        ident, name = ids.iat[k], names.iat[k]
        first = first_col.iat[k] if first_col is not None else None
        why = None
        if is_total_label(ident):
            why = _('the id "{id}" reads as a total').format(id=ident)
        elif first is not None and is_total_label(first) and first != name:
            why = _('"{text}" in the first column reads as a total').format(text=first)
        elif _blank(ident) and (is_total_label(name) or _strict_total(name)):
            why = _('no id and the name "{name}" reads as a total').format(name=name)
        elif money and counted >= 2 and (_blank(ident) or _strict_total(name)):
            row = amounts[k]
            known = ~np.isnan(row)
            if known.any() and np.any(row[known] != 0) and \
                    ((since >= 2 and np.array_equal(cents[k][known], running[known])) or
                     np.array_equal(cents[k][known], grand[known])):
                why = _("no id, and its amounts are the sum of the rows above")
        if why is not None:
            out[int(pos)] = why
            running[:] = 0
            since = 0
            continue
        running += cents[k]
        grand += cents[k]
        since += 1
        counted += 1
    return out


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())
