"""A rule's why in two languages: the run shows the workbook's language."""

from __future__ import annotations

from pathlib import Path

from helpers import write_workbook
from potentiel.cli import main
from potentiel.headless import score_file

RULES = """extends: default
rules:
  - id: big
    when: revenue >= 100000
    then: {flag: big}
    why: {fr: "Gros client : plus de 100 k€.", en: "Big client: over 100 k€."}
"""


def test_the_why_follows_the_language_of_the_workbook(tmp_path: Path):
    rules = tmp_path / "r.yaml"
    rules.write_text(RULES, encoding="utf-8")
    for headers, text in ((("Code client", "CA N"), "Gros client : plus de 100 k€"),
                          (("Account ID", "Revenue N"), "Big client: over 100 k€")):
        path = write_workbook(tmp_path / "b.xlsx", headers, [["C1", 200000], ["C2", 10]])
        result, _ = score_file(path, tmp_path / "o.xlsx", rules=str(rules))
        assert text in result.outputs.at[0, "Why"]
        # the default rules speak both languages too
        assert ("Noté sur la moitié du poids" if headers[0] == "Code client"
                else "Scored on half of the weight") in result.outputs.at[1, "Why"]


def test_a_why_in_an_unknown_language_is_an_error(tmp_path: Path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text(RULES.replace(", en:", ", de:"), encoding="utf-8")
    assert main(["rules", "check", str(rules), "--lang", "en"]) == 1
    assert "why: in two languages" in capsys.readouterr().out


def test_the_criteria_reasons_follow_the_language_of_the_run():
    """Each criterion runs in a thread of its own (under a time limit): it still writes its
    reasons in the run's language, and Why quotes them in that language."""
    from potentiel.i18n import use_language
    from potentiel.pipeline import score_records
    record = dict(id="A1", revenue=1000.0, potential=5000.0, status="client", relationship=3)
    with use_language("fr"):
        result = score_records([record])
    reasons = result.scores.reasons.iloc[0]
    assert reasons["revenue"] == "CA 1 k€, dans les 100 % les plus bas"
    assert reasons["relationship"] == "relation 3/5"
    assert result.outputs["Why"].iloc[0].startswith(
        "point fort : CA 1 k€, dans les 100 % les plus bas (100/100)")
    with use_language("en"):
        english = score_records([record])
    assert english.scores.reasons.iloc[0]["revenue"] == "revenue 1 k€, bottom 100 %"
