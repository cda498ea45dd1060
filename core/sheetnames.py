"""Sheet names: the sheets people keep (found by these names, any case, accents ignored)
and the sheets Potentiel writes. A low module, so that the plugin manager, the sources and
the front ends can all check names without importing each other."""

ACCOUNTS_NAMES = ("accounts", "comptes", "clients")
SETTINGS_NAMES = ("settings", "parametres", "reglages", "configuration")
REPS_NAMES = ("salespeople", "commerciaux", "reps", "vendeurs", "salesreps")

MATRIX_SHEET, SUMMARY_SHEET, LOG_SHEET, EXPLAIN_SHEET = "Matrix", "Summary", "Log", "Explain"
READING_SHEET = "Reading"  # the reading report and every warning of the last run
OUTPUT_SHEETS = (MATRIX_SHEET, SUMMARY_SHEET, LOG_SHEET, EXPLAIN_SHEET, READING_SHEET)
