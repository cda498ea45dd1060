"""The command line: exit codes, fast start, and what it prints."""

import subprocess
import sys

import pytest

from helpers import HEADERS, write_workbook
from potentiel.cli import main

ROWS = [["C1", "Acme", "Client", "Claire", 120000, 100000, 400000, 0, 4, 30],
        ["C2", "Bobo", "Prospect", "Julien", None, None, 50000, None, None, 650]]


def test_score_prints_the_summary(tmp_path, capsys):
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    assert main(["score", str(path), "-o", str(tmp_path / "o.xlsx"), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "Scored 2 accounts" in out and "Top 80% of revenue: 1 account(s)" in out
    assert "Top 2 accounts:" in out and "Acme" in out


def test_usage_error_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["score"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_user_error_is_exit_1_without_traceback(tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "file not found" in err and "Traceback" not in err


def test_plugins_lists_the_nine_builtins(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in ("revenue", "trend", "potential", "penetration", "solvency", "growth",
                 "prescription", "relationship", "accessibility"):
        assert any(line.split()[0] == name and line.rstrip().endswith("built-in")
                   for line in out.splitlines()[1:]), name


def test_help_does_not_import_pandas():
    code = ("import sys; from potentiel.cli import build_parser; build_parser(); "
            "print('pandas' in sys.modules, 'openpyxl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
