"""The condition language: parsing, precedence, errors with positions, types, normal form."""

import pytest

from potentiel.fields import Catalogue
from potentiel.rules.logic import Hidden, normal_form
from potentiel.rules.names import Scope
from potentiel.rules.syntax import (And, Arith, Bool, Cmp, In, Missing, Name, Neg, Not, Num, Or,
                                    Str, SyntaxProblem, parse, unparse)
from potentiel.rules.typecheck import TypeProblem, check_condition, check_expression

CRITERIA = ["revenue", "trend", "potential", "penetration", "solvency", "growth",
            "prescription", "relationship", "accessibility"]
SCOPE = Scope(Catalogue.build(), CRITERIA, {"region": "text"}, ["spend_total"])


def checked(text):
    tree, _ = check_condition(parse(text), SCOPE)
    return tree


def normal(text):
    tree = checked(text)
    return normal_form(tree, {n for n, i in SCOPE.names.items() if i.kind == "text"})


# ----------------------------------------------------------------------------- parsing

def test_and_binds_tighter_than_or():
    assert parse("a > 1 or b > 2 and c > 3") == Or((
        Cmp(">", Name("a"), Num(1)),
        And((Cmp(">", Name("b"), Num(2)), Cmp(">", Name("c"), Num(3))))))


def test_not_binds_tighter_than_and_and_looser_than_comparison():
    assert parse("not a > 1 and b < 2") == And((
        Not(Cmp(">", Name("a"), Num(1))), Cmp("<", Name("b"), Num(2))))


def test_parentheses_override_precedence():
    assert parse("(a > 1 or b > 2) and c > 3") == And((
        Or((Cmp(">", Name("a"), Num(1)), Cmp(">", Name("b"), Num(2)))),
        Cmp(">", Name("c"), Num(3))))


def test_arithmetic_precedence_and_left_associativity():
    tree = parse("a - b - c * d / 2 > 0")
    left = tree.left
    assert left == Arith("-", Arith("-", Name("a"), Name("b")),
                         Arith("/", Arith("*", Name("c"), Name("d")), Num(2)))


def test_numbers_percent_underscores_and_negatives():
    assert parse("x > 1_000").right == Num(1000)
    assert parse("x > 12.5").right == Num(12.5)
    assert parse("x > 20%").right == Num(20, percent=True)
    assert parse("x > -5").right == Num(-5)
    assert parse("-x > 5").left == Neg(Name("x"))


def test_lists_missing_and_keywords():
    assert parse('status in ["client", "prospect",]') == In(
        Name("status"), (Str("client"), Str("prospect")))
    assert parse("x not in [1, -2]") == In(Name("x"), (Num(1), Num(-2)), negated=True)
    assert parse("x is missing") == Missing(Name("x"))
    assert parse("x is not missing") == Missing(Name("x"), negated=True)
    assert parse("TRUE") == Bool(True)
    assert parse("a > 1 ET b > 2 OU non c > 3") == parse("a > 1 and b > 2 or not c > 3")


def test_strings_with_escapes_and_both_quotes():
    assert parse('x == "say \\"hi\\""').right == Str('say "hi"')
    assert parse("x == 'Île-de-France'").right == Str("Île-de-France")


def test_dotted_names_for_scores():
    assert parse("score.revenue >= 50").left == Name("score.revenue")


@pytest.mark.parametrize("text", [
    'distance_km >= 600 and status == "prospect"', "a or b and not c",
    "not (a > 1 and b < 2)", "a - (b - c) > 1 - 2 - 3", "-(a + b) > 20%",
    'x not in ["a", "b"]', "x is not missing or (y > 1 or z < 2) and w == 3",
])
def test_unparse_reads_back_as_the_same_tree(text):
    assert parse(unparse(parse(text))) == parse(text)


@pytest.mark.parametrize("text, pos, words", [
    ("x = 5", 2, "write =="),
    ("x > ", 4, "expected a field name, a number or a quoted text"),
    ("0 < x < 5", 6, "cannot be chained"),
    ('x >= "far', 5, "not closed"),
    ("a > 1 && b > 2", 6, 'write "and"'),
    ("x > 1 y", 6, "expected an operator"),
    ("(a > 1", 6, '")"'),
    ("x is mising", 5, '"missing"'),
    ("12abc > 1", 0, "cannot start with a digit"),
    ("1__0 > x", 0, '"_" only between digits'),
    ("x > 1 $ 2", 6, '"$" cannot be used'),
    ("x in 5", 5, "a list in square brackets"),
    ("", 0, "is empty"),
])
def test_syntax_errors_say_what_and_where(text, pos, words):
    with pytest.raises(SyntaxProblem) as err:
        parse(text)
    assert err.value.pos == pos
    assert words in err.value.message


def test_too_long_or_too_deep_conditions_are_refused():
    with pytest.raises(SyntaxProblem, match="too long"):
        parse("x > 1 and " * 300 + "x > 1")
    with pytest.raises(SyntaxProblem, match="too deeply nested"):
        parse("(" * 60 + "x > 1" + ")" * 60)
    with pytest.raises(SyntaxProblem, match="too deeply nested"):
        parse("not " * 60 + "x > 1")


def test_derive_expressions_are_arithmetic_only():
    assert parse("headcount * spend_per_employee", arithmetic_only=True) == Arith(
        "*", Name("headcount"), Name("spend_per_employee"))
    with pytest.raises(SyntaxProblem):
        parse("headcount > 5", arithmetic_only=True)


# ----------------------------------------------------------------------------- types

@pytest.mark.parametrize("text, words", [
    ('distance_km >= "far"', 'distance_km is a number (km) but "far" is text'),
    ('status > "client"', "text can only be compared with == or !="),
    ("distnce_km > 5", 'unknown field "distnce_km" (did you mean distance_km?)'),
    ("effectif > 5", "did you mean headcount?"),
    ("score.revenu > 50", "did you mean score.revenue?"),
    ("revenue > 50%", "revenue is a number (€), not a percentage"),
    ('status == "prospects"', 'did you mean "prospect"?'),
    ('potential_tier == "hihg"', 'did you mean "high"?'),
    ("distance_km", "not a condition: compare it, e.g. distance_km > 0"),
    ("status and distance_km > 5", 'compare it, e.g. status == "client"'),
    ('status + 1 > 2', '"+" needs numbers, but status is text'),
    ('(revenue > 1) == true', "is a condition"),
    ('status in ["client", 5]', "put only texts in the list"),
    ('status == ""', "an empty text never matches"),
    ("revenue + 1 is missing", '"is missing" applies to a field name'),
])
def test_type_errors_are_clear(text, words):
    with pytest.raises(TypeProblem) as err:
        checked(text)
    assert words in err.value.message


def test_type_error_position_points_at_the_offender():
    with pytest.raises(TypeProblem) as err:
        checked('distance_km >= 600 and status == "prospects"')
    assert err.value.pos == len('distance_km >= 600 and status == ')


def test_percent_reads_from_what_it_is_compared_with():
    assert checked("penetration < 25%").right == Num(0.25)
    assert checked("growth_pct >= 20%").right == Num(20)
    assert checked("score.revenue >= 50%").right == Num(50)
    assert checked("revenue / potential < 10%").right == Num(0.1)
    assert checked("penetration in [10%, 20%]").values == (Num(0.1), Num(0.2))
    assert check_expression(parse("revenue * 110%", True), SCOPE).right == Num(1.1)


def test_hints_for_probable_mistakes():
    _, hints = check_condition(parse("penetration < 25"), SCOPE)
    assert "did you mean 25%?" in hints[0].message
    _, hints = check_condition(parse("score.revenue > 150"), SCOPE)
    assert "between 0 and 100" in hints[0].message


def test_declared_and_derived_names_are_known():
    assert checked('region == "Nord"') == Cmp("==", Name("region"), Str("Nord"))
    assert checked("spend_total > 5") == Cmp(">", Name("spend_total"), Num(5))


# ----------------------------------------------------------------------------- normal form

def test_not_is_pushed_down_by_de_morgan_and_inverted_comparisons():
    assert normal("not (distance_km >= 600 and headcount < 10)") == Or((
        Cmp("<", Name("distance_km"), Num(600)), Cmp(">=", Name("headcount"), Num(10))))
    assert normal('not status in ["client"]') == Cmp("!=", Name("status"), Str("client"))
    assert normal("not distance_km is missing") == Missing(Name("distance_km"), True)
    assert normal("not not headcount > 1") == Cmp(">", Name("headcount"), Num(1))


def test_constants_fold_and_comparisons_orient_field_first():
    assert normal("600 <= distance_km") == Cmp(">=", Name("distance_km"), Num(600))
    assert normal("distance_km > 300 * 2") == Cmp(">", Name("distance_km"), Num(600))
    assert normal("1 > 2 or headcount > 1") == Cmp(">", Name("headcount"), Num(1))
    assert normal("distance_km > 1 / 0") == Bool(False)
    assert normal("true and not false") == Bool(True)


def test_text_constants_are_case_folded():
    assert normal('status == " Prospect "') == Cmp("==", Name("status"), Str("prospect"))


def test_arithmetic_and_field_to_field_comparisons_become_hidden_columns():
    tree = normal("revenue / potential < 10%")
    assert tree.left == Hidden("value", Arith("/", Name("revenue"), Name("potential")))
    tree = normal("revenue > revenue_n1")
    assert tree == Cmp(">", Hidden("sign", Name("revenue"), Name("revenue_n1")), Num(0))
    tree = normal("salesperson != nearest_rep")
    assert tree == Cmp("==", Hidden("same", Name("nearest_rep"), Name("salesperson")), Num(0))


def test_equivalent_conditions_have_the_same_normal_form():
    assert normal("not (headcount < 5) and status == 'client'") == normal(
        "status == 'CLIENT' and headcount >= 5")
    assert normal("headcount > 1 or distance_km > 2") == normal(
        "distance_km > 2 or headcount > 1")
