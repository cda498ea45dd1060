"""The progress line of long runs (potentiel.progress): the steps with their counts on a
terminal, wiped at the end; nothing at all when the output is not a terminal."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from potentiel import progress
from potentiel.cli import main
from potentiel.headless import score_file

SAMPLE = Path(__file__).resolve().parents[1] / "workbooks" / "portfolio.xlsx"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_run_on_a_terminal_says_each_step_with_its_count_then_wipes_the_line(tmp_path):
    path = tmp_path / "portfolio.xlsx"
    shutil.copyfile(SAMPLE, path)
    screen = Terminal()
    with progress.shown(screen, delay=0.0):
        result, _ = score_file(path, tmp_path / "out.xlsx")
    text = screen.getvalue()
    n = len(result.accounts)
    for step in ("Reading Accounts", f"Scoring {n:,} accounts", f"Rules on {n:,} accounts",
                 "Writing Accounts", "Checking Accounts as written"):
        assert step in text, (step, text)
    assert text.index("Reading Accounts") < text.index("Scoring") < text.index("Rules on") \
        < text.index("Writing Accounts") < text.index("Checking Accounts")
    last = text.rstrip("\r").rsplit("\r", 1)[-1]
    assert last.strip() == ""  # the line is wiped: the summary is printed on a clean line


def test_nothing_is_shown_before_the_delay():
    screen = Terminal()
    with progress.shown(screen, delay=60.0):
        progress.step("Scoring 3 accounts")
        progress.advance(5e6)
    assert "Scoring" not in screen.getvalue()


def test_nothing_is_shown_when_the_output_is_not_a_terminal(tmp_path, capsys):
    path = tmp_path / "portfolio.xlsx"
    shutil.copyfile(SAMPLE, path)
    piped = io.StringIO()
    with progress.shown(piped, delay=0.0):
        progress.step("Scoring 3 accounts")
    assert piped.getvalue() == ""
    assert main(["score", str(path), "-o", str(tmp_path / "out.xlsx")]) == 0
    assert capsys.readouterr().err == ""


def test_steps_outside_a_display_do_nothing():
    progress.step("Scoring 3 accounts")
    progress.advance(1e6)  # no display active: no error, no output
