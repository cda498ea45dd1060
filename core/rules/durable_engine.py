"""Runs rule conditions in durable_rules; the only module that imports it.

It owns the whole conversation with durable_rules 2.0.28: turning conditions into durable
rulesets, sending one account at a time, reading which rules fired, and the engine's
process-wide state (compiled rulesets, one lock). It talks to the C engine
(``durable_rules_engine``) directly and never creates a ``durable.engine.Host``.

Traps of durable_rules 2.0.28, all measured here, and how each one is guarded:

1. Sessions: a ruleset holds at most 1,024 live sessions (then MemoryError, then a
   segfault) and ``delete_state`` segfaults on a session whose last message matched
   nothing. Every account goes to the one default session; account fields are renamed
   to ``f0``, ``f1``... so a field called ``sid`` or ``id`` cannot pick a session or an
   identity. ``delete_state`` is never called.
2. ``post_batch`` / ``assert_facts`` drop a batch's actions when any message in it
   matches nothing (a timer runs them later, in reverse order). Never used: one fact is
   asserted, its actions collected synchronously, then it is retracted.
3. Facts are found by a 32-bit hash of their id (of their content when they have no
   ``id``): accounts A74138 and A75081 collided and the second was refused as "already
   observed"; facts never retracted also grow memory without bound. Each fact carries
   ``id`` = its row number and is retracted before the next one, so one account at most
   is live per ruleset (measured: row ids 0 to 3,000,000 are never refused); a refusal
   raises RuntimeError.
4. A fact matching no rule comes back as "not handled" (code 1): that is no rule
   fired, the account gets [].
5. The engine keeps its own state record in the session as a fact, so ``$nex`` matches
   it (the Python Host then re-fires forever). Every condition is wrapped as
   ``{"$and": [{"$ex": {"row": 1}}, ...]}``, and every action must echo the current
   account's exact message or evaluate() raises RuntimeError.
6. Comparisons ignore types: ``"abc" >= 600`` and ``"600" == 600`` fire, ``True == 1``,
   ``None`` counts as present for ``$ex``, infinity is a parse error, and ints beyond
   64 bits compare wrongly. Blanks (None, NaN) are left out of the message; infinities
   and such ints raise ValueError naming the field. Chosen behaviour for types: each
   field gets one kind (number, text or true/false) from the constants it is compared
   with; a value of another kind raises ValueError naming the record, field and rule,
   because a text reaching a numeric rule is an upstream bug that must not pass silently
   (fields used only with ``$ex``/``$nex`` accept any kind).
7. An exception inside a Python action is swallowed into the session state. No durable
   Python action is used: rule ids are read from the action messages in our own loop;
   if that fails, the remaining actions are still completed (``abandon_action`` then a
   retract segfaults at the next action), the fact is retracted and RuntimeError raised.
8. Each Host starts two timer threads that never stop, registers a name once, and its
   dispatch thread can run an action pending between our assert and our read (measured:
   an account lost its rules). No Host: rulesets are created with the C engine, named
   by the sha256 of their definition, cached (least recently used beyond 64 are
   deleted) and reused, so repeated calls add no thread and no registration error.
9. Not thread-safe: one module-level lock is held for the whole of evaluate().

Found while measuring, also guarded: ``$or`` fires once per true branch (nested:
the product), so fired ids are de-duplicated and put in the order of ``conditions``;
floats in exponent form without a dot (``1e-05``, ``1e+16``, Python's repr) are parse
errors, so floats are written ``1.0e-05``; strings are compared byte for byte, so
conditions and messages use the same encoder (UTF-8, not ``\\u`` escapes); a message
satisfying more than 64 tests at once fails (error 303) and ``create_ruleset`` never
returns for about 512 alternatives or more, so rules are packed into rulesets of at most
32 alternatives and a rule of more than 256 is refused; ``{"a": 1, "b": 2}`` silently
tests only ``a``, an empty ``$and`` fires twice and an empty ``$or`` never, so all three
are refused.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from json.encoder import encode_basestring
from numbers import Integral, Real

__all__ = ["EngineUnavailable", "available", "evaluate", "evaluate_columns",
           "evaluate_matrix"]

_NUMBER, _TEXT, _BOOL = "a number", "text", "true/false"
_COMPARISONS = ("$lt", "$lte", "$gt", "$gte", "$neq")
_CHUNK = 32        # alternatives per ruleset: far below the 64 a message may satisfy at once
_MAX_RULE = 256    # create_ruleset never returns for about 512 alternatives
_CACHE = 64        # rulesets kept alive; each costs roughly 100 KB of C memory
_INT64 = 2 ** 63

_LOCK = threading.Lock()
_rulesets: OrderedDict[str, int] = OrderedDict()   # sha256 of definition -> C handle
_module = None


class EngineUnavailable(RuntimeError):
    """durable_rules (its C engine ``durable_rules_engine``) cannot be imported."""


def _engine():
    global _module
    if _module is None:
        try:
            import durable_rules_engine
        except ImportError as exc:
            raise EngineUnavailable(
                "durable_rules is not installed: pip install durable_rules==2.0.28") from exc
        _module = durable_rules_engine
    return _module


def available() -> bool:
    """True if durable_rules can be imported."""
    try:
        _engine()
    except EngineUnavailable:
        return False
    return True


def evaluate(conditions: dict[str, dict], records: list[dict]) -> list[list[str]]:
    """For each record, in order, the ids of the rules whose condition holds.

    conditions: rule id -> durable condition on one message (``$and``, ``$or``, ``$lt``,
    ``$lte``, ``$gt``, ``$gte``, ``$neq``, ``$ex``, ``$nex``, ``{"field": constant}``).
    Each id appears at most once per record, in the order of ``conditions``. Fields no
    condition names are ignored. Raises ValueError for a malformed condition, an infinite
    value or a value of the wrong kind; RuntimeError if the engine misbehaves;
    EngineUnavailable without durable_rules.
    """
    engine = _engine()
    rule_ids = list(conditions)
    fields, chunks = _compile(conditions)
    with _LOCK:
        handles = _handles(engine, chunks)
        return [_account(engine, handles, rule_ids, fields, row, record)
                for row, record in enumerate(records)]


def evaluate_columns(conditions: dict[str, dict], columns: dict, n: int) -> list[list[str]]:
    """`evaluate` for records given as columns: name -> array of n values (floats with NaN
    for blanks, or objects: str/bool/None). The messages are built a column at a time, with
    the same checks as `evaluate` (one kind per field, no infinities), then sent one by one
    exactly as `evaluate` sends them."""
    rule_ids = list(conditions)
    out: list[list[str]] = [[] for _ in range(n)]
    for row, fired in _fired_rows(conditions, columns, n):
        out[row] = [rule_ids[i] for i in fired]
    return out


def evaluate_matrix(conditions: dict[str, dict], columns: dict, n: int):
    """`evaluate_columns` as a boolean array, n records × the rules of ``conditions`` in
    their order: True where the rule fired for the record."""
    import numpy as np

    out = np.zeros((n, len(conditions)), dtype=bool)
    rows: list[int] = []
    rules: list[int] = []
    for row, fired in _fired_rows(conditions, columns, n):
        rows += [row] * len(fired)
        rules += fired
    out[rows, rules] = True
    return out


def _fired_rows(conditions: dict[str, dict], columns: dict, n: int) -> list[tuple[int, list[int]]]:
    """(record, indices into ``conditions`` of the rules that fired, ascending, each once)
    for every record where one fired, in record order."""
    engine = _engine()
    fields, chunks = _compile(conditions)
    texts = _column_messages(fields, columns, n)
    hits = []
    with _LOCK:
        handles = _handles(engine, chunks)
        if len(handles) == 1:
            handle = handles[0]
            for row, text in enumerate(texts):
                fired = _fire(engine, handle, row, text)
                if fired:
                    hits.append((row, fired if len(fired) < 2 else sorted(set(fired))))
            return hits
        for row, text in enumerate(texts):
            fired = []
            for handle in handles:
                fired += _fire(engine, handle, row, text)
            if fired:
                hits.append((row, fired if len(fired) < 2 else sorted(set(fired))))
        return hits


def _column_messages(fields, columns: dict, n: int) -> list[str]:
    """The message of each of the n records, byte for byte what `_message` writes for the
    record holding each column's value (blanks left out), built a column at a time and
    joined by Arrow's string kernels (`pyarrow.compute`), no Python step per record; by
    one join per record when a text cannot be held as UTF-8 (a lone surrogate)."""
    from itertools import repeat

    import numpy as np

    parts = []
    for name, prefix, kind, rule in fields:
        column = columns.get(name)
        if column is None:
            continue
        part = _column_texts(np.asarray(column), name, prefix, kind, rule)
        if part is not None:
            parts.append(part)
    try:
        return _joined_by_arrow(parts, n)
    except (UnicodeError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        pass
    rows = list(map(str, range(n)))
    texts = [repeat('{"id":'), rows, repeat(',"row":'), rows]
    texts += [(table if codes is None else table[codes]).tolist() for table, codes in
              ((np.asarray(t.to_pylist(), dtype=object) if not isinstance(t, np.ndarray)
                else t, c) for t, c in parts)]
    texts.append(repeat("}"))
    # one join per message, not one concatenation per field
    return list(map("".join, zip(*texts)))


def _joined_by_arrow(parts, n: int) -> list[str]:
    """`_column_messages` joined by Arrow: each field's texts taken by their codes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..arrowtext import POOL as pool
    rows = pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string(), memory_pool=pool)
    texts = ['{"id":', rows, ',"row":', rows]
    for table, codes in parts:
        if isinstance(table, np.ndarray):
            table = pa.array(table.tolist(), pa.string(), memory_pool=pool)
        texts.append(table if codes is None else pc.take(table, pa.array(codes),
                                                         memory_pool=pool))
    texts.append("}")
    joined = pc.binary_join_element_wise(*texts, "", memory_pool=pool)
    if len(joined) != n or joined.null_count:
        raise AssertionError(f"{len(joined)} messages joined for {n} records")
    return joined.to_pylist()


def _column_texts(column, name, prefix, kind, rule):
    """``,"fK":<json>`` per row ('' for blanks), or None when the column is all blank:
    (text per code, code per row; the last text is ''), or (text per row, None).

    Each distinct value is written once: floats told apart by their bits (so -0.0 and 0.0,
    equal as numbers, keep their own texts), texts by value; a column holding anything but
    text and blanks is written value by value (True, 1 and 1.0 are equal as keys)."""
    import numpy as np
    import pandas as pd

    from ..objects import factorize

    if column.dtype.kind in "fiu":
        values = np.ascontiguousarray(column, dtype=float)
        blank = np.isnan(values)
        if blank.all():
            return None
        if np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0])
            raise ValueError(f"record {row}: field {name!r} is infinite ({values[row]})")
        if kind is not None and kind is not _NUMBER:
            row = int(np.flatnonzero(~blank)[0])
            raise ValueError(f"record {row}: field {name!r} holds {_NUMBER} ({values[row]!r}) "
                             f"but rule {rule!r} compares it with {kind}")
        codes, bits = pd.factorize(values.view(np.int64))
        texts = _float_texts(bits.view(np.float64))
        codes[blank] = len(texts)
        return _prefixed(prefix, texts), codes
    codes, uniques = factorize(column.astype(object, copy=False))
    if len(uniques) == 0:
        return None
    if not all(type(u) is str for u in uniques):
        return _texts_one_by_one(column, name, prefix, kind, rule)
    valid = np.flatnonzero(codes >= 0)
    first = valid[np.unique(codes[valid], return_index=True)[1]]  # first row of each value
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [prefix + _field_text(value, name, kind, rule, int(row))
                  for value, row in zip(uniques.tolist(), first.tolist())]
    table[-1] = ""
    return table, np.where(codes < 0, len(uniques), codes)


def _float_texts(floats):
    """``float.__repr__`` of each value (`_float_text` where Python writes an exponent),
    as an Arrow string array (`potentiel.arrowtext.float_texts`): whole numbers below 10¹⁵
    as integers followed by ``.0``, the others from 0.001 to 10¹⁰ by Arrow's cast, any
    other (an exponent, -0.0, NaN, 10¹⁰ to 10¹⁵ with decimals) by Python."""
    import numpy as np

    from ..arrowtext import float_texts
    size = np.abs(floats)
    # what Python writes with an exponent (below 1e-4, from 1e16 on), margin kept
    exponent = (size >= 1e15) | ((size > 0) & (size < 1e-3))
    zero = floats == 0
    whole = ~exponent & (floats == np.trunc(floats)) & ~(zero & np.signbit(floats))
    plain = ~exponent & ~whole & (size < 1e10) & ~zero
    return float_texts(floats, whole, ~whole & ~plain, _float_text, ".0")


def _prefixed(prefix, texts):
    """``prefix`` before each text of an Arrow array, then one '' (the text of a blank)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..arrowtext import POOL
    return pa.concat_arrays([pc.binary_join_element_wise(prefix, texts, "", memory_pool=POOL),
                             pa.array([""], pa.string())], memory_pool=POOL)


def _texts_one_by_one(column, name, prefix, kind, rule):
    """`_column_texts` of an object column holding more than text: value by value, as
    `_message` writes each."""
    import numpy as np

    out = np.full(len(column), "", dtype=object)
    for row, value in enumerate(column.tolist()):
        if value is not None:
            text = _field_text(value, name, kind, rule, row)
            if text is not None:
                out[row] = prefix + text
    return (out, None) if any(out.tolist()) else None


def _account(engine, handles, rule_ids, fields, row, record):
    text = _message(row, record, fields)
    fired = []
    for handle in handles:
        fired += _fire(engine, handle, row, text)
    if len(fired) < 2:
        return [rule_ids[i] for i in fired]
    return [rule_ids[i] for i in sorted(set(fired))]


def _fire(engine, handle, row, text):
    """Asserts one account, reads every action it triggers, retracts it: the indices of the
    rules fired (an empty tuple when none did)."""
    try:
        code, state = engine.assert_fact(handle, text)
        if code == 0:
            return _drain(engine, handle, state, row, text)
        if code != 1:
            raise RuntimeError(f"durable_rules refused record {row} (code {code}; "
                               "2 = already observed: a fact was left unretracted)")
        return ()
    except engine.error as exc:
        raise RuntimeError(f"durable_rules failed on record {row}: {exc}") from exc
    finally:
        engine.retract_fact(handle, '{"id":%d}' % row)


def _drain(engine, handle, state, row, text):
    """The rules named by every action record ``row`` triggered, each action completed."""
    tail = ':{"m":' + text + "}}"
    fired = []
    action = engine.start_action_for_state(handle, state)
    message = action[1] if action else None
    failure = None
    while message:
        try:
            fired.append(_collect(message, tail))
        except BaseException as exc:  # keep draining: abandon_action segfaults later
            failure = failure or exc
        message = engine.complete_and_start_action(handle, state)
    if failure is not None:
        if isinstance(failure, RuntimeError) or not isinstance(failure, Exception):
            raise failure
        raise RuntimeError(
            f"collecting the rules fired by record {row} failed: {failure!r}") from failure
    return fired


def _collect(message, tail):
    """Index of the rule named by one action message ``{"r<i>":{"m":<fact>}}``."""
    if not message.endswith(tail):
        raise RuntimeError(f"durable_rules ran an action on another message: {message[:200]}")
    return int(message[3:message.index('"', 3)])


def _message(row, record, fields):
    parts = ['{"id":%d,"row":%d' % (row, row)]
    for name, prefix, kind, rule in fields:
        value = record.get(name)
        if value is None:
            continue
        text = _field_text(value, name, kind, rule, row)
        if text is not None:
            parts.append(prefix + text)
    parts.append("}")
    return "".join(parts)


def _field_text(value, name, kind, rule, row):
    """The JSON text of one field's value in record ``row``, None for a blank (NaN)."""
    kind_of = type(value)
    if kind_of is float:
        if value != value:
            return None  # NaN is a blank
        text, got = _float(value, name, row), _NUMBER
    elif kind_of is str:
        text, got = encode_basestring(value), _TEXT
    elif kind_of is int:
        text, got = _int(value, name, row), _NUMBER
    elif kind_of is bool:
        text, got = ("true" if value else "false"), _BOOL
    else:
        text, got = _other(value, name, row)
        if text is None:
            return None
    if kind is not None and got is not kind:
        raise ValueError(f"record {row}: field {name!r} holds {got} ({value!r}) but rule "
                         f"{rule!r} compares it with {kind}")
    return text


def _other(value, name, row):
    """numpy scalars and other number types, as (json text, kind); (None, None) if blank."""
    if type(value).__name__ in ("bool", "bool_"):  # numpy's bool is no Python bool
        return ("true" if value else "false"), _BOOL
    if isinstance(value, Integral):
        return _int(int(value), name, row), _NUMBER
    if isinstance(value, Real):
        value = float(value)
        return (None, None) if value != value else (_float(value, name, row), _NUMBER)
    raise ValueError(f"record {row}: field {name!r} holds {type(value).__name__} {value!r}; "
                     "expected str, int, float or bool")


def _float(value, name, row):
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"record {row}: field {name!r} is infinite ({value})")
    return _float_text(value)


def _float_text(value):
    text = repr(value)
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e")  # the engine's parser needs a dot before an exponent
    return text


def _int(value, name, row):
    if not -_INT64 <= value < _INT64:
        raise ValueError(f"record {row}: field {name!r} = {value} does not fit in 64 bits")
    return int.__repr__(value)


def _compile(conditions):
    """(fields, chunks): fields as (name, message prefix, kind, rule), chunks as durable
    definitions (JSON text) of at most _CHUNK alternatives each."""
    if not isinstance(conditions, dict):
        raise TypeError("conditions must be a dict: rule id -> condition")
    translator = _Translator()
    chunks, current, size = [], [], 0
    for index, (rule, condition) in enumerate(conditions.items()):
        translator.rule = rule
        op, arg = _single(condition, rule)
        texts, chains = translator.all(arg if op == "$and" else [condition])
        if chains > _MAX_RULE:
            raise ValueError(f"rule {rule!r} expands to {chains} alternatives; durable_rules "
                             f"handles at most {_MAX_RULE} in one rule")
        if current and size + chains > _CHUNK:
            chunks.append(current)
            current, size = [], 0
        current.append('"r%d":{"all":[{"m":{"$and":[{"$ex":{"row":1}},%s]}}]}'
                       % (index, ",".join(texts)))
        size += chains
    if current:
        chunks.append(current)
    fields = [(name, ',"%s":' % key, *translator.kinds.get(name, (None, None)))
              for name, key in translator.keys.items()]
    return fields, ["{" + ",".join(chunk) + "}" for chunk in chunks]


def _single(condition, rule):
    if not isinstance(condition, dict) or len(condition) != 1:
        raise ValueError(f"rule {rule!r}: each condition must be a dict with exactly one key "
                         f"(durable_rules ignores extra keys), got {condition!r}")
    return next(iter(condition.items()))


class _Translator:
    """Rewrites conditions onto internal field keys and records each field's kind."""

    def __init__(self):
        self.keys: dict[str, str] = {}
        self.kinds: dict[str, tuple[str, str]] = {}
        self.rule = None

    def all(self, parts):
        texts, chains = [], 1
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"rule {self.rule!r}: $and/$or need a non-empty list")
        for part in parts:
            text, count = self.condition(part)
            texts.append(text)
            chains *= count
        return texts, chains

    def condition(self, condition):
        op, arg = _single(condition, self.rule)
        if op == "$and":
            texts, chains = self.all(arg)
            return '{"$and":[%s]}' % ",".join(texts), chains
        if op == "$or":
            if not isinstance(arg, list) or not arg:
                raise ValueError(f"rule {self.rule!r}: $or needs a non-empty list")
            pairs = [self.condition(part) for part in arg]
            return ('{"$or":[%s]}' % ",".join(t for t, _ in pairs)), sum(c for _, c in pairs)
        if op in ("$ex", "$nex"):
            name, _ = _single(arg, self.rule)
            return '{"%s":{"%s":1}}' % (op, self.key(name)), 1
        if op in _COMPARISONS:
            name, value = _single(arg, self.rule)
            return '{"%s":{"%s":%s}}' % (op, self.key(name), self.constant(name, value, op)), 1
        if op.startswith("$"):
            raise ValueError(f"rule {self.rule!r}: operator {op} is not supported here")
        return '{"%s":%s}' % (self.key(op), self.constant(op, arg, "==")), 1

    def key(self, name):
        if not isinstance(name, str) or not name:
            raise ValueError(f"rule {self.rule!r}: field names must be non-empty strings")
        return self.keys.setdefault(name, "f%d" % len(self.keys))

    def constant(self, name, value, op):
        where = f"rule {self.rule!r}, field {name!r}"
        if isinstance(value, bool):
            if op not in ("==", "$neq"):
                raise ValueError(f"{where}: {op} on true/false is meaningless")
            kind, text = _BOOL, "true" if value else "false"
        elif isinstance(value, (int, float)):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{where}: constant {value} is not a finite number")
            if isinstance(value, int) and not -_INT64 <= value < _INT64:
                raise ValueError(f"{where}: constant {value} does not fit in 64 bits")
            kind = _NUMBER
            text = int.__repr__(int(value)) if isinstance(value, int) else _float_text(float(value))
        elif isinstance(value, str):
            kind, text = _TEXT, encode_basestring(value)
        else:
            raise ValueError(f"{where}: constant must be str, int, float or bool, got {value!r}")
        seen = self.kinds.setdefault(name, (kind, self.rule))
        if seen[0] is not kind:
            raise ValueError(f"field {name!r} is compared with {seen[0]} in rule {seen[1]!r} "
                             f"and with {kind} in rule {self.rule!r}")
        return text


def _handles(engine, chunks):
    """C handles for these definitions, created once per content and reused."""
    handles = []
    for definition in chunks:
        digest = hashlib.sha256(definition.encode()).hexdigest()
        handle = _rulesets.get(digest)
        if handle is None:
            handle = engine.create_ruleset("potentiel-" + digest[:32], definition)
            _rulesets[digest] = handle
        _rulesets.move_to_end(digest)
        handles.append(handle)
    while len(_rulesets) > max(_CACHE, len(handles)):
        _, old = _rulesets.popitem(last=False)
        engine.delete_ruleset(old)
    return handles
