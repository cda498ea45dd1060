"""Sheet names: the sheets people keep (found by these names, any case, accents ignored)
and the sheets Potentiel writes. A low module, so that the plugin manager, the sources and
the front ends can all check names without importing each other."""

ACCOUNTS_NAMES = ("accounts", "comptes", "clients")
SETTINGS_NAMES = ("settings", "parametres", "reglages", "configuration")
REPS_NAMES = ("salespeople", "commerciaux", "reps", "vendeurs", "salesreps")

from .i18n import N_

# Potentiel's sheets by their English names (the key of their ownership marker); each is
# written under its name in the run's language (Matrice, Synthèse, Journal, Explication,
# Lecture) and renamed when the language changes.
MATRIX_SHEET, SUMMARY_SHEET = N_("Matrix"), N_("Summary")
LOG_SHEET, EXPLAIN_SHEET = N_("Log"), N_("Explain")
READING_SHEET = N_("Reading")  # the reading report and every warning of the last run
# The plan (potentiel.plan, written by the Plan and Territory actions): Plan, Objectifs,
# Territoire, Tournées in French.
PLAN_SHEET, OBJECTIVES_SHEET = N_("Plan"), N_("Objectives")
TERRITORY_SHEET = N_("Territory")
TOURS_SHEET = N_("Tours")  # day tours per rep (potentiel.plan.tours), Tournées in French
OUTPUT_SHEETS = (MATRIX_SHEET, SUMMARY_SHEET, LOG_SHEET, EXPLAIN_SHEET, READING_SHEET,
                 PLAN_SHEET, OBJECTIVES_SHEET, TERRITORY_SHEET, TOURS_SHEET)
# Check before you change (potentiel.review): Aperçu, Historique (hidden), Changements, and
# Backtest / Rétrospective (last year's categories against this year's revenue and the
# suggested weights; written by `potentiel backtest` and the Backtest action).
PREVIEW_SHEET, HISTORY_SHEET, CHANGES_SHEET = N_("Preview"), N_("History"), N_("Changes")
BACKTEST_SHEET = N_("Backtest")
OUTPUT_SHEETS += (PREVIEW_SHEET, HISTORY_SHEET, CHANGES_SHEET, BACKTEST_SHEET)

SALES_NAMES = ("sales", "ventes", "invoices", "factures")


def only_data_sheet(names: list[str], owned: list[str] = ()) -> str | None:
    """The workbook's one sheet that can hold the accounts when none is named Accounts /
    Comptes / Clients: the only sheet that is not Settings, Salespeople, invoice lines or a
    sheet Potentiel made (``owned``); None when there are none or several."""
    from .fields import normalise
    skip = {*SETTINGS_NAMES, *REPS_NAMES, *SALES_NAMES}
    mine = {n.casefold() for n in owned}
    left = [n for n in names if normalise(n) not in skip and n.casefold() not in mine]
    return left[0] if len(left) == 1 else None
