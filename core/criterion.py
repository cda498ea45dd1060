"""What a plugin registers: criteria, derivations and their parameters.

A `Criterion` scores a whole table at once (pandas): it receives every account and returns
one score per account, 0–100, NaN where its inputs are missing. The core calls it inside its
own error handling, so a criterion that raises or returns nonsense is reported by name and
the run goes on. A `Derivation` fills a field where the account leaves it blank (an
explicit value typed by a person always wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Sequence

if TYPE_CHECKING:  # pandas is imported by the pipeline, not here: `potentiel --help` stays fast
    import pandas as pd

from .fields import NUMBER, Field


@dataclass(frozen=True)
class Input(Field):
    """An input a criterion reads: a field name, its type and unit (and aliases, if new).

    ``Input("revenue", "money", unit="€")``. A field the core does not know yet (a plugin's
    own input, such as ``nps``) becomes a known account field, matched in headers by its
    name, label and aliases.
    """

    type: str = NUMBER


@dataclass(frozen=True)
class Param:
    """A criterion parameter with its default, overridable from the rule file (``params:``)."""

    default: Any
    description: str = ""


class Scored(NamedTuple):
    """What `Criterion.score` may return: the scores and a short reason per account."""

    score: pd.Series
    reason: pd.Series | None = None


class Criterion:
    """Base class for a criterion. Subclass it, set the attributes, implement `score`.

    Attributes:
        name: key used in weights and rules (``score.<name>``), lower case, no spaces.
        label: human label shown in the workbook.
        description: one line saying what it measures.
        inputs: the `Input` fields it reads. Absent columns are reported by the core and
            passed as all-blank columns; if all inputs are absent, `score` is not called.
        params: name → `Param`. The core passes the resolved values (defaults overridden
            by the rule file) to `score`.
        default_weight: weight used when neither the rule file nor Settings give one.
    """

    name: str = ""
    label: str = ""
    description: str = ""
    inputs: Sequence[Input] = ()
    params: Mapping[str, Param] = {}
    default_weight: float = 0.0

    def score(self, accounts: pd.DataFrame, params: Mapping[str, Any]) -> "pd.Series | Scored":
        """Score every account: a Series aligned on ``accounts.index``, 0–100 or NaN.

        ``accounts`` holds the coerced input fields (numbers as floats, blanks as NaN) and
        the derived ones. Return `Scored(score, reason)` to give a short reason per account.
        """
        raise NotImplementedError

    def resolve_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        values = {k: p.default for k, p in self.params.items()}
        values.update(overrides or {})
        return values

    def __repr__(self) -> str:
        return f"<Criterion {self.name}>"


@dataclass
class Derivation:
    """Fills ``field`` where it is blank, from other fields (computed on the whole table).

    ``compute(accounts, context)`` returns a Series; only its values where the account's own
    ``field`` is blank are used. ``inputs`` names what it reads, so the core can run
    derivations in dependency order and tell a rep which inputs would fill the field.
    ``context`` gives run-wide data, e.g. ``context.salespeople`` (a DataFrame or None).
    """

    field: str
    inputs: Sequence[str]
    compute: Callable[[pd.DataFrame, Any], pd.Series]
    label: str = ""
    override: bool = False  # True to replace a built-in derivation of the same field
