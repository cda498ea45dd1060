"""What makes a written value dangerous in Excel: text that Excel would run as a formula.

Every front end writes text from data (names, sectors, rule ``why`` texts, plugin reasons)
through `formula_like` and neutralises what it flags: the headless writer stores it as
text with Excel's quote prefix, the xlwings writer prefixes an apostrophe, which Excel
hides and which makes it store the value as text.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """True for a string Excel could take as a formula (or DDE) when entered in a cell."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise_text(value: object) -> object:
    """For writers that enter values as if typed: an apostrophe makes Excel keep text."""
    if formula_like(value):
        return "'" + value
    return value
