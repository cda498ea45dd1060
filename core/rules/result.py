"""What the rules stage hands back to the pipeline, one column per kind of effect.

Every field is aligned on the accounts' index. The rules stage decides conflicts (the
strictest cap, the highest floor, `force` over both, `set` by priority) so the pipeline only
reads the outcome; the outcome never depends on the order of rules in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..problems import Problem


@dataclass
class RulesResult:
    """Effects of the rules on each account.

    flags:   tuple of flag names per account (sorted).
    fired:   tuple of fired rule ids per account (sorted).
    why:     rule id → its ``why`` text.
    set:     field → Series of values set by rules (NaN/None where no rule set it).
    score:   criterion → Series of overriding scores (NaN where no rule overrode it).
    points:  points added to (or removed from) the score (0.0 where none).
    subpoints: sub-score → points the rules add to it (``points: {fit: 10}``).
    cap / floor / force: category letter per account, or None.
    exclude: True for accounts a rule excluded from ranking.
    problems: errors found while applying (e.g. two conflicting forces), per account.

    Working context, set by `apply_rules` before any action runs (actions read it):
    letters:  the categories, best first (to tell the strictest cap from the others).
    ids:      account id per account, for messages (as typed: ``astype(str)`` says it).
    priority: rule id → its ``priority`` (for ``set`` and ``score``).
    pending:  action name → what its rules asked for, resolved by the action's ``finish``
              once every rule has been applied (so the outcome is order-independent).
    """

    flags: pd.Series
    fired: pd.Series
    why: dict[str, str] = field(default_factory=dict)
    set: dict[str, pd.Series] = field(default_factory=dict)
    score: dict[str, pd.Series] = field(default_factory=dict)
    points: pd.Series | None = None
    subpoints: dict[str, pd.Series] = field(default_factory=dict)  # sub-score → its points
    cap: pd.Series | None = None
    floor: pd.Series | None = None
    force: pd.Series | None = None
    exclude: pd.Series | None = None
    problems: list[Problem] = field(default_factory=list)
    letters: tuple[str, ...] = ("A", "B", "C", "D")
    ids: pd.Series | None = None
    priority: dict[str, int] = field(default_factory=dict)
    pending: dict[str, object] = field(default_factory=dict)

    def add_flags(self, mask: pd.Series, *flags: str) -> None:
        """Add flags to the accounts in ``mask``: for plugin actions (order-independent)."""
        m = mask.to_numpy(dtype=bool)
        pending = self.pending.setdefault("flag", {})
        for flag in flags:
            pending[flag] = pending[flag] | m if flag in pending else m.copy()

    @classmethod
    def empty(cls, index: pd.Index) -> "RulesResult":
        """No rule fired anywhere (the pass-through)."""
        none = pd.Series(np.full(len(index), None, dtype=object), index=index, dtype=object)
        nothing = np.empty(len(index), dtype=object)
        nothing.fill(())  # the empty tuple in every cell, without a list of them first
        empty = pd.Series(nothing, index=index, dtype=object)
        return cls(flags=empty, fired=empty.copy(), points=pd.Series(0.0, index=index),
                   cap=none, floor=none.copy(), force=none.copy(),
                   exclude=pd.Series(False, index=index))


def combine(first: RulesResult, final: RulesResult) -> RulesResult:
    """The first stage's result with the final stage's flags, fired rules, Why texts, set
    values (a final rule's value wins where it sets one) and problems joined in; caps,
    floors and forces stay the first stage's (the pipeline applies the final ones after)."""
    from dataclasses import replace

    def union(a: pd.Series, b: pd.Series) -> pd.Series:
        return pd.Series([tuple(sorted(set(x) | set(y))) if y else x for x, y in zip(a, b)],
                         index=a.index, dtype=object)

    sets = dict(first.set)
    for name, values in final.set.items():
        sets[name] = values.where(values.notna(), sets[name]) if name in sets else values
    return replace(first, flags=union(first.flags, final.flags),
                   fired=union(first.fired, final.fired), why={**first.why, **final.why},
                   set=sets, problems=[*first.problems, *final.problems])
