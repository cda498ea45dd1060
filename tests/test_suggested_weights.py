"""Suggested weights (issue 15, point 4): fitted on a holdout, shown, never applied.

Synthetic portfolios whose true weights are known: next year's revenue (or conversion)
follows a weighted score of the criteria plus noise. Stated tolerance: the weights are
found again within 5 points for revenue and 8 points for conversion (300 to 400 accounts
fitted). A portfolio whose revenue has nothing to do with the criteria is reported as
one where the criteria predict nothing, with no weights suggested.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers import own_sheet, write_workbook
from potentiel.cli import main
from potentiel.review import backtest as B
from potentiel.review.weights import fit_weights, whole_percent

TRUE = {"revenue": 40, "potential": 30, "solvency": 20, "relationship": 10, "growth": 0}
CONVERSION = {"potential": 70, "accessibility": 30, "relationship": 0}
REVENUE_TOLERANCE, CONVERSION_TOLERANCE = 5, 8


def criteria(n: int, names, rng) -> pd.DataFrame:
    return pd.DataFrame({c: rng.uniform(0, 100, n).round(1) for c in names})


def next_revenue(scores: pd.DataFrame, weights, rng, noise: float = 8.0) -> np.ndarray:
    """Heavy-tailed revenue whose rank follows the weighted score (plus noise)."""
    lin = sum(scores[c].fillna(50) * w / 100 for c, w in weights.items())
    return np.round(np.exp(lin / 15 + rng.normal(0, noise / 15, len(scores))) * 100)


def converted(scores: pd.DataFrame, weights, rng) -> np.ndarray:
    lin = sum(scores[c] * w / 100 for c, w in weights.items())
    return (lin + rng.normal(0, 8, len(scores)) > 60).to_numpy(dtype=float)


@pytest.mark.parametrize("seed", range(5))
def test_known_revenue_weights_are_found_again(seed):
    rng = np.random.default_rng(seed)
    s = criteria(300, TRUE, rng)
    s.loc[rng.random(300) < 0.05, "solvency"] = np.nan  # a few blanks, as in real files
    got = whole_percent(fit_weights(s, next_revenue(s, TRUE, rng)))
    assert sum(got.values()) == 100
    assert max(abs(got[c] - TRUE[c]) for c in TRUE) <= REVENUE_TOLERANCE, got


@pytest.mark.parametrize("seed", range(5))
def test_known_conversion_weights_are_found_again(seed):
    rng = np.random.default_rng(seed)
    s = criteria(400, CONVERSION, rng)
    got = whole_percent(fit_weights(s, converted(s, CONVERSION, rng), binary=True))
    assert max(abs(got[c] - CONVERSION[c]) for c in CONVERSION) <= CONVERSION_TOLERANCE, got


def test_whole_weights_add_up_to_100():
    assert whole_percent({"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert whole_percent({"a": 0.2, "b": 0.8}) == {"a": 20, "b": 80}
    assert fit_weights(pd.DataFrame({"a": [5.0] * 10}), np.arange(10.0)) == {}  # constant


# --------------------------------------------------------------------------- end to end


def snapshot(path: Path, frames: list[tuple[str, pd.DataFrame]], extra=None) -> Path:
    """A snapshot CSV: per date, account, score, category and score.<criterion>."""
    parts = []
    for date, s in frames:
        score = sum(s[c].fillna(0) * w / 100 for c, w in TRUE.items() if c in s)
        f = pd.DataFrame({"account": [f"c{i}" for i in range(len(s))], "score": score.round(1),
                          "category": pd.cut(score, [-1, 25, 50, 75, 101],
                                             labels=["D", "C", "B", "A"]).astype(str),
                          "date": date})
        for c in s:
            f[f"score.{c}"] = s[c]
        if extra is not None:
            for k, v in extra.items():
                f[k] = v
        parts.append(f)
    pd.concat(parts).to_csv(path, sep=";", index=False)
    return path


def this_year(path: Path, revenue: np.ndarray, revenue_n1=None, status=None) -> Path:
    n = len(revenue)
    n1 = revenue_n1 if revenue_n1 is not None else [1000] * n
    st = status if status is not None else ["client"] * n
    return write_workbook(path, ("id", "name", "status", "revenue", "revenue_n1"),
                          [[f"c{i}", f"Account {i}", st[i], float(revenue[i]), float(n1[i])]
                           for i in range(n)])


def weights_table(path: Path) -> tuple[dict[str, dict[str, tuple]], list[list]]:
    ws = openpyxl.load_workbook(path)[own_sheet(path, "Backtest")]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=B.WEIGHTS_ROW,
                                                       max_row=B.NOTES_ROW - 1)]
    header = rows[2]
    groups = {}
    for k in range(1, len(header), 2):
        if header[k] is None:
            continue
        title = header[k].rsplit(":", 1)[0]
        groups[title] = {r[0]: (r[k], r[k + 1]) for r in rows[3:3 + B.MAX_CRITERIA] if r[0]}
    return groups, rows


def test_suggested_weights_on_real_files_find_the_true_ones(tmp_path, capsys):
    rng = np.random.default_rng(11)
    s = criteria(600, TRUE, rng)
    snap = snapshot(tmp_path / "last.csv", [("2025-01-15", s)])
    book = this_year(tmp_path / "this.xlsx", next_revenue(s, TRUE, rng))
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    out = capsys.readouterr().out
    groups, rows = weights_table(tmp_path / "o.xlsx")
    table = groups["All accounts"]
    suggested = {c: v[1] for c, v in table.items()}
    assert sum(suggested.values()) == 100
    assert max(abs(suggested[c] - TRUE[c]) for c in TRUE) <= REVENUE_TOLERANCE, suggested
    # the current weights (default rule file: revenue 25, potential 25, solvency 10 …) as
    # shares of 100 of the criteria compared, beside them
    assert table["revenue"][0] == pytest.approx(100 * 25 / 75, abs=0.1)
    # one pair of years: the holdout is by account, and the sheet says it is not in time
    assert rows[1][0].startswith("Holdout by account, not in time: one pair of years only")
    rho_cur, rho_sug = rows[3 + B.MAX_CRITERIA][1], rows[4 + B.MAX_CRITERIA][2]
    assert rho_sug > rho_cur and rows[5 + B.MAX_CRITERIA][2] == pytest.approx(
        rho_sug - rho_cur, abs=0.002)
    verdict = rows[6 + B.MAX_CRITERIA]
    assert verdict[0] == "All accounts" and verdict[1].startswith(
        "the suggested weights rank the held-out accounts better")
    assert "nothing is applied" in out and "trend, growth" not in out
    # the criteria weighed now but not scored last year are said, not silently dropped
    assert "all accounts: trend, prescription, accessibility weigh in the current weights " \
        "but have no score in last year's snapshot" in out
    # nothing was applied: the Settings and the rule file are untouched
    assert openpyxl.load_workbook(tmp_path / "o.xlsx").sheetnames == ["Accounts", "Backtest"]


def test_a_holdout_in_time_when_an_older_snapshot_is_given(tmp_path):
    rng = np.random.default_rng(5)
    older, latest = criteria(400, TRUE, rng), criteria(400, TRUE, rng)
    snap = snapshot(tmp_path / "history.csv", [("2024-01-15", older), ("2025-01-15", latest)])
    book = this_year(tmp_path / "this.xlsx", next_revenue(latest, TRUE, rng),
                     revenue_n1=next_revenue(older, TRUE, rng))
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    groups, rows = weights_table(tmp_path / "o.xlsx")
    assert rows[1][0] == ("Holdout in time: fitted on history.csv (2024-01-15) against revenue "
                          "N-1 from this.xlsx, judged on history.csv (2025-01-15) against "
                          "revenue N.")
    suggested = {c: v[1] for c, v in groups["All accounts"].items()}
    assert max(abs(suggested[c] - TRUE[c]) for c in TRUE) <= REVENUE_TOLERANCE, suggested
    # the backtest itself reads the latest snapshot only
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["Backtest"]
    assert ws["A2"].value.startswith("Last year: history.csv (2025-01-15)")


def test_scores_that_predict_nothing_are_reported_as_such(tmp_path, capsys):
    rng = np.random.default_rng(3)
    s = criteria(600, TRUE, rng)
    noise = np.round(np.exp(rng.normal(0, 1, 600)) * 1000)  # unrelated to any criterion
    snap = snapshot(tmp_path / "last.csv", [("2025-01-15", s)])
    book = this_year(tmp_path / "this.xlsx", noise)
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    out = capsys.readouterr().out
    groups, rows = weights_table(tmp_path / "o.xlsx")
    assert all(v[1] is None for v in groups["All accounts"].values())  # none suggested
    verdict = rows[6 + B.MAX_CRITERIA][1]
    assert verdict.startswith("the criteria predict nothing here: no weighting of them ranks "
                              "next year's revenue better than chance")
    assert verdict.endswith("no weights are suggested, keep the current ones")
    assert "the criteria predict nothing here" in out
    # and the backtest says the score did not predict revenue either
    spearman_row = B.TABLE_ROW + 2 + B.MAX_CATEGORIES + 3
    assert "the score did not predict next year's revenue better than chance" in \
        openpyxl.load_workbook(tmp_path / "o.xlsx")["Backtest"].cell(spearman_row, 2).value


def test_prospects_are_fitted_to_conversion_in_their_profile(tmp_path):
    rng = np.random.default_rng(2)
    n = 600
    clients = criteria(n, TRUE, rng)
    prospects = criteria(n, TRUE, rng)
    prospects["accessibility"] = rng.uniform(0, 100, n).round(1)
    clients["accessibility"] = rng.uniform(0, 100, n).round(1)
    s = pd.concat([clients, prospects], ignore_index=True)
    revenue = np.concatenate([next_revenue(clients, TRUE, rng),
                              converted(prospects, CONVERSION, rng) * 500])
    status = ["client"] * n + ["prospect"] * n
    snap = snapshot(tmp_path / "last.csv", [("2025-01-15", s)],
                    extra={"profile": ["client"] * n + ["prospect"] * n, "status": status})
    book = this_year(tmp_path / "this.xlsx", revenue, status=status)
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    groups, rows = weights_table(tmp_path / "o.xlsx")
    assert rows[2][3] == "Profile prospect: current"
    assert rows[2][4] == "Profile prospect: suggested (conversion)"
    prospect = {c: v for c, v in groups["Profile prospect"].items()}
    # the prospect profile's current weights (default rule file): potential 60, accessibility 40
    assert prospect["potential"][0] == 60 and prospect["accessibility"][0] == 40
    got = {c: v[1] for c, v in prospect.items()}
    assert max(abs(got.get(c, 0) - CONVERSION.get(c, 0)) for c in got) <= CONVERSION_TOLERANCE
    client = {c: v[1] for c, v in groups["Profile client"].items()}
    assert max(abs(client[c] - TRUE.get(c, 0)) for c in client) <= REVENUE_TOLERANCE


def test_too_few_accounts_or_no_criterion_scores_is_said(tmp_path, capsys):
    rng = np.random.default_rng(1)
    s = criteria(20, TRUE, rng)
    snap = snapshot(tmp_path / "last.csv", [("2025-01-15", s)])
    book = this_year(tmp_path / "this.xlsx", next_revenue(s, TRUE, rng))
    assert main(["backtest", str(book), "--last", str(snap)]) == 0
    assert "too few accounts to fit weights: 11 to fit on and 9 held out (at least 30 and " \
        "15 are needed)" in capsys.readouterr().out
    plain = tmp_path / "plain.csv"
    plain.write_text("account;score;category\nc1;80;A\nc2;20;D\n", encoding="utf-8")
    assert main(["backtest", str(book), "--last", str(plain)]) == 0
    assert "last year's snapshot has no criterion scores" in capsys.readouterr().out


def test_the_held_out_accounts_are_chosen_by_id_whatever_the_order():
    from potentiel.review.weights import _held_out
    ids = [f"c{i}" for i in range(300)]
    held = [i for i in ids if _held_out(i)]
    assert held == [i for i in reversed(ids) if _held_out(i)][::-1]
    assert math.isclose(len(held) / len(ids), 1 / 3, abs_tol=0.08)
