"""Messages for people: warnings and user errors that name a place and a fix.

Every message Potentiel shows a user is a `Problem`: where it happened (a cell such as
``Accounts!F12``, or ``rules/acme.yaml:14``) and what is wrong, in plain words. A
`UserError` carries one or more problems and stops the run; the front ends print it
without a traceback (exit code 1 on the command line, the feedback cell in Excel).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One message: ``where`` (may be empty) and ``message``.

    ``kind`` (a short key such as ``"not-a-number"``) and ``column`` (the header) let the
    reports group per-cell warnings into one line per kind and column; a run-level
    warning leaves ``column`` empty.
    """

    message: str
    where: str = ""
    level: str = "warning"  # "warning" or "error"
    kind: str = ""
    column: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def warning_count(problems) -> int:
    """How many of ``problems`` are warnings: notices (what was read, how) are listed but
    not counted as something to look at."""
    return sum(1 for p in problems if getattr(p, "level", "warning") != "notice")


class UserError(Exception):
    """Bad input a person can fix. ``str()`` gives every problem, one per line."""

    def __init__(self, problems: "Problem | str | list[Problem]", where: str = ""):
        if isinstance(problems, str):
            problems = [Problem(problems, where, "error")]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Warnings(list):
    """A list of `Problem` with a helper to add one; order is the order of discovery."""

    def add(self, message: str, where: str = "") -> None:
        self.append(Problem(message, where, "warning"))


def column_letter(index: int) -> str:
    """1 → A, 27 → AA (Excel column letters, for messages)."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(sheet: str, row: int, col: int) -> str:
    """``Accounts!F12`` style reference; quotes sheet names with spaces as Excel does."""
    name = f"'{sheet}'" if any(c in sheet for c in " -!'") else sheet
    return f"{name}!{column_letter(col)}{row}"
