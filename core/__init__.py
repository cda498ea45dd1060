"""Potentiel: score B2B clients and prospects.

This module is the public API for plugin authors; import everything from ``potentiel``::

    from potentiel import hookimpl, Criterion, Input, Param, Scored, Derivation, RuleAction

``_`` (translate now, in the run's language), ``N_`` (mark for the catalogs) and ``ngettext``
let a plugin write its reasons in the run's language: ``_("top {share} %").format(share=8)``.
"""

import pluggy

from .criterion import Criterion, Derivation, Input, Param, Scored
from .i18n import N_, _, ngettext

hookimpl = pluggy.HookimplMarker("potentiel")

__version__ = "0.1.0"

__all__ = ["hookimpl", "Criterion", "Input", "Param", "Scored", "Derivation", "RuleAction",
           "_", "N_", "ngettext", "__version__"]


def __getattr__(name: str):
    # RuleAction lives with the rules, which need pandas: imported on first use only, so
    # that `potentiel --help` stays fast.
    if name == "RuleAction":
        from .rules.actions import RuleAction
        return RuleAction
    raise AttributeError(f"module 'potentiel' has no attribute {name!r}")
