"""Python's cyclic garbage collector paused for the length of a run.

A run of 100,000 accounts makes millions of small objects (cell values, row lists,
rendered cells) that hold no reference cycles; the collector would still walk them
again and again as they pile up (about a tenth of a run's time at 100,000 accounts, more
at a million). Reference counting frees them as usual; only the cycle search waits until
the run ends, when the collector is put back as it was.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off inside the block, back as it was after (errors too)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def during(fn):
    """``fn`` run with the collector `paused` (a decorator: name and docstring kept)."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with paused():
            return fn(*args, **kwargs)
    return run
