"""Potentiel: score B2B clients and prospects.

This module is the public API for plugin authors; import everything from ``potentiel``::

    from potentiel import hookimpl, Criterion, Input, Param, Scored
"""

import pluggy

from .criterion import Criterion, Derivation, Input, Param, Scored

hookimpl = pluggy.HookimplMarker("potentiel")

__version__ = "0.1.0"

__all__ = ["hookimpl", "Criterion", "Input", "Param", "Scored", "Derivation", "__version__"]
