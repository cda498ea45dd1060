"""Reading what people have: from a sheet's cells to the accounts table and a reading report.

Every front end reads through this package, so a reading rule is written once:

- `headers`: where the header row is (title rows above it), which column is which field,
  revenue by year (``CA 2025`` … ``CA 2023`` → N, N-1, N-2), the Settings column map;
- `totals`: total and sub-total rows (``TOTAL``, ``Total général``, rows that add up the
  rows above), left out of scoring;
- `ownership`: which columns and sheets Potentiel made (proven by defined names kept in
  the workbook, never by a header's text);
- `reading`: the reading report (header row, column → field, rows left out, per-field
  counts, every notice with its cell) shown by ``potentiel inspect``, the terminal and the
  workbook's Reading sheet.
"""
