"""The command line: exit codes, fast start, and what it prints."""

import subprocess
from pathlib import Path
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
    # one ranking per profile of the default rules: Acme is a client, Bobo a prospect
    assert "Profile client:\nTop 1 accounts (best category first, then highest score" in out
    assert "Profile prospect:\nTop 1 accounts" in out and "Acme" in out


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


SHIPPED = sorted((Path(__file__).resolve().parents[1] / "rules").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_rules_check_and_test_pass_on_every_shipped_file(path, capsys):
    assert main(["rules", "check", str(path)]) == 0
    assert main(["rules", "test", str(path)]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "passed" in out


def test_rules_check_fails_with_file_and_line_on_a_broken_copy(tmp_path, capsys):
    src = Path(__file__).resolve().parents[1] / "rules" / "clients" / "office-supplies-co.yaml"
    broken = tmp_path / "broken.yaml"
    lines = src.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if "distance_km" in line and "when:" in line)
    lines[k] = lines[k].replace("distance_km", "distnce_km")
    broken.write_text("\n".join(lines) + "\n")
    assert main(["rules", "check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"broken.yaml:{k + 1}: " in out and 'unknown field "distnce_km" (did you mean ' \
        "distance_km?)" in out
    assert main(["rules", "test", str(broken)]) == 1


def test_rules_test_reports_a_failing_case(tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("extends: default\ntests:\n  - name: wrong on purpose\n"
                     "    account: {status: prospect, distance_km: 900}\n"
                     "    expect: {category: A}\n")
    assert main(["rules", "test", str(rules)]) == 1
    out = capsys.readouterr().out
    assert "FAIL wrong on purpose: expected category A" in out and "r.yaml:3" in out


def test_top_refuses_a_negative_count_and_never_lists_unscored_accounts(tmp_path, capsys):
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS + [["C3", "Nada", "Client"]])
    with pytest.raises(SystemExit) as exc:
        main(["score", str(path), "-o", str(tmp_path / "o.xlsx"), "--top", "-1"])
    assert exc.value.code == 2 and "negative" in capsys.readouterr().err
    assert main(["score", str(path), "-o", str(tmp_path / "o.xlsx"), "--top", "10"]) == 0
    out = capsys.readouterr().out
    top = out[out.index("Top "):]
    assert "Nada" not in top and "Acme" in top


def test_new_empty_starts_with_no_account_and_names_the_installed_docs(tmp_path, capsys):
    from potentiel.headless import score_file
    from potentiel.resources import docs_dir
    target = tmp_path / "acme.xlsm"
    assert main(["new", "--empty", str(target)]) == 0
    out = capsys.readouterr().out
    assert str(docs_dir() / "excel.md") in out and (docs_dir() / "excel.md").is_file()
    result, _ = score_file(target, tmp_path / "scored.xlsm")
    assert len(result.accounts) == 0


def test_serve_without_the_server_extra_says_which_extra(monkeypatch, capsys):
    import builtins
    real = builtins.__import__

    def no_fastapi(name, *a, **kw):
        if name in ("fastapi", "uvicorn"):
            raise ImportError(name)
        return real(name, *a, **kw)

    monkeypatch.setenv("POTENTIEL_TOKEN", "x" * 40)
    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    assert main(["serve"]) == 1
    assert "pip install 'potentiel[server]'" in capsys.readouterr().err
