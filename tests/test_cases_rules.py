"""The rule-file cases of ../shared/cases/rules/ (and the all-zero weights of Settings):
each gives the outcome its README asks for. A missing case file fails the test."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from helpers import SHARED_CASES, fr
from potentiel.cli import main
from potentiel.headless import score_file
from potentiel.i18n import in_language
from potentiel.manager import load_plugins
from potentiel.problems import UserError
from potentiel.rules import check_ruleset, load_ruleset, rules_dir

CASES = SHARED_CASES
RULES = CASES / "rules"
PLUGINS = load_plugins(entry_points=False)
# message keys (English) of the errors a French-headed workbook gets in French
NOTHING_IN_IT = ("the file has nothing in it (it is empty, blank or only comments): write at "
                 'least one key, e.g. "extends: default" and the weights or rules that differ')
EVERY_WEIGHT_0 = ("weights: every weight is 0, so no account could be scored; give at "
                  "least one criterion a weight above 0 (a weight of 0 leaves that one "
                  "criterion out)")
CATALOGUE, CRITERIA = PLUGINS.catalogue(), PLUGINS.criteria


def case(name: str) -> Path:
    path = (RULES if "/" not in name else CASES) / name
    assert path.is_file(), f"missing case file {path}"
    return path


def check(path: Path):
    return check_ruleset(path, CATALOGUE, CRITERIA)


def errors(problems):
    return [p for p in problems if p.level == "error"]


def score(tmp_path: Path, book: str, rules: Path | None, engine: str | None = None):
    result, _ = score_file(case(book), tmp_path / "out.xlsx", rules=str(rules) if rules else None,
                           engine=engine)
    return result


# -- 1. a rule file with nothing in it -------------------------------------------------

@pytest.mark.parametrize("text", [None, "", "\n  \n", "# only a comment\n\n# and another\n",
                                  "---\n", "{}\n"])
def test_a_file_with_nothing_in_it_is_an_error(tmp_path, text):
    path = case("empty.yaml") if text is None else tmp_path / "blank.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    problems = check(path)
    assert len(errors(problems)) == 1, problems
    assert "nothing in it" in problems[0].message
    assert problems[0].where.endswith(f"{path.name}:1")
    with pytest.raises(UserError, match="nothing in it"):
        load_ruleset(path, CATALOGUE, CRITERIA)


def test_an_empty_rule_file_stops_scoring_and_the_check_command(tmp_path, capsys):
    # portfolio.xlsx has French headers: the run, and so its error, is in French
    with pytest.raises(UserError, match=re.escape(in_language(NOTHING_IN_IT, "fr"))):
        score(tmp_path, "rules/portfolio.xlsx", case("empty.yaml"))
    assert main(["rules", "check", str(case("empty.yaml"))]) == 1
    assert "nothing in it" in capsys.readouterr().out


def test_an_empty_file_it_extends_is_an_error_too(tmp_path):
    (tmp_path / "base.yaml").write_text("# to be written\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base\nweights: {revenue: 30}\n", encoding="utf-8")
    problems = errors(check(child))
    assert len(problems) == 1 and problems[0].where.endswith("base.yaml:1"), problems


# -- 2. extends: default from any folder -----------------------------------------------

def test_extends_default_is_found_inside_a_folder_named_rules():
    # The case sits in .../cases/rules/, itself a folder named "rules" with no default.yaml.
    path = case("extends-default-under-rules-folder.yaml")
    assert path.parent.name == "rules" and not (path.parent / "default.yaml").exists()
    assert errors(check(path)) == []
    rs = load_ruleset(path, CATALOGUE, CRITERIA)
    assert (rules_dir() / "default.yaml").resolve() in [Path(f) for f in rs.files]
    assert rs.rule("too-far") is not None


def test_a_client_rules_folder_still_wins_over_the_shipped_default(tmp_path):
    folder = tmp_path / "Missions" / "ACME" / "rules"
    (folder / "clients").mkdir(parents=True)
    (folder / "default.yaml").write_text("weights: {revenue: 100}\n", encoding="utf-8")
    child = folder / "clients" / "acme.yaml"
    shutil.copy(case("extends-default-under-rules-folder.yaml"), child)
    rs = load_ruleset(child, CATALOGUE, CRITERIA)
    assert rs.weights == {"revenue": 100.0} and rs.rule("too-far") is None


# -- 3. the last band's min ----------------------------------------------------------

@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_a_score_below_the_last_band_gets_no_category_and_why_says_so(tmp_path, engine):
    result = score(tmp_path, "rules/portfolio.xlsx", case("last-band-min.yaml"), engine)
    out = result.outputs.set_index(result.accounts["id"])
    assert out.loc["A3", "Score"] == 0 and out.loc["A5", "Score"] == pytest.approx(9.1)
    for acc in ("A3", "A5"):
        assert out.loc[acc, "Category"] is None
        # a French workbook: its texts are French
        assert out.loc[acc, "Category label"] == "Sous la dernière bande"
        assert out.loc[acc, "Why"].startswith("sous la dernière bande, D à partir de 10")
    assert out.loc["A4", "Category"] == "A" and out.loc["A2", "Category"] == "C"
    assert "below the lowest band" not in out.loc["A2", "Why"]
    written = openpyxl.load_workbook(tmp_path / "out.xlsx")["Accounts"]
    headers = [c.value for c in written[1]]
    row_a5 = [c.value for c in written[6]]
    assert row_a5[headers.index("Catégorie")] is None
    assert row_a5[headers.index("Pourquoi")].startswith("sous la dernière bande, D à partir de 10")


def test_check_says_the_last_band_does_not_start_at_0():
    problems = check(case("last-band-min.yaml"))
    assert errors(problems) == []
    notice = [p for p in problems if "last band" in p.message]
    assert len(notice) == 1 and notice[0].level == "notice"
    assert "D" in notice[0].message and "10" in notice[0].message
    assert notice[0].where.endswith("last-band-min.yaml:8")


def test_bands_down_to_0_are_not_noticed():
    assert [p for p in check(rules_dir() / "default.yaml") if "last band" in p.message] == []


# -- 4. an inherited rule replaced by the same id ---------------------------------------

def test_check_notices_an_inherited_rule_replaced_by_the_same_id(capsys):
    path = case("inherited-id.yaml")
    problems = check(path)
    assert errors(problems) == []
    replaced = [p for p in problems if "replaces the inherited rule" in p.message]
    assert len(replaced) == 1 and replaced[0].level == "notice"
    assert '"credit-watch"' in replaced[0].message and "default.yaml:" in replaced[0].message
    assert replaced[0].where.endswith("inherited-id.yaml:7")
    rs = load_ruleset(path, CATALOGUE, CRITERIA)
    assert rs.rule("credit-watch").when == "distance_km >= 600"
    assert main(["rules", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "replaces the inherited rule" in out and "(notice)" in out


def test_a_new_id_is_no_notice(tmp_path):
    path = tmp_path / "child.yaml"
    path.write_text("extends: default\nrules:\n  - {id: far-away, when: distance_km >= 900, "
                    "then: {flag: far}, why: Far.}\n", encoding="utf-8")
    assert [p for p in check(path) if "replaces" in p.message] == []


# -- 5. weights are relative ------------------------------------------------------------

def test_check_says_weights_are_relative_when_they_do_not_add_up_to_100(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("description: x\nweights: {revenue: 50, trend: 30, potential: 0, "
                    "penetration: 0, solvency: 0, growth: 0, prescription: 0, relationship: 0, "
                    "accessibility: 0}\n", encoding="utf-8")
    problems = check(path)
    assert errors(problems) == []
    (notice,) = [p for p in problems if "relative" in p.message]
    assert notice.level == "notice" and "80" in notice.message
    assert notice.where.endswith("w.yaml:2")


def test_unlisted_criteria_keep_their_default_weight_in_the_total(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("extends: default\nweights: {trend: 20}\n", encoding="utf-8")
    (notice,) = [p for p in check(path) if "relative" in p.message]
    assert "110" in notice.message


def test_weights_adding_up_to_100_are_no_notice():
    assert [p for p in check(rules_dir() / "default.yaml") if "relative" in p.message] == []


# -- 6. every weight 0 ---------------------------------------------------------------

def test_every_weight_0_in_a_rule_file_is_an_error_at_the_weights_line(tmp_path):
    path = case("zero-weights.yaml")
    problems = errors(check(path))
    assert len(problems) == 1, problems
    assert "every weight is 0" in problems[0].message
    assert problems[0].where.endswith("zero-weights.yaml:5")
    with pytest.raises(UserError, match=re.escape(in_language(EVERY_WEIGHT_0, "fr"))):
        score(tmp_path, "rules/portfolio.xlsx", path)  # French headers: a French run


def test_a_weight_of_0_for_some_criteria_is_valid(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("extends: default\nweights: {revenue: 0, trend: 0}\n", encoding="utf-8")
    assert errors(check(path)) == []


def test_every_weight_0_in_settings_is_a_one_line_error_naming_the_cells(tmp_path, capsys):
    book = case("reading/weights-all-zero.xlsx")
    with pytest.raises(UserError) as exc:
        score(tmp_path, "reading/weights-all-zero.xlsx", None)
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].where == "Settings!B2:B10"
    assert "every weight is 0" in str(exc.value) and "\n" not in str(exc.value)
    assert main(["score", str(book), "-o", str(tmp_path / "o.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "Settings!B2:B10" in err and not (tmp_path / "o.xlsx").exists()


# -- 7. a value set by a rule shows in an output column ----------------------------------

SET_HEADERS = ("Salesperson (set by rules)", "Segment (set by rules)")


def _sheet_rows(path: Path) -> list[tuple]:
    """The Accounts rows, the headers of a French run's columns in their English names."""
    from helpers import english_header
    rows = list(openpyxl.load_workbook(path)["Accounts"].iter_rows(values_only=True))
    return [tuple(english_header(h) for h in rows[0]), *rows[1:]] if rows else rows


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_a_value_set_by_a_rule_shows_in_its_own_column_and_no_input_is_touched(tmp_path,
                                                                              engine):
    book = case("set-not-visible.xlsx")
    before = _sheet_rows(book)
    result = score(tmp_path, "rules/set-not-visible.xlsx", case("set-not-visible.yaml"), engine)
    out = result.outputs.set_index(result.accounts["id"])
    assert list(out.columns[-2:]) == list(SET_HEADERS)
    assert list(out[SET_HEADERS[0]]) == ["Key accounts", "Key accounts", "Paul"]
    assert list(out[SET_HEADERS[1]]) == ["key", "key", None]
    rows = _sheet_rows(tmp_path / "out.xlsx")
    headers = list(rows[0])
    width = len(before[0])
    assert [r[:width] for r in rows] == before  # Commercial and the typed Segment unchanged
    assert rows[2][headers.index("Segment")] == "typed"
    assert [r[headers.index(SET_HEADERS[0])] for r in rows[1:]] == ["Key accounts"] * 2 + ["Paul"]
    assert [r[headers.index(SET_HEADERS[1])] for r in rows[1:]] == ["key", "key", None]


def test_the_set_columns_are_reused_on_the_next_run(tmp_path):
    first = tmp_path / "first.xlsx"
    score_file(case("set-not-visible.xlsx"), first, rules=str(case("set-not-visible.yaml")))
    result, _ = score_file(first, tmp_path / "second.xlsx", rules=str(case("set-not-visible.yaml")))
    headers = list(_sheet_rows(tmp_path / "second.xlsx")[0])
    assert headers == list(_sheet_rows(first)[0])
    assert all(headers.count(h) == 1 for h in SET_HEADERS)
    assert not [w for w in result.warnings if "set by rules" in str(w)]
    set_by_rules = fr("{field} (set by rules)").split("{field}")[1].strip()  # French headers
    assert not [w for w in result.warnings if set_by_rules in str(w)]


def test_check_says_where_a_set_value_shows(capsys):
    problems = check(case("set-not-visible.yaml"))
    assert errors(problems) == []
    shown = sorted(p.message for p in problems if p.level == "notice")
    assert len(shown) == 2 and all("output column" in m for m in shown)
    assert '"Salesperson (set by rules)"' in shown[0] and '"Segment (set by rules)"' in shown[1]


def _set_file(tmp_path, outputs: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(case("set-not-visible.yaml").read_text(encoding="utf-8") + outputs,
                    encoding="utf-8")
    return path


def test_the_file_names_the_set_columns(tmp_path):
    path = _set_file(tmp_path, "outputs: {salesperson: Assigned rep, segment: Key segment}\n")
    assert [p for p in check(path) if p.level != "notice"] == []
    assert [p for p in check(path) if "output column" in p.message] == []
    result, _ = score_file(case("set-not-visible.xlsx"), tmp_path / "o.xlsx", rules=str(path))
    assert list(result.outputs.columns[-2:]) == ["Assigned rep", "Key segment"]
    assert list(result.outputs["Assigned rep"]) == ["Key accounts", "Key accounts", "Paul"]


@pytest.mark.parametrize("outputs, message", [
    ("outputs: {salesperson: Commercial}\n", "would be read as the field salesperson"),
    ("outputs: {segment: Segment}\n", "would be read as the field segment"),
    ("outputs: {salesperson: Why}\n", "one of Potentiel's own columns"),
    ("outputs: {salesperson: 'Score: x'}\n", "one of Potentiel's own columns"),
    ("outputs: {salesperson: '=1+1'}\n", "needs a column header"),
    ("outputs: {salesperson: Team, segment: team}\n", "both get the column"),
    ("outputs: {salesman: Team}\n", 'unknown field "salesman"'),
])
def test_a_set_column_header_that_cannot_work_is_an_error(tmp_path, outputs, message):
    path = _set_file(tmp_path, outputs)
    problems = errors(check(path))
    assert len(problems) == 1 and message in problems[0].message, problems
    assert problems[0].where.endswith("set.yaml:11")


def test_a_set_column_for_a_field_no_rule_sets_is_a_warning(tmp_path):
    path = _set_file(tmp_path, "outputs: {sector: Sector shown}\n")
    (warning,) = [p for p in check(path) if p.level == "warning"]
    assert "no rule sets sector" in warning.message
