"""Potentiel: score B2B clients and prospects.

This module is the public API for plugin authors; import everything from ``potentiel``::

    from potentiel import hookimpl, Criterion, Input, Param, Scored, Derivation, RuleAction
"""

import pluggy

from .criterion import Criterion, Derivation, Input, Param, Scored

hookimpl = pluggy.HookimplMarker("potentiel")

__version__ = "0.1.0"

__all__ = ["hookimpl", "Criterion", "Input", "Param", "Scored", "Derivation", "RuleAction",
           "__version__"]


def __getattr__(name: str):
    # RuleAction lives with the rules, which need pandas: imported on first use only, so
    # that `potentiel --help` stays fast.
    if name == "RuleAction":
        from .rules.actions import RuleAction
        return RuleAction
    raise AttributeError(f"module 'potentiel' has no attribute {name!r}")
