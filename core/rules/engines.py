"""Running a rule set on a table: build the values once, ask an engine which rules fire.

``durable`` (the default) hands each account to durable_rules through
``durable_engine.py``; ``compiled`` evaluates numpy masks. Both read the same `Frame` and
the same normal-form conditions, and must agree. When durable_rules cannot be imported,
``durable`` falls back to ``compiled`` with a one-line notice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..categories import DEFAULT_CATEGORIES
from ..i18n import _
from ..problems import Problem, UserError
from .apply import build_result
from .compiled import fired_matrix
from .model import FINAL, RuleSet
from .names import BAND_SUFFIX, CROSS, FLAG_PREFIX, flag_name
from .result import RulesResult
from .to_durable import DurableProgram
from .values import build_frame

ENGINES = ("durable", "compiled")


def _durable_module():
    """The durable_rules adapter, or None when it (or durable_rules) cannot be used."""
    try:
        from . import durable_engine
    except ImportError:
        return None
    try:
        return durable_engine if durable_engine.available() else None
    except Exception:  # noqa: BLE001 - a broken install counts as unavailable
        return None


def durable_fired(ruleset: RuleSet, frame, n: int, module, rules=None,
                  hidden=None) -> np.ndarray:
    rules = ruleset.active_rules if rules is None else rules
    hidden = ruleset.hidden if hidden is None else hidden
    program = DurableProgram({r.id: r.normal for r in rules}, hidden, frame, n)
    out = np.zeros((n, len(rules)), dtype=bool)
    if n and program.conditions:
        position = {r.id: j for j, r in enumerate(rules)}
        fired = module.evaluate_matrix(program.conditions, program.keyed_columns(), n)
        out[:, [position[rid] for rid in program.conditions]] = fired
    return out


def apply_rules(ruleset: RuleSet, accounts: pd.DataFrame, scores: pd.DataFrame | None = None,
                engine: str = "durable", stage: str = "first") -> RulesResult:
    """Apply ``ruleset`` to ``accounts`` (canonical field columns) given the criterion
    ``scores`` (one column per criterion, same index). See the module docstring.

    ``stage="final"`` runs the ``stage: final`` rules instead: ``accounts`` must then also
    carry the first stage's outcome as columns (``score``, ``category``, ``profile``,
    ``top80`` and ``flag.<name>``, see `outcome_columns`); durable_rules runs them as a
    second pass, on facts that carry those columns."""
    if engine not in ENGINES:
        raise UserError(Problem(_('unknown rules engine "{engine}": use durable or '
                                  "compiled").format(engine=engine), "", "error"))
    index = accounts.index
    if scores is not None and not scores.index.equals(index):
        scores = scores.reindex(index)
    n = len(index)
    final = stage == FINAL
    rules = ruleset.final_rules if final else ruleset.active_rules
    kinds = ruleset.final_kinds if final else ruleset.kinds
    hidden = ruleset.final_hidden if final else ruleset.hidden
    frame = build_frame(accounts, scores, kinds, hidden)
    notice = None
    if engine == "durable":
        module = _durable_module()
        if module is None:
            notice = Problem(_("durable_rules is not available here: the rules ran on the "
                               "compiled engine (same results)"), ruleset.source, "warning")
            engine = "compiled"
        else:
            try:
                fired = durable_fired(ruleset, frame, n, module, rules, hidden)
            except module.EngineUnavailable as exc:
                notice = Problem(_("durable_rules could not run ({error}): the rules ran on "
                                   "the compiled engine (same results)").format(error=exc),
                                 ruleset.source, "warning")
                engine = "compiled"
    if engine == "compiled":
        fired = fired_matrix([r.normal for r in rules], frame, n)
    ids = accounts["id"] if "id" in accounts.columns else None  # as text when said
    letters = (ruleset.categories or DEFAULT_CATEGORIES).letters
    result = build_result(rules, fired, index, ids, letters, ruleset.actions, ruleset.source)
    if notice is not None:
        result.problems.insert(0, notice)
    return result


def fired_by(ruleset: RuleSet, accounts: pd.DataFrame, scores: pd.DataFrame | None,
             engine: str, stage: str = "first") -> np.ndarray:
    """The fired matrix alone (accounts × active rules of ``stage``, in id order), for
    cross-checks."""
    final = stage == FINAL
    rules = ruleset.final_rules if final else ruleset.active_rules
    hidden = ruleset.final_hidden if final else ruleset.hidden
    frame = build_frame(accounts, scores, ruleset.final_kinds if final else ruleset.kinds,
                        hidden)
    n = len(accounts)
    if engine == "compiled":
        return fired_matrix([r.normal for r in rules], frame, n)
    module = _durable_module()
    if module is None:
        raise RuntimeError("durable_rules is not available")
    return durable_fired(ruleset, frame, n, module, rules, hidden)


def outcome_columns(accounts: pd.DataFrame, score: pd.Series, category: pd.Series,
                    top: pd.Series, flags: pd.Series, wanted=(), model=None) -> pd.DataFrame:
    """``accounts`` with the first stage's outcome added as the columns a final-stage rule
    reads: ``score``, ``category``, ``top80`` (1 or 0) and ``flag.<name>`` (1 or 0) for every
    flag an account carries (``profile`` is already a column when the file has profiles);
    with ``model`` (`potentiel.scoremodels.ModelScores`), each sub-score by its name, its
    band as ``<name>.band`` and the cross cell as ``cross``."""
    extra = {"score": score.astype(float), "category": category.astype(object),
             "top80": top.fillna(False).astype(bool).astype(float)}
    if model is not None:
        for name, values in model.subscores.items():
            extra[name] = values.astype(float)
            extra[name + BAND_SUFFIX] = model.bands[name].astype(object)
        if model.cell is not None:
            extra[CROSS] = model.cell.astype(object)
    carried = flags.map(lambda fs: frozenset(flag_name(f) for f in fs))
    # every flag a final rule reads is a column, 0 where no account carries it
    for name in sorted({n for fs in carried for n in fs} | {n for n in wanted
                                                          if n.startswith(FLAG_PREFIX)}):
        extra[name] = carried.map(lambda fs, n=name: 1.0 if n in fs else 0.0).astype(float)
    columns = dict(extra)
    out = accounts.drop(columns=[c for c in columns if c in accounts.columns])
    return pd.concat([out, pd.DataFrame(columns, index=accounts.index)], axis=1)
