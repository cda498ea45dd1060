"""Dates as rules read them: a date is its day number, and ``today`` is fixed per run.

A date cell reaches the rules as a ``datetime.date`` / ``datetime`` (python-calamine,
openpyxl), a pandas Timestamp, ISO text (``2024-03-31``, ``2024-03-31T00:00:00``: xlwings
remote, CSV) or French / European day-first text (``31/03/2024``, ``31.03.2024``). Every
one becomes the proleptic Gregorian day number (``date.toordinal()``, as a float) so both
engines compare dates as plain numbers; the time of day is dropped. A value that is none
of these (``2024-02-30``, ``soon``) is blank.

``today`` is the run's date: ``$POTENTIEL_TODAY`` (``YYYY-MM-DD``) when set, so tests and
reruns are reproducible, else the computer's date. ``days_since(x)`` is today − x in days
(negative for a date in the future); ``months_since(x)`` counts whole months: a month is
complete on the same day of the next month, or on its last day when it is shorter (from
31 January: 27 February is 0 months, 28 February 2025 is 1).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re

import numpy as np
from pandas import NaT

TODAY_ENV = "POTENTIEL_TODAY"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?: [\d:.]+)?$")


def today() -> dt.date:
    """The run's date: ``$POTENTIEL_TODAY`` (YYYY-MM-DD) if set, else the system date.
    Raises ValueError for an unreadable ``$POTENTIEL_TODAY``."""
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return dt.date.today()
    day = to_date(text)
    if day is None:
        raise ValueError(f"{TODAY_ENV}={text!r} is not a date: write it as YYYY-MM-DD")
    return day


def to_date(value: object) -> dt.date | None:
    """A cell value as a date, or None (blank or not a date)."""
    if value is None or isinstance(value, bool):
        return None
    if value is NaT:  # pandas' blank date is a datetime subclass: check it first
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT: blank)
        try:
            return value.to_pydatetime().date()
        except (ValueError, AttributeError):
            return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        text = value.strip()
        m = _ISO.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
        else:
            m = _DAY_FIRST.match(text)
            if not m:
                return None
            d, mo, y = (int(g) for g in m.groups())
        try:
            return dt.date(y, mo, d)
        except ValueError:
            return None
    return None


def day_number(value: object) -> float:
    """The day number of a date value (NaN when blank or not a date)."""
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    day = to_date(value)
    return float(day.toordinal()) if day is not None else math.nan


def days_since(days: np.ndarray, now: float) -> np.ndarray:
    """today − date, in days (NaN stays NaN)."""
    return now - np.asarray(days, dtype=float)


def months_since(days: np.ndarray, now: float) -> np.ndarray:
    """Whole months from each date to today (negative for later dates; NaN stays NaN)."""
    t = dt.date.fromordinal(int(now))
    out = np.full(len(days), np.nan)
    for i, v in enumerate(np.asarray(days, dtype=float)):
        if v == v:
            out[i] = months_between(dt.date.fromordinal(int(v)), t)
    return out


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end``: a month is complete on the same day of the
    month (or the month's last day when it is shorter)."""
    if end < start:
        return -months_between(end, start)
    months = (end.year - start.year) * 12 + end.month - start.month
    if months and not _reached(start, end):
        months -= 1
    return months


def _reached(start: dt.date, end: dt.date) -> bool:
    """Is ``end``'s day of the month at or past ``start``'s (capped at the month's end)?"""
    nxt = dt.date(end.year + end.month // 12, end.month % 12 + 1, 1)
    last = (nxt - dt.timedelta(days=1)).day
    return end.day >= min(start.day, last)
