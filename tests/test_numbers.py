"""Numbers as people type them: parsed when unambiguous, refused otherwise."""

import pytest

from potentiel.numbers import Ambiguous, parse_number


@pytest.mark.parametrize("text, value", [
    ("1 200 €", 1200), ("12,5", 12.5), ("1.200,50", 1200.5), ("1,200.50", 1200.5),
    ("1,234,567", 1234567), ("12 %", 12), ("180 k€", 180000), ("1,2 M€", 1.2e6),
    ("(1 200)", -1200), ("-3,5", -3.5), ("\u22124", -4), ("0,125", 0.125), ("1234,567", 1234.567),
    ("1\u202f200", 1200), ("+5", 5), ("42", 42), ("3.5", 3.5), ("EUR 12", 12),
    ("12 500 € HT", 12500), ("12 500 € TTC", 12500), ("1 200 €/an", 1200), ("€1,234.56", 1234.56),
    ("1.234,56 €", 1234.56), ("-€12", -12), ("12 k€ HT", 12000), ("$ 1,200.00", 1200),
    ("1 000 €/mois", None),
    # an ERP's credit note: the accounting negative with its currency and tax marks
    ("(1 200,00) € HT", -1200), ("(1 200,00 €) HT", -1200), ("(1 200 €)", -1200),
])
def test_parses_what_is_unambiguous(text, value):
    if value is None:
        with pytest.raises(ValueError):
            parse_number(text)
    else:
        assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["1,200", "1.200", "12,500"])
def test_refuses_what_could_be_read_two_ways(text):
    with pytest.raises(Ambiguous):
        parse_number(text)


@pytest.mark.parametrize("text", ["n/a", "abc", "€", "12.5.3", "1e5", "", "--4", "1,2,3"])
def test_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_number(text)
