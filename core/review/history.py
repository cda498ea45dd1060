"""The history of runs: a compact snapshot of every account at each run, what changed
since any earlier run, and each account's category trend ("B → A in March").

A snapshot (`snapshot`) is one row per account: ``run`` (its number), ``date``,
``account`` (the id, as text), ``score``, ``category``, ``profile``, ``flags`` and
``rules`` (the ids of the rules that fired). `read_history` gives every kept run in that
shape, one snapshot after the other.

How it is kept (`encode` / `decode`): one table, a line per run (its date, rules file and
the model it ran: weights and category bands per profile, as JSON), then the accounts of
that run that differ from the run before (the first run kept holds every account); an
account no longer in the accounts gets a line saying it left. The table lives on
Potentiel's own History sheet (Historique, hidden, found by its marker like every sheet
of Potentiel's), or, when Settings name a ``History file``, in that CSV or Parquet file
beside the workbook.

Size is bounded: one snapshot per day (a run on a day that already has one replaces it:
the day's last run counts); at most ``History runs`` runs (Settings, default
`DEFAULT_RUNS`); on the sheet at most `MAX_SHEET_ROWS` lines. Beyond, the oldest runs are
dropped (the next one then holds every account) and the run says so, with the fix.

Pure: tables in, tables and `Block`s out; the front ends read and write the sheet or file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..i18n import N_, _, in_language, language
from ..problems import Problem, UserError
from ..report import Block, Rows, plain
from ..sheetnames import CHANGES_SHEET, HISTORY_SHEET

if TYPE_CHECKING:
    from ..pipeline import Result

COLUMNS = ("run", "date", "account", "score", "category", "profile", "flags")
SNAPSHOT_COLUMNS = (*COLUMNS, "rules")       # what `snapshot` and `read_history` give
FIELDS = ("score", "category", "profile", "flags", "rules")  # compared from run to run
STORED = (*SNAPSHOT_COLUMNS, "left", "rules_file", "model")  # the kept table's columns
HEADERS = (N_("Run"), N_("Date"), N_("Account"), N_("Score"), N_("Category"), N_("Profile"),
           N_("Flags"), N_("Rules fired"), N_("Left"), N_("Rules file"), N_("Model"))
TABLE_ROW = 4          # the History sheet: title rows, then the kept table's header row
DEFAULT_RUNS = 60      # five years of monthly runs
MAX_SHEET_ROWS = 50_000  # lines of the History sheet (the workbook stays light to send)
FILE_SUFFIXES = (".csv", ".parquet")

HISTORY_SETTING = ("History file", "Fichier d'historique")
RUNS_SETTING = ("History runs", "Exécutions gardées")
SINCE_SETTING = ("Changes since", "Changements depuis")


# --------------------------------------------------------------------------- snapshots


def account_key(value: Any) -> str | None:
    """An account id as the history keeps it: text; a whole number read as 1001.0 is
    ``"1001"`` (the same id typed as a number or as text); None for a blank."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    return text or None


def account_keys(values: Any) -> list[str | None]:
    """`account_key` of each value (a column of ids): texts and whole numbers, the usual
    ids, without a call per value."""
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values, dtype=object)
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        safe = np.where(finite, arr, 0)
        whole = finite & (safe % 1 == 0) & (np.abs(safe) < 2.0 ** 62)
        if whole.all():
            return safe.astype(np.int64).astype(str).astype(object).tolist()
        arr = arr.astype(object)
    elif arr.dtype.kind in "iu":
        return arr.astype(str).astype(object).tolist()
    arr = arr.astype(object, copy=False)
    kinds = set(map(type, arr))
    if kinds == {str}:
        return [t.strip() or None for t in arr.tolist()]
    return [account_key(v) for v in arr.tolist()]


def snapshot(result: "Result", when: dt.datetime, run: int = 0) -> pd.DataFrame:
    """The run's snapshot: one row per account that has an id, columns `SNAPSHOT_COLUMNS`
    (``run`` int, ``date`` the run's time, ``account`` the id as text, ``score`` 0–100 to one
    decimal or NaN, ``category``/``profile``/``flags``/``rules`` text or None). An id seen
    twice is kept once (its first row)."""
    acc, out = result.accounts, result.outputs
    ids = acc["id"] if "id" in acc else pd.Series(None, index=acc.index, dtype=object)
    keys = account_keys(ids.to_numpy(dtype=object))
    score = pd.to_numeric(out["Score"], errors="coerce").round(1) if "Score" in out else \
        pd.Series(np.nan, index=acc.index)
    fired = result.rules.fired.reindex(acc.index)
    n = len(acc)

    def texts(values: Any) -> pd.Series:  # objects: text or None (never pandas' str dtype)
        return pd.Series(_texts(values) if values is not None else [None] * n, dtype=object)

    frame = pd.DataFrame({
        "run": int(run),
        "date": pd.Timestamp(run_time(when)),
        "account": pd.Series(keys, dtype=object),
        "score": score.to_numpy(dtype=float),
        "category": texts(result.category.reindex(acc.index)),
        "profile": texts(result.profile.reindex(acc.index) if result.profile is not None
                         else None),
        "flags": texts(out["Flags"] if "Flags" in out else None),
        "rules": texts(_fired_texts(fired)),
    }, index=range(n))
    keep = frame["account"].notna().to_numpy() & \
        ~frame["account"].duplicated(keep="first").to_numpy()
    frame = frame[keep].reset_index(drop=True)
    frame.attrs[_CLEAN] = True  # its texts are text or None already (see `_indexed`)
    _MADE[id(frame)] = frame  # and its accounts each once: this very frame
    return frame


# the snapshots `snapshot` made, while they are held: their accounts are each once
_MADE: "weakref.WeakValueDictionary[int, pd.DataFrame]" = weakref.WeakValueDictionary()


_CLEAN = "potentiel.history.texts"


def _fired_texts(fired: pd.Series) -> np.ndarray:
    """The ids of the rules that fired, joined ("r1, r2"), None for none; each distinct
    tuple joined once."""
    values = fired.to_numpy(dtype=object)
    codes, distinct = pd.factorize(values)
    table = [", ".join(t) if isinstance(t, tuple) and t else None for t in distinct]
    return np.array([*table, None], dtype=object)[codes]


def run_time(when: dt.datetime | None) -> dt.datetime:
    return (when or dt.datetime.now()).replace(second=0, microsecond=0, tzinfo=None)


def _texts(values: Iterable[Any]) -> list[str | None]:
    """Text per value, None for blanks; each distinct value converted once."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else \
        np.asarray(list(values), dtype=object)
    if not len(arr):
        return []
    codes, distinct = pd.factorize(arr)  # blanks (None, NaN) are -1
    table = [None if plain(v) is None else str(plain(v)) for v in distinct]
    table.append(None)
    return np.array(table, dtype=object)[codes].tolist()


def account_names(result: "Result") -> dict[str, str]:
    """Account id (as the history keeps it) → name, for the accounts that have both."""
    acc = result.accounts
    if "id" not in acc or "name" not in acc:
        return {}
    out: dict[str, str] = {}
    for k, n in zip(account_keys(acc["id"].to_numpy(dtype=object)),
                    acc["name"].to_numpy(dtype=object).tolist()):
        if k is None:
            continue
        if type(n) is str:
            if n:
                out[k] = n
        elif plain(n) is not None:
            out[k] = str(n)
    return out


class LazyNames(Mapping):
    """`account_names` of a run, worked out on the first look-up: a run whose Changes
    name no account never builds them."""

    def __init__(self, result: "Result"):
        self._result, self._names = result, None

    def _all(self) -> dict[str, str]:
        if self._names is None:
            self._names = account_names(self._result)
        return self._names

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def run_model(result: "Result") -> dict:
    """What a run scored with, kept with it so that a preview can say what changed: the
    score model's kind, the category letters best first, the weights (as configured, any
    scale) and the category bands or quotas, per profile (``""`` without profiles)."""
    from ..profiles import spec_of, weights_of
    base = {n: float(result.config.weights.get(n, getattr(c, "default_weight", 0) or 0))
            for n, c in result.criteria.items()}
    spec = result.config.categories
    weights: dict[str, dict[str, float]] = {}
    categories: dict[str, dict] = {}
    profiles = result.profiles.profiles if result.profiles is not None and \
        result.profile is not None else (None,)
    for p in profiles:
        name = "" if p is None else p.name
        weights[name] = base if p is None else {k: float(v) for k, v in
                                                weights_of(p, base).items()}
        categories[name] = spec_json(spec_of(p, spec))
    return {"kind": getattr(result.model, "kind", "weighted"), "letters": list(spec.letters),
            "weights": weights, "categories": categories}


def spec_json(spec: Any) -> dict:
    return {"mode": spec.mode, "bands": {b.letter: float(b.min) for b in spec.bands},
            "quotas": {q.letter: q.share for q in spec.quotas}}


# --------------------------------------------------------------------------- the kept runs


@dataclass
class Run:
    """A kept run: its number, date (to the minute), rules file and model (`run_model`)."""

    run: int
    date: dt.datetime
    rules_file: str = ""
    model: dict = field(default_factory=dict)

    @property
    def letters(self) -> list[str]:
        return list(self.model.get("letters") or [])


@dataclass
class History:
    """The kept runs, oldest first, and each one's full snapshot (indexed by account,
    columns `FIELDS`). ``notices``: what was decided while reading or keeping it."""

    runs: list[Run] = field(default_factory=list)
    snapshots: dict[int, pd.DataFrame] = field(default_factory=dict)
    notices: list[Problem] = field(default_factory=list)
    language: str | None = None  # the workbook's, when read from one
    lines: int | None = None     # lines of the kept table read from the History sheet
    appended: bool = False       # the last `add` only appended a run (nothing replaced)
    _encoded: tuple | None = field(default=None, repr=False, compare=False)  # `encode`'s last

    @property
    def last(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def frame(self) -> pd.DataFrame:
        """Every kept run's snapshot, oldest first: columns `SNAPSHOT_COLUMNS`."""
        parts = []
        for r in self.runs:
            snap = self.snapshots[r.run]
            parts.append(pd.DataFrame({
                "run": r.run, "date": pd.Timestamp(r.date), "account": snap.index.to_numpy(),
                **{f: snap[f].to_numpy() for f in FIELDS}}))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in SNAPSHOT_COLUMNS})
        out = pd.concat(parts, ignore_index=True)
        out["run"] = out["run"].astype(int)
        out["score"] = pd.to_numeric(out["score"], errors="coerce").astype(float)
        for c in ("account", *FIELDS[1:]):  # text, None for a blank (never NaN)
            out[c] = pd.Series(_texts(out[c]), index=out.index, dtype=object)
        return out[list(SNAPSHOT_COLUMNS)]

    def find(self, run: int) -> Run | None:
        return next((r for r in self.runs if r.run == run), None)

    def add(self, snap: pd.DataFrame, run: Run, keep: int = DEFAULT_RUNS,
            max_rows: int | None = None, accounts: int | None = None) -> None:
        """Keep ``snap`` (a `snapshot`) as run ``run``: it replaces a run of the same day;
        then the oldest runs go while more than ``keep`` runs or ``max_rows`` lines of the
        kept table (`encode`) are kept, and a notice says which and how to keep more.
        ``accounts``: how many the run scored (those without an id, or with an id seen
        before, are not kept: said)."""
        if accounts is not None and accounts > len(snap):
            self.notices.append(Problem(
                _("{n} account(s) without an id, or with an id seen before, are not in the "
                  "history (it follows each account by its id); give each account its own "
                  "id").format(n=accounts - len(snap)),
                _(HISTORY_SHEET), kind="history-no-id"))
        same_day = [r for r in self.runs if r.date.date() == run.date.date()]
        self.appended = not same_day
        if same_day:
            self.notices.append(Problem(
                _("this run replaces run {run} of {when} in the history (one snapshot per "
                  "day: the day's last run)").format(run=same_day[-1].run,
                                                    when=f"{same_day[-1].date:%Y-%m-%d %H:%M}"),
                _(HISTORY_SHEET), level="notice", kind="history-same-day"))
        for r in same_day:
            self.runs.remove(r)
            self.snapshots.pop(r.run, None)
        self.runs.append(run)
        self.snapshots[run.run] = _indexed(snap)
        dropped: list[Run] = []
        while len(self.runs) > max(keep, 1):
            dropped.append(self._drop_oldest())
        if max_rows is not None:
            while len(self.runs) > 1 and len(encode(self)) > max_rows:
                dropped.append(self._drop_oldest())  # (encode keeps its last table)
            if len(encode(self)) > max_rows:  # one run alone: kept, and said
                self.notices.append(Problem(
                    _("one run of {n:,} accounts is more than the {sheet} sheet keeps "
                      "({rows:,} lines): only this run is kept; name a History file "
                      "(.parquet) beside the workbook in Settings to keep every run").format(
                          n=len(snap), sheet=_(HISTORY_SHEET), rows=max_rows),
                    _(HISTORY_SHEET), kind="history-too-big"))
        if dropped:
            self.appended = False
            dates = ", ".join(f"{r.date:%Y-%m-%d}" for r in dropped[:5])
            if len(dropped) > 5:
                dates += _(" and {n} more").format(n=len(dropped) - 5)
            limit = _("{n} runs").format(n=keep) if len(self.runs) >= keep else \
                _("{n} lines on the {sheet} sheet").format(n=max_rows, sheet=_(HISTORY_SHEET))
            self.notices.append(Problem(
                _("the history keeps at most {limit}: the oldest run(s) were dropped ({dates}); "
                  "to keep more, raise History runs in Settings, or name a History file "
                  "(.parquet) beside the workbook").format(limit=limit, dates=dates),
                _(HISTORY_SHEET), level="notice", kind="history-dropped"))

    def _drop_oldest(self) -> Run:
        r = self.runs.pop(0)
        self.snapshots.pop(r.run, None)
        return r

    def next_run(self) -> int:
        return max((r.run for r in self.runs), default=0) + 1

    def base(self, since: int | dt.date | None = None, now: Run | None = None) -> Run | None:
        """The earlier run to compare ``now`` (default: the last) with: run number
        ``since``, the last run on or before the date ``since``, or (None) the run before
        ``now``. Raises `UserError` for a run number that is not kept."""
        now = now or self.last
        earlier = [r for r in self.runs if now is not None and r.run < now.run]
        if since is None:
            return earlier[-1] if earlier else None
        if isinstance(since, int):
            found = self.find(since)
            if found is None:
                kept = ", ".join(str(r.run) for r in self.runs) or _("none")
                raise UserError(_("run {run} is not in the history (runs kept: {kept}); give "
                                  "one of them, or a date").format(run=since, kept=kept))
            return found
        day = since if not isinstance(since, dt.datetime) else since.date()
        before = [r for r in earlier if r.date.date() <= day]
        if before:
            return before[-1]
        if earlier:
            first = earlier[0]
            self.notices.append(Problem(
                _("no run kept on or before {date}: the changes are since the oldest run kept, "
                  "run {run} of {when}").format(date=day.isoformat(), run=first.run,
                                                when=f"{first.date:%Y-%m-%d}"),
                level="notice", kind="history-since"))
            return first
        return None


def _indexed(snap: pd.DataFrame) -> pd.DataFrame:
    """A snapshot indexed by account (objects), columns `FIELDS`: ``score`` float to one
    decimal, the others text or None (objects)."""
    made = _MADE.get(id(snap)) is snap  # a `snapshot` as it made it: accounts each once
    first = None if made else ~snap["account"].duplicated(keep="first").to_numpy()
    frame = snap[first] if first is not None and not first.all() else snap
    index = pd.Index(frame["account"].to_numpy(dtype=object), dtype=object, name="account")
    n = len(frame)
    columns: dict[str, Any] = {"score": pd.to_numeric(
        frame["score"], errors="coerce").astype(float).round(1).to_numpy()
        if "score" in frame else np.full(n, np.nan)}
    clean = bool(snap.attrs.get(_CLEAN))
    for f in FIELDS[1:]:
        values = (frame[f].to_numpy(dtype=object) if clean else _texts(frame[f])) \
            if f in frame else [None] * n
        columns[f] = pd.Series(values, index=index, dtype=object)
    return pd.DataFrame(columns, index=index)


def _comparable(frame: pd.DataFrame) -> np.ndarray:
    """The fields as an object array where blanks are None (so blank equals blank)."""
    grid = frame[list(FIELDS)].to_numpy(dtype=object)
    grid[pd.isna(grid)] = None
    return grid


def encode(history: History) -> pd.DataFrame:
    """The kept table: columns `STORED`, oldest run first; per run a line with no account
    (its date, rules file and model as JSON), then the accounts that differ from the run
    before (``left`` True for one no longer in the accounts). Built a column at a time:
    ``run`` int, ``date`` datetime64, ``score`` float (NaN for a blank), the others
    objects (None for a blank)."""
    key = tuple((r.run, id(history.snapshots[r.run])) for r in history.runs)
    if history._encoded is not None and history._encoded[0] == key:
        return history._encoded[1]
    parts: list[dict[str, Any]] = []
    state: pd.DataFrame | None = None
    for r in history.runs:
        snap = history.snapshots[r.run]
        parts.append({"n": 1, "account": [None], "score": [np.nan],
                      **{f: [None] for f in FIELDS[1:]}, "left": [None],
                      "rules_file": [r.rules_file or None],
                      "model": [json.dumps(r.model, ensure_ascii=False, sort_keys=True)],
                      "run": r.run, "date": r.date})
        if state is None:
            changed = np.ones(len(snap), dtype=bool)
        else:
            changed = ~_same_as(state, snap)
        kept = snap[changed]
        n = int(changed.sum())
        if n:
            parts.append({"n": n, "account": kept.index.to_numpy(dtype=object),
                          "score": kept["score"].to_numpy(dtype=float),
                          # (text or None already: every snapshot is `_indexed`)
                          **{f: kept[f].to_numpy(dtype=object) for f in FIELDS[1:]},
                          "left": [None] * n, "rules_file": [None] * n, "model": [None] * n,
                          "run": r.run, "date": r.date})
        if state is not None:
            gone = state.index[~state.index.isin(snap.index)]
            if len(gone):
                m = len(gone)
                parts.append({"n": m, "account": gone.to_numpy(dtype=object),
                              "score": np.full(m, np.nan), **{f: [None] * m for f in FIELDS[1:]},
                              "left": [True] * m, "rules_file": [None] * m, "model": [None] * m,
                              "run": r.run, "date": r.date})
        state = snap
    table = _table(parts)
    history._encoded = (key, table)
    return table


def _same_as(state: pd.DataFrame, snap: pd.DataFrame) -> np.ndarray:
    """Per account of ``snap``: True when ``state`` holds it with the same fields (a blank
    equals a blank)."""
    known = snap.index.isin(state.index)
    before = state.reindex(snap.index)
    a, b = before["score"].to_numpy(dtype=float), snap["score"].to_numpy(dtype=float)
    same = known & ((a == b) | (np.isnan(a) & np.isnan(b)))
    for f in FIELDS[1:]:
        x = before[f].to_numpy(dtype=object)
        y = snap[f].to_numpy(dtype=object)
        blank_x, blank_y = pd.isna(x), pd.isna(y)
        same &= (blank_x & blank_y) | (~blank_x & ~blank_y & (x == y))
    return same


def _blanks_none(values: pd.Series) -> np.ndarray:
    out = values.to_numpy(dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def _table(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """The kept table from its parts (each: ``n`` lines of one run)."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STORED})
    sizes = [p["n"] for p in parts]

    def joined(name: str, dtype: Any = object) -> Any:
        values = np.concatenate([np.asarray(p[name], dtype=dtype) for p in parts])
        return values if dtype is not object else pd.Series(values, dtype=object)

    return pd.DataFrame({
        "run": np.repeat(np.array([p["run"] for p in parts], dtype=np.int64), sizes),
        "date": pd.DatetimeIndex(np.repeat(np.array([np.datetime64(p["date"], "us")
                                                    for p in parts]), sizes)),
        "account": joined("account"),
        "score": joined("score", float),
        **{f: joined(f) for f in FIELDS[1:]},
        "left": joined("left"), "rules_file": joined("rules_file"), "model": joined("model"),
    }, columns=list(STORED))


_NUMBER_TYPES = frozenset({bool, int, float, np.bool_, np.int64, np.float64})
_DISTINCT_TYPES = _NUMBER_TYPES | {str, type(None), dt.datetime, dt.date}


def _each(values: np.ndarray, fn) -> np.ndarray:
    """``fn`` of each value of an object array; each distinct value once, unless two kinds
    of numbers are mixed (1, 1.0 and True are one value to pandas, not to ``fn``)."""
    items = values.tolist()
    kinds = set(map(type, items))
    if len(kinds & _NUMBER_TYPES) > 1 or not kinds <= _DISTINCT_TYPES:
        out = np.empty(len(items), dtype=object)
        out[:] = [fn(v) for v in items]
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    table = np.empty(len(uniques), dtype=object)
    table[:] = [fn(u) for u in uniques]
    return table[codes]


def decode(table: pd.DataFrame, where: str = "") -> History:
    """The kept runs from a kept table (`encode`'s columns), a column at a time. Raises
    ValueError for a table that is not one (the caller says where and starts a new
    history)."""
    cols = {c: table[c].to_numpy(dtype=object) for c in STORED}
    n = len(table)
    runs = _each(cols["run"], _whole)
    accounts = _each(cols["account"], account_key)
    valid = np.array([r is not None for r in runs.tolist()], dtype=bool)
    named = np.array([a is not None for a in accounts.tolist()], dtype=bool)
    run_at = np.flatnonzero(valid & ~named)     # a run's line (its date, rules, model)
    lines = np.flatnonzero(valid & named)       # an account's line
    number = np.array([-1 if r is None else r for r in runs.tolist()], dtype=np.int64)
    owner = np.searchsorted(run_at, lines) - 1  # the run line above each account line
    bad = (owner < 0) | (number[lines] != number[run_at[np.maximum(owner, 0)]]) \
        if len(run_at) else np.ones(len(lines), dtype=bool)
    first_bad = int(lines[np.flatnonzero(bad)[0]]) if bad.any() else n
    if len(lines) and pd.DataFrame({"r": number[lines], "a": accounts[lines]}).duplicated().any():
        return _decode_rows(table)
    left = _each(cols["left"], _truthy)[lines].astype(bool)
    score = _each(cols["score"], _float)[lines].astype(float)
    texts = {f: _each(cols[f], _text_or_none)[lines] for f in FIELDS[1:]}
    keys = accounts[lines]
    history = History()
    # the accounts kept so far, in the order a run's lines first gave them
    state: dict[str, np.ndarray] = {"account": np.empty(0, dtype=object),
                                    "score": np.empty(0, dtype=float),
                                    **{f: np.empty(0, dtype=object) for f in FIELDS[1:]}}
    current: Run | None = None
    done = 0  # account lines applied

    def close(upto: int) -> None:
        nonlocal state, done
        if current is None:
            return
        part = slice(done, upto)
        seen, gone = keys[part], left[part]
        at = pd.Index(state["account"], dtype=object).get_indexer(seen) \
            if len(state["account"]) else np.full(len(seen), -1)
        update, drop, add = (at >= 0) & ~gone, (at >= 0) & gone, (at < 0) & ~gone
        keep = np.ones(len(state["account"]), dtype=bool)
        keep[at[drop]] = False
        nxt = {}
        for f, values in (("account", seen), ("score", score[part]),
                          *((f, texts[f][part]) for f in FIELDS[1:])):
            column = state[f].copy()
            column[at[update]] = values[update]
            nxt[f] = np.concatenate([column[keep], values[add]])
        state, done = nxt, upto
        frame = pd.DataFrame({"account": pd.Series(state["account"], dtype=object),
                              "score": state["score"],
                              **{f: pd.Series(state[f], dtype=object) for f in FIELDS[1:]}})
        history.snapshots[current.run] = _indexed(frame)
        history.runs.append(current)

    for p in run_at.tolist():
        if first_bad < p:
            break
        if current is not None and number[p] == current.run:
            continue
        close(int(np.searchsorted(lines, p)))
        date = read_date(cols["date"][p])
        if date is None:
            raise ValueError(_("run {run} has no date").format(run=number[p]))
        text = cols["model"][p]
        model = json.loads(text) if isinstance(text, str) and text else {}
        rules = cols["rules_file"][p]
        current = Run(int(number[p]), date, "" if plain(rules) is None else str(rules),
                      model if isinstance(model, dict) else {})
    if first_bad < n:
        raise ValueError(_("an account line of run {run} comes before the run's line").format(
            run=number[first_bad]))
    close(len(lines))
    return history


def _decode_rows(table: pd.DataFrame) -> History:
    """`decode` a line at a time: for a table with an account twice in one run (edited by
    hand), where the order of its lines decides."""
    history = History()
    state: dict[str, tuple] = {}
    current: Run | None = None
    pending: list[tuple[str, tuple | None]] = []

    def close() -> None:
        nonlocal state
        if current is None:
            return
        nxt = dict(state)
        for key, values in pending:
            if values is None:
                nxt.pop(key, None)
            else:
                nxt[key] = values
        state = nxt
        frame = pd.DataFrame.from_dict(state, orient="index", columns=list(FIELDS)) if state \
            else pd.DataFrame(columns=list(FIELDS))
        frame.index.name = "account"
        history.snapshots[current.run] = _indexed(frame.reset_index())
        history.runs.append(current)

    for rec in table[list(STORED)].itertuples(index=False):
        run = _whole(rec.run)
        if run is None:
            continue
        account = account_key(rec.account)
        if account is None:  # a run's line
            if current is not None and run == current.run:
                continue
            close()
            pending = []
            date = read_date(rec.date)
            if date is None:
                raise ValueError(_("run {run} has no date").format(run=run))
            model = json.loads(rec.model) if isinstance(rec.model, str) and rec.model else {}
            current = Run(run, date, "" if plain(rec.rules_file) is None else
                          str(rec.rules_file), model if isinstance(model, dict) else {})
            continue
        if current is None or run != current.run:
            raise ValueError(_("an account line of run {run} comes before the run's "
                               "line").format(run=run))
        if _truthy(rec.left):
            pending.append((account, None))
        else:
            score = _float(rec.score)
            pending.append((account, (score, *(_text_or_none(getattr(rec, f))
                                               for f in FIELDS[1:]))))
    close()
    return history


def _float(v: Any) -> float:
    if isinstance(v, bool):
        return math.nan
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def _whole(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f.is_integer() else None


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "vrai", "oui")
    return bool(v) and not (isinstance(v, float) and math.isnan(v))


def _text_or_none(v: Any) -> str | None:
    v = plain(v)
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_date(v: Any) -> dt.datetime | None:
    """A date as a sheet or file gives it back: a datetime, ISO text, or Excel's serial."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(v))
    text = str(v).strip().rstrip("Z")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- the History sheet


def title_rows(history: History, keep: int) -> list[list[Any]]:
    n = len(history.runs)
    first = history.runs[0].date if history.runs else None
    return [[_("History of runs, kept by Potentiel (do not edit): one snapshot per day; after "
               "the first run kept, only the accounts that changed")],
            [_("{n} run(s) kept, the oldest of {date}; at most {runs} runs and {rows} lines "
               "(Settings: History runs, History file)").format(
                   n=n, date=f"{first:%Y-%m-%d}" if first else "—", runs=keep,
                   rows=f"{MAX_SHEET_ROWS:,}")]]


def sheet_blocks(history: History, keep: int = DEFAULT_RUNS, previous_rows: int = 0,
                 account_cell=None) -> list[Block]:
    """The History sheet: two title rows, then the kept table (`encode`) under its
    headers on row `TABLE_ROW`; rows below it that an earlier run wrote are blanked. When
    the last run was only appended to the table read from the sheet (``history.lines``
    lines, ending on row ``previous_rows``), only its lines are written, below the others.
    ``account_cell``: how an account id is written (the xlwings front end keeps an id such
    as ``007`` as text)."""
    table = encode(history)
    start = 0
    if history.appended and history.lines is not None and history.last is not None and \
            previous_rows == TABLE_ROW + history.lines:
        first_new = int(np.flatnonzero(table["run"].to_numpy() == history.last.run)[0])
        if first_new == history.lines:
            start = first_new
    body = table.iloc[start:]
    columns: list[Any] = []
    for c in STORED:
        if c == "run":
            columns.append(body[c].to_numpy(dtype=np.int64))
        elif c == "score":
            columns.append(body[c].to_numpy(dtype=float))
        elif c == "date":  # one date per run: a Python datetime each, shared by its lines
            codes, dates = pd.factorize(body[c])
            columns.append(np.array([d.to_pydatetime() for d in dates], dtype=object)[codes]
                           if len(body) else np.zeros(0, dtype=object))
        elif c != "account":  # (text, True or None already: `encode` made them so)
            columns.append(body[c].to_numpy(dtype=object))
        else:
            values = _blanks_none(body[c])
            if account_cell is not None:
                have = np.flatnonzero(values != None)  # noqa: E711 (elementwise)
                values[have] = [account_cell(v) for v in values[have]]
            columns.append(values)
    titles = Block(1, 1, [*title_rows(history, keep), [None]])
    if start:
        return [titles, Block(TABLE_ROW + 1 + start, 1, Rows([], columns))]
    last = TABLE_ROW + len(body)
    return [titles, Block(TABLE_ROW, 1, Rows([[_(h) for h in HEADERS]], columns),
                          clear_to_row=max(previous_rows, last), clear_cols=len(HEADERS))]


def from_grid(grid: Sequence[Sequence[Any]], sheet: str = "") -> History:
    """The kept runs read from the History sheet's values (from A1); a sheet that does not
    hold Potentiel's table gives an empty history and a notice saying a new one starts."""
    history = History()
    if len(grid) < TABLE_ROW:
        return history
    head = [str(v).strip() if v is not None else "" for v in list(grid[TABLE_ROW - 1])[:len(HEADERS)]]
    known = [[in_language(h, lang) for h in HEADERS] for lang in ("en", "fr")]
    if head not in known:
        history.notices.append(Problem(
            _("the {sheet} sheet is not as Potentiel writes it (row {row}); a new history "
              "starts with this run").format(sheet=sheet or _(HISTORY_SHEET), row=TABLE_ROW),
            f"{sheet}!A{TABLE_ROW}" if sheet else "", kind="history-unreadable"))
        return history
    rows = grid[TABLE_ROW:]
    width = len(STORED)
    end = len(rows)
    while end and all(v is None or v == "" for v in list(rows[end - 1])[:width]):
        end -= 1
    body = rows[:end]
    table = pd.DataFrame({c: pd.Series([r[j] if j < len(r) else None for r in body],
                                       dtype=object) for j, c in enumerate(STORED)})
    try:
        history = decode(table)
        history.lines = len(body)
        return history
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        history = History()
        history.notices.append(Problem(
            _("the {sheet} sheet cannot be read ({error}); a new history starts with this "
              "run").format(sheet=sheet or _(HISTORY_SHEET), error=exc),
            sheet, kind="history-unreadable"))
        return history


# --------------------------------------------------------------------------- a history file


def check_file(name: str, where: str = "") -> None:
    if Path(name).suffix.lower() not in FILE_SUFFIXES:
        raise UserError(_('"{name}": a History file is a .csv or a .parquet file').format(
            name=name), where)


def read_file(path: Path) -> History:
    """The kept runs of a History file (CSV or Parquet); an empty history when the file
    does not exist yet. Raises `UserError` for a file that cannot be read."""
    path = Path(path)
    if not path.exists():
        return History()
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, dtype={"account": str, "category": str, "profile": str,
                                             "flags": str, "rules": str, "rules_file": str,
                                             "model": str}, keep_default_na=False,
                                na_values=[""])
        missing = [c for c in STORED if c not in table.columns]
        if missing:
            raise ValueError(_("no column {names}").format(names=", ".join(missing)))
        table = table.astype(object).where(table.notna(), None)
        return decode(table)
    except UserError:
        raise
    except Exception as exc:  # pandas, pyarrow and json raise their own types
        raise UserError(_("{path}: not a history file Potentiel can read ({error}); move it "
                          "away, or name another History file").format(path=path, error=exc)) \
            from None


def write_file(history: History, path: Path) -> None:
    """The kept table (`encode`) to ``path`` (.csv or .parquet), written beside it and moved
    into place, so a failure leaves the previous file."""
    path = Path(path)
    table = encode(history)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix.lower() == ".parquet":
            table = table.astype({"run": int, "score": float})
            table["date"] = pd.to_datetime(table["date"])
            table["left"] = table["left"].map(lambda v: bool(v) if v is not None else None)
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M")
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(_("{path}: the history cannot be written ({error})").format(
            path=path, error=exc)) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def read_history(source: str | Path | History) -> pd.DataFrame:
    """Every kept run, oldest first, as one frame: columns `SNAPSHOT_COLUMNS` (``run`` int,
    ``date`` Timestamp, ``account`` text, ``score`` float, ``category``, ``profile``,
    ``flags``, ``rules`` text or None). ``source``: a workbook (.xlsx/.xlsm: its History
    sheet, or the History file its Settings name), a History file (.csv/.parquet) or a
    `History`. Raises `UserError` for a file that cannot be read."""
    if isinstance(source, History):
        return source.frame()
    return load(Path(source)).frame()


def load(path: Path) -> History:
    """The kept runs of a workbook or a History file (see `read_history`)."""
    path = Path(path)
    if path.suffix.lower() in FILE_SUFFIXES:
        if not path.is_file():
            raise UserError(_("{path}: no such history file").format(path=path))
        return read_file(path)
    from ..headless import read_history_of  # a front end reads the workbook file
    return read_history_of(path)


# --------------------------------------------------------------------------- Settings


@dataclass
class HistorySettings:
    """The Settings rows of the history: ``file`` (None: the History sheet), ``runs``
    kept, ``since`` (a run number, a date or None), each with its cell."""

    file: str | None = None
    runs: int = DEFAULT_RUNS
    since: int | dt.date | None = None
    where: dict[str, str] = field(default_factory=dict)


def history_settings(rows: Iterable[tuple[Any, Any, str]]) -> HistorySettings:
    """Read History file, History runs and Changes since from Settings rows ``(label,
    value, cell)``. Raises `UserError` naming the cell for a value that cannot be used."""
    from ..fields import normalise
    out = HistorySettings()
    keys = {normalise(k): "file" for k in HISTORY_SETTING}
    keys.update({normalise(k): "runs" for k in RUNS_SETTING})
    keys.update({normalise(k): "since" for k in SINCE_SETTING})
    for label, value, where in rows:
        if label is None or value is None or (isinstance(value, str) and not value.strip()):
            continue
        what = keys.get(normalise(label))
        if what == "file":
            check_file(str(value).strip(), where)
            out.file = str(value).strip()
        elif what == "runs":
            n = _whole(value) if not isinstance(value, str) else _whole(value.strip())
            if n is None or n < 1:
                raise UserError(_('"{value}" is not a number of runs; type a whole number from '
                                  "1 (blank: {n})").format(value=value, n=DEFAULT_RUNS), where)
            out.runs = n
        elif what == "since":
            out.since = parse_since(value, where)
        else:
            continue
        out.where[what] = where
    return out


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def parse_since(value: Any, where: str = "") -> int | dt.date:
    """A run number (``7``) or a date (a date cell, ``2026-01-31``, ``31/01/2026``).
    Raises `UserError` naming ``where`` otherwise."""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.date() if not isinstance(value, pd.Timestamp) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        n = _whole(value)
        if n is not None and n >= 1:
            return n
    text = str(value).strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    m = _DAY_FIRST.match(text)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            pass
    raise UserError(_('"{value}" is neither a run number nor a date; type a run number (as '
                      "in the {sheet} sheet) or a date such as 2026-01-31").format(
                          value=value, sheet=_(CHANGES_SHEET)), where)


# --------------------------------------------------------------------------- changes and trends


@dataclass
class Changes:
    """What changed between run ``base`` and run ``now``: one row per account whose category
    changed, that is new or that left (``rows``: account, name, before, after,
    score_before, score_now, change: up / down / new / left / other, trend)."""

    base: Run | None
    now: Run | None
    rows: pd.DataFrame
    counts: dict[str, int]
    notices: list[Problem] = field(default_factory=list)


CHANGE_WORDS = {"up": N_("up"), "down": N_("down"), "new": N_("new"), "left": N_("left"),
                "other": N_("changed")}


def changes(history: History, since: int | dt.date | None = None,
            names: Mapping[str, str] | None = None, where: str | None = None) -> Changes:
    """The changes from the run ``since`` (see `History.base`) to the last run kept, with
    each moved account's category trend over every run kept (`trend_texts`). ``names``:
    account id → name, shown beside the id (a mapping; `LazyNames` builds it on the first
    look-up). ``where``: the Settings cell ``since`` comes from; a run number no longer
    kept is then a warning there and the run before is taken (without ``where``,
    `UserError`)."""
    now = history.last
    try:
        base = history.base(since, now) if now is not None else None
    except UserError as exc:
        if where is None:
            raise
        history.notices.append(Problem(
            _("{error}; the {sheet} sheet compares with the run before").format(
                error=exc.problems[0].message, sheet=_(CHANGES_SHEET)),
            where, kind="history-since"))
        base = history.base(None, now)
    columns = ["account", "name", "before", "after", "score_before", "score_now", "change",
               "trend"]
    counts = {k: 0 for k in CHANGE_WORDS}
    if now is None or base is None:
        return Changes(base, now, pd.DataFrame(columns=columns), counts, list(history.notices))
    old, new = history.snapshots[base.run], history.snapshots[now.run]
    order = _letter_order(now, base)
    before = dict(zip(old.index, _texts(old["category"])))
    after = dict(zip(new.index, _texts(new["category"])))
    scores_before = dict(zip(old.index, old["score"].to_numpy(dtype=float).tolist()))
    scores_now = dict(zip(new.index, new["score"].to_numpy(dtype=float).tolist()))
    rows = []
    for key in [*new.index, *(k for k in old.index if k not in after)]:
        was_in, is_in = key in before, key in after
        b, a = before.get(key), after.get(key)
        if was_in and is_in and b == a:
            continue
        if not was_in:
            kind = "new"
        elif not is_in:
            kind = "left"
        elif b in order and a in order:
            kind = "up" if order[a] < order[b] else "down"
        else:
            kind = "other"
        counts[kind] += 1
        rows.append([key, names.get(key) if names is not None else None, b, a,
                     _score(scores_before.get(key)),
                     _score(scores_now.get(key)), kind, None])
    frame = pd.DataFrame(rows, columns=columns)
    if len(frame):
        trends = trend_texts(history, list(frame["account"]))
        frame["trend"] = [trends.get(k) for k in frame["account"]]
        rank = {"up": 0, "down": 1, "other": 2, "new": 3, "left": 4}
        frame = frame.assign(_k=frame["change"].map(rank)).sort_values(
            ["_k", "account"], kind="stable").drop(columns="_k").reset_index(drop=True)
    return Changes(base, now, frame, counts, list(history.notices))


def _score(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else float(v)


def _letter_order(*runs: Run) -> dict[str, int]:
    letters: list[str] = []
    for r in runs:
        for k in r.letters:
            if k not in letters:
                letters.append(k)
    if not letters:
        letters = ["A", "B", "C", "D"]
    return {k: i for i, k in enumerate(letters)}


def month_text(when: dt.datetime, latest_year: int) -> str:
    """The month of ``when`` in the run's language (``March``, ``mars``), with its year
    when it is not ``latest_year`` (``March 2025``)."""
    from babel.dates import format_date
    fmt = "MMMM" if when.year == latest_year else "MMMM y"
    return format_date(when.date(), fmt, locale=language())


def trend_texts(history: History, accounts: Iterable[str]) -> dict[str, str]:
    """Per account, its category over the runs kept, in the run's language: each change
    ("B → A in March", "new in January (C)"), or "A since March 2025" when it never
    changed."""
    accounts = list(accounts)
    if not history.runs:
        return {}
    latest = history.runs[-1].date.year
    per_run = [dict(zip(history.snapshots[r.run].index,
                        _texts(history.snapshots[r.run]["category"]))) for r in history.runs]
    out = {}
    for key in accounts:
        pieces = []
        seen = False
        prev = None
        first_seen = None
        for r, cats in zip(history.runs, per_run):
            if key not in cats:
                if seen:
                    pieces.append(_("left in {month}").format(month=month_text(r.date, latest)))
                    seen = False
                continue
            cat = cats[key]
            if first_seen is None:
                first_seen = r
            if not seen:
                if r is not history.runs[0]:
                    pieces.append(_("new in {month} ({category})").format(
                        month=month_text(r.date, latest), category=cat or "—"))
                seen, prev = True, cat
                continue
            if cat != prev:
                pieces.append(_("{before} → {after} in {month}").format(
                    before=prev or "—", after=cat or "—", month=month_text(r.date, latest)))
                prev = cat
        if not pieces and first_seen is not None:
            pieces.append(_("{category} since {month}").format(
                category=prev or "—", month=month_text(first_seen.date, latest)))
        out[key] = ", ".join(pieces)
    return out


CHANGES_HEADERS = (N_("Account"), N_("Name"), N_("Before"), N_("Now"), N_("Score before"),
                   N_("Score now"), N_("Change"), N_("Category trend"))
CHANGES_TABLE_ROW = 5


def changes_title(ch: Changes) -> str:
    if ch.now is None:
        return _("No run kept yet: the changes show from the second run on.")
    if ch.base is None:
        return _("Run {run} of {date} is the first one kept: the changes show from the next "
                 "run on.").format(run=ch.now.run, date=f"{ch.now.date:%Y-%m-%d %H:%M}")
    return _("Changes from run {base} ({base_date}) to run {run} ({date})").format(
        base=ch.base.run, base_date=f"{ch.base.date:%Y-%m-%d %H:%M}", run=ch.now.run,
        date=f"{ch.now.date:%Y-%m-%d %H:%M}")


def changes_counts(ch: Changes) -> str:
    c = ch.counts
    return _("{up} moved up, {down} moved down, {other} changed otherwise, {new} new, {left} "
             "left").format(**c)


def changes_blocks(ch: Changes, previous_rows: int = 0, account_cell=None) -> list[Block]:
    """The Changes sheet: title, counts, then one row per account that moved (with its
    trend); rows an earlier run wrote below are blanked. ``account_cell``: as in
    `sheet_blocks`."""
    head = [[changes_title(ch)],
            [changes_counts(ch) if ch.base is not None else None],
            [_("Earlier run: Settings Changes since (a run number or a date; blank: the run "
               "before). The runs kept are on the hidden {sheet} sheet, or in the History "
               "file Settings name.").format(sheet=_(HISTORY_SHEET))]]
    lines = [[_(h) for h in CHANGES_HEADERS]]
    for rec in ch.rows.itertuples(index=False):
        lines.append([account_cell(rec.account) if account_cell else rec.account, rec.name,
                      rec.before, rec.after, rec.score_before,
                      rec.score_now, _(CHANGE_WORDS[rec.change]), rec.trend])
    last = CHANGES_TABLE_ROW + len(lines) - 1
    return [Block(1, 1, head),
            Block(CHANGES_TABLE_ROW, 1, [[plain(v) for v in r] for r in lines],
                  clear_to_row=max(previous_rows, last), clear_cols=len(CHANGES_HEADERS))]


def changes_lines(ch: Changes, most: int | None = None) -> list[str]:
    """The changes as terminal lines, in the run's language."""
    lines = [changes_title(ch)]
    if ch.base is None:
        return lines + [str(p) for p in ch.notices]
    lines.append("  " + changes_counts(ch))
    rows = ch.rows if most is None else ch.rows.head(most)
    for rec in rows.itertuples(index=False):
        name = f" {rec.name}" if rec.name else ""
        before = rec.before or "—"
        after = rec.after or "—"
        lines.append(f"  {rec.account}{name}: {before} → {after} ({_(CHANGE_WORDS[rec.change])})"
                     + (f"  · {rec.trend}" if rec.trend else ""))
    if most is not None and len(ch.rows) > most:
        lines.append("  " + _("… and {n} more").format(n=len(ch.rows) - most))
    lines += [str(p) for p in ch.notices]
    return lines


def account_lines(history: History, account: str) -> list[str]:
    """One account's runs, as terminal lines: run, date, category, score, flags."""
    key = account_key(account)
    lines = []
    for r in history.runs:
        snap = history.snapshots[r.run]
        if key not in snap.index:
            continue
        row = snap.loc[key]
        score = "" if pd.isna(row["score"]) else f"{row['score']:.1f}"
        lines.append(f"  {r.run:>4}  {r.date:%Y-%m-%d}  {row['category'] or '—':<3} {score:>6}  "
                     f"{row['flags'] or ''}")
    if not lines:
        raise UserError(_("account {id} is in no run kept").format(id=account))
    trend = trend_texts(history, [key]).get(key, "")
    return [_("Account {id}: {trend}").format(id=key, trend=trend), *lines]
