"""The three published scoring schemes of ../shared/cases/schemes/, written without a hack
as rules/examples/*.yaml, scored on their shared workbooks on both engines.

The expected points are the workaround files' own points (the specification), hand-added
per account: the same where the workaround's total is 100 or less, the true total where
it cut the total at 100 (ICP fit), and ten times the workaround's on the credit
scorecard, whose scale is 0 to 1000 where the workaround had to use 0 to 100.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SHARED_CASES
from potentiel.cli import main
from potentiel.headless import score_file

ROOT = Path(__file__).resolve().parents[1]
CASES = SHARED_CASES / "schemes"
EXAMPLES = ROOT / "rules" / "examples"

# account → (points, category)
ICP_FIT = {  # size + industry + revenue + country + title + department + tools + e-mail - small
    "P001": (130, "A"),  # 25 + 20 + 20 + 10 + 20 + 15 + 20: cut at 100 by the workaround
    "P002": (100, "A"),  # 20 + 20 + 15 + 10 + 15 + 5 + 15
    "P003": (80, "A"),   # 15 + 20 + 15 + 5 + 10 + 15
    "P004": (30, "C"),   # 15 + 10 + 15 + 10 + 5 + 5 + 10 - 10 - 30
    "P005": (5, "C"),    # 5 + 5 + 10 + 25 - 10 - 30
    "P006": (30, "C"),   # 20 + 15 + 10 + 20 + 15 - 50
    "P007": (0, "C"),    # 10 + 5 - 30 = -15: a points score starts at 0
    "P008": (135, "A"),  # 25 + 20 + 20 + 10 + 25 + 15 + 20: cut at 100 by the workaround
    "P009": (95, "A"),   # 20 + 10 + 15 + 5 + 15 + 15 + 15
    "P010": (30, "C"),   # 15 + 10 + 10 + 10 + 10 + 5 - 30
    "P011": (90, "A"),   # 15 + 20 ("banque ") + 15 + 5 + 15 + 5 + 15
    "P012": (110, "A"),  # 25 + 20 + 10 + 20 ("VP") + 15 ("it") + 20, no revenue: cut at 100
    "P013": (25, "C"),   # 10 + 10 + 10 + 25 - 30 (Espagne: no market points)
    "P014": (30, "C"),   # 20 + 10, headcount blank: no size points, no penalty
    "P015": (75, "A"),   # 20 + 20 + 15 + 10 + 10
}
ODOO = {  # canada 20, pricing 30, e-mail 10, phone 10, partner 15
    # the direct-sales team reads the score (stage: final): 50 points and more
    "L01": (70, "A", "Direct sales"), "L02": (55, "A", "Direct sales"),
    "L03": (20, "B", "Partner channel"),
    "L04": (0, "C", None), "L05": (40, "B", None), "L06": (35, "B", None),
    "L07": (30, "B", None),  # "canada" in lower case still matches
    "L08": (45, "B", "Partner channel"),
}
CREDIT = {  # workaround points × 10: age 200, form 200, incidents 300, DSO 180, debt 120
    "K01": (1000, "A"), "K02": (190, "C"), "K03": (690, "B"), "K04": (430, "C"),
    "K05": (1000, "C"),  # knock-out: receivership forces Decline
    "K06": (606, "B"),   # age and form unknown: 40 % and 50 % defaults, debt blank: 0
    "K07": (636, "B"), "K08": (570, "B"),
    "K09": (892, "A"),   # 85 % typed in a %-formatted cell is 85 %: 10 % of 120
    "K10": (644, "B"),   # SCOP: a form not listed, otherwise 0
}
SCHEMES = [("s1-icp-fit", "icp-fit.yaml", ICP_FIT), ("s4-odoo", "odoo-lead-scoring.yaml", ODOO),
           ("s7-credit", "credit-scorecard.yaml", CREDIT)]


@pytest.mark.parametrize("engine", ["durable", "compiled"])
@pytest.mark.parametrize("folder,rules,expected", SCHEMES, ids=[s[0] for s in SCHEMES])
def test_scheme_gives_the_points_of_its_specification(tmp_path, folder, rules, expected, engine):
    book = CASES / folder / "accounts.xlsx"
    assert book.is_file(), book  # the shared case must be there: fail, never skip
    result, _ = score_file(book, tmp_path / "out.xlsx", rules=str(EXAMPLES / rules),
                           engine=engine)
    out = result.outputs.set_index(result.accounts["id"])
    for account, want in expected.items():
        assert out.loc[account, "Score"] == pytest.approx(want[0]), account
        assert out.loc[account, "Category"] == want[1], account
        if len(want) > 2:
            got = out.loc[account, "Sales team"]
            assert (got if isinstance(got, str) else None) == want[2], account
    assert not [p for p in result.warnings if p.kind == "outside-scale"]


@pytest.mark.parametrize("engine", ["durable", "compiled"])
@pytest.mark.parametrize("rules", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_example_files_check_and_pass_their_tests(rules, engine, capsys):
    path = EXAMPLES / rules
    assert main(["rules", "check", str(path)]) == 0
    assert main(["rules", "test", str(path), "--engine", engine]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "passed" in out


def test_every_scheme_of_the_shared_cases_has_an_example_file():
    folders = {p.name for p in CASES.iterdir() if p.is_dir()}
    assert folders == {s[0] for s in SCHEMES}


WORKAROUNDS = [("s1-icp-fit", "icp-fit.yaml", 1), ("s4-odoo", "odoo-lead-scoring.yaml", 1),
               ("s7-credit", "credit-scorecard.yaml", 10)]  # credit: 0–1000 against 0–100


@pytest.mark.parametrize("engine", ["durable", "compiled"])
@pytest.mark.parametrize("folder,rules,scale", WORKAROUNDS, ids=[w[0] for w in WORKAROUNDS])
def test_each_example_gives_its_workarounds_points(tmp_path, folder, rules, scale, engine):
    """The shared workaround files are the specification: the example file gives their
    points wherever their total is under 100, and the true total where they clipped it."""
    import shutil
    src = CASES / folder
    book = src / "accounts.xlsx"
    # the workaround rule file extends its points model as "points-model"
    if (src / "workaround-points-model.yaml").is_file():
        shutil.copyfile(src / "workaround-points-model.yaml", tmp_path / "points-model.yaml")
    shutil.copyfile(src / "workaround-rules.yaml", tmp_path / "workaround-rules.yaml")
    hack, _ = score_file(book, tmp_path / "hack.xlsx", rules=str(tmp_path / "workaround-rules.yaml"),
                         engine=engine)
    ours, _ = score_file(book, tmp_path / "ours.xlsx", rules=str(EXAMPLES / rules),
                         engine=engine)
    want = dict(zip(hack.accounts["id"], hack.outputs["Score"]))
    got = dict(zip(ours.accounts["id"], ours.outputs["Score"]))
    assert set(want) == set(got) and want
    for account, points in want.items():
        if points < 100:
            assert got[account] == pytest.approx(points * scale), account
        else:
            assert got[account] >= 100 * scale, account
