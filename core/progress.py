"""What a long run is doing, on the terminal: reading, scoring, rules, writing, with counts.

A run of a few thousand accounts ends before anyone wonders; one of 100,000 takes several
seconds, one of a million a minute. From about two seconds on (`DELAY`), one line on the
terminal's error stream says the step and its count (``Writing Accounts: 41 MB``) and is
wiped when the run ends. Nothing is shown when that stream is not a terminal (a pipe, a
log, Excel's button, the tests): the line would only be noise there.

The display is tqdm's (a well-kept library: terminal width, redraws, Windows consoles).
Code deep in a run reports through `step` and `advance`, which do nothing when no display
is active, so the pipeline and the writer need not know who is watching.
"""

from __future__ import annotations

import contextlib
import sys
import time
from contextvars import ContextVar
from typing import IO, Iterator

from .i18n import _

DELAY = 2.0  # seconds a run lasts before anything is shown

_current: ContextVar["Display | None"] = ContextVar("potentiel_progress", default=None)


class Display:
    """One line: the step, its detail, the time elapsed (tqdm, shown after ``delay``)."""

    def __init__(self, stream: IO[str], delay: float = DELAY):
        from tqdm import tqdm
        self.start = time.monotonic()
        self.delay = delay
        self.bar = tqdm(total=None, file=stream, leave=False, delay=delay, mininterval=0.2,
                        bar_format="{desc} [{elapsed}]", dynamic_ncols=True)
        self.text = ""
        self.amount = 0.0
        self.unit = ""
        self._last = 0.0

    def step(self, text: str) -> None:
        self.text, self.amount, self.unit = text, 0.0, ""
        self._show(force=True)

    def advance(self, amount: float, unit: str) -> None:
        self.amount += amount
        self.unit = unit
        self._show()

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if now - self.start < self.delay or (not force and now - self._last < 0.2):
            return
        self._last = now
        detail = ""
        if self.unit == "MB":
            detail = f": {self.amount / 1e6:,.0f} MB"
        elif self.unit:
            detail = f": {self.amount:,.0f} {self.unit}"
        self.bar.set_description_str(self.text + detail, refresh=False)
        self.bar.refresh()
        self.bar.last_print_t = self.bar._time()  # shown: tqdm wipes it when closed

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def shown(stream: IO[str] | None = None, delay: float = DELAY,
          force: bool = False) -> Iterator[Display | None]:
    """Show the run's progress on ``stream`` (default: standard error) while the block
    runs, only if it is a terminal (``force``: even if not, for tests)."""
    stream = stream if stream is not None else sys.stderr
    if not force and not (hasattr(stream, "isatty") and stream.isatty()):
        yield None
        return
    display = Display(stream, delay)
    token = _current.set(display)
    try:
        yield display
    finally:
        _current.reset(token)
        display.close()


def step(text: str) -> None:
    """The run is now doing ``text`` (``Scoring 100,000 accounts``)."""
    display = _current.get()
    if display is not None:
        display.step(text)


def advance(amount: float, unit: str = "MB") -> None:
    """``amount`` more of the current step done (bytes written, with ``unit="MB"``)."""
    display = _current.get()
    if display is not None:
        display.advance(amount, unit)


def reading(sheet: str) -> None:
    step(_("Reading {sheet}").format(sheet=sheet))


def scoring(n: int) -> None:
    step(_("Scoring {n:,} accounts").format(n=n))


def rules(n: int) -> None:
    step(_("Rules on {n:,} accounts").format(n=n))


def writing(part: str) -> None:
    step(_("Writing {part}").format(part=part))


def checking(sheet: str) -> None:
    step(_("Checking {sheet} as written").format(sheet=sheet))
