"""Headers as companies write them: where the header row is, and which column is which field.

- The header row is the row, among the first `HEADER_SCAN_ROWS` rows with a value, with
  the most recognised headers (title lines, a merged title, a subtitle or blank rows above
  it are skipped; blank rows, such as those under charts drawn above a table, do not
  count).
- Revenue by year: ``CA 2025``, ``CA HT 2024``, ``Chiffre d'affaires 2023``,
  ``Revenue 2025``, ``Sales FY2025`` are revenue N, N-1, N-2, the latest year being N.
- The column map: Settings rows ``Column: revenue`` → ``CA HT 2025`` (French ``Colonne :
  CA``) and a rule file's ``columns:`` section say which header is which field; they win
  over the aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..fields import Catalogue, normalise
from ..i18n import _
from ..problems import Problem, UserError

HEADER_SCAN_ROWS = 30

# Year headers: the words before the year (normalised: lower case, no accents or spaces).
_REVENUE_WORDS = frozenset({
    "ca", "caht", "cattc", "canet", "chiffredaffaires", "chiffredaffaire", "chiffredaffairesht",
    "chiffredaffaireht", "chiffredaffairesttc", "revenue", "revenues", "sales", "netsales",
    "turnover", "ventes", "caannuel", "ventesht", "revenueht"})
_YEAR = re.compile(r"^(?P<words>[a-z]+?)(?:fy)?(?P<year>(?:19|20)\d\d)(?P<tail>ht|ttc)?$")
YEAR_FIELDS = ("revenue", "revenue_n1", "revenue_n2")

# Settings rows of the column map: "Column: revenue", "Colonne : CA N-1".
_COLUMN_LABEL = re.compile(r"^\s*(?:column|colonne)\s*:\s*(?P<field>.+?)\s*$", re.I)


@dataclass(frozen=True)
class YearColumn:
    field: str | None  # revenue / revenue_n1 / revenue_n2, or None when not used
    year: int
    note: str


def year_header(header: Any) -> tuple[int, str] | None:
    """``(year, tax)`` for a revenue-by-year header (tax is "ttc" or ""), else None."""
    if not isinstance(header, str):
        return None
    m = _YEAR.match(normalise(header))
    if m is None:
        return None
    words = m.group("words")
    tax = m.group("tail") or ""
    if words.endswith("ttc"):
        tax = "ttc"
    if words not in _REVENUE_WORDS:
        return None
    return int(m.group("year")), tax


def year_columns(headers: Sequence[Any], skip: Iterable[int] = ()) -> dict[int, YearColumn]:
    """Column position → its use, for every revenue-by-year header.

    The latest year is N, the one before N-1, the one before that N-2; older years are
    not used (the method reads three years). Two columns for one year: the first is used.
    """
    skip = set(skip)
    found = [(j, *yt) for j, h in enumerate(headers) if j not in skip
             for yt in [year_header(h)] if yt is not None]
    if not found:
        return {}
    latest = max(y for _j, y, _t in found)
    out: dict[int, YearColumn] = {}
    taken: dict[int, int] = {}
    for j, year, tax in found:
        back = latest - year
        if back > 2:
            out[j] = YearColumn(None, year, _("year {year} is older than N-2 ({oldest}); the "
                                              "method reads three years").format(
                                                  year=year, oldest=latest - 2))
            continue
        if back in taken:
            out[j] = YearColumn(None, year, _("a second column for {year}; the first one is "
                                              "used").format(year=year))
            continue
        taken[back] = j
        name = YEAR_FIELDS[back]
        label = "N" if back == 0 else f"N-{back}"
        note = _("revenue {label} (year {year}, the latest year {latest} being N)").format(
            label=label, year=year, latest=latest)
        if tax == "ttc":
            note += _("; amounts incl. tax (TTC) are taken as typed")
        out[j] = YearColumn(name, year, note)
    return out


def header_score(row: Sequence[Any], catalogue: Catalogue, mapped: Iterable[str] = ()) -> int:
    """How many cells of ``row`` are headers Potentiel recognises."""
    wanted = {normalise(h) for h in mapped}
    n = 0
    for v in row:
        if not isinstance(v, str) or not v.strip():
            continue
        if catalogue.match(v) or year_header(v) or normalise(v) in wanted:
            n += 1
    return n


def find_header_row(grid: Sequence[Sequence[Any]], catalogue: Catalogue,
                    mapped: Iterable[str] = ()) -> tuple[int | None, str]:
    """Index (0-based) of the header row in ``grid`` and a note for the reading report.

    The row with the most recognised headers among the first `HEADER_SCAN_ROWS` rows with
    a value wins (the first such row on a tie); when no row has any, the first row with a
    value is taken and the note says so. None for an empty grid.
    """
    mapped = list(mapped)
    best, best_score, first = None, 0, None
    for i, row in _scanned(grid):
        if first is None:
            first = i
        score = header_score(row, catalogue, mapped)
        if score > best_score:
            best, best_score = i, score
    if best is None:
        if first is None:
            return None, ""
        return first, _("no known header in the first {n} rows: row {row}, the first with a "
                        "value, is taken as the header row").format(n=HEADER_SCAN_ROWS,
                                                                    row=first + 1)
    above = [i for i in range(best) if any(not _blank(v) for v in grid[i])]
    if above:
        rows = ", ".join(str(i + 1) for i in above[:5])
        return best, _("headers found on row {row} ({n} recognised); row(s) {rows} above are "
                       "not read (a title)").format(row=best + 1, n=best_score, rows=rows)
    return best, _("headers on row {row} ({n} recognised)").format(row=best + 1, n=best_score)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _scanned(grid: Sequence[Sequence[Any]]) -> Iterable[tuple[int, Sequence[Any]]]:
    """``(index, row)`` of the first `HEADER_SCAN_ROWS` rows with a value: blank rows
    (under a chart or a picture drawn above the table) are passed over, not counted."""
    n = 0
    for i, row in enumerate(grid):
        if any(not _blank(v) for v in row):
            yield i, row
            n += 1
            if n == HEADER_SCAN_ROWS:
                return


def column_map_rows(rows: Iterable[tuple[Any, Any, str]], catalogue: Catalogue,
                    fields_label: str = "Settings") -> tuple[dict[str, str], dict[str, str]]:
    """The Settings column map: ``({field: header}, {field: cell})``.

    A row ``Column: <field>`` (or ``Colonne : <field>``) names the field by its name, its
    English or French label or an alias (``Colonne : CA N-1``); its value is the header of
    the column to read. Raises `UserError` naming the cell for a field Potentiel does not
    know.
    """
    out: dict[str, str] = {}
    where: dict[str, str] = {}
    for label, value, cell in rows:
        if not isinstance(label, str):
            continue
        m = _COLUMN_LABEL.match(label)
        if m is None or value in (None, ""):
            continue
        name = catalogue.match(m.group("field"))
        if name is None:
            hint = catalogue.suggest(m.group("field"))
            more = _(" (did you mean {name}?)").format(name=hint) if hint else \
                _(" (potentiel fields lists them)")
            raise UserError(_('"{field}" is not a field Potentiel knows').format(
                field=m.group("field")) + more, cell)
        out[name] = str(value).strip()
        where[name] = cell
    return out, where


def is_column_map_label(label: Any) -> bool:
    """True for a Settings label of the column map (``Column: revenue``)."""
    return isinstance(label, str) and _COLUMN_LABEL.match(label) is not None


def check_column_map(column_map: dict[str, str], where: dict[str, str],
                     headers: Sequence[Any], sheet: str) -> list[Problem]:
    """A mapped header missing from the sheet is named with the headers there."""
    have = {normalise(h) for h in headers if isinstance(h, str)}
    problems = []
    for name, header in column_map.items():
        if normalise(header) not in have:
            shown = ", ".join(str(h) for h in headers if isinstance(h, str) and h.strip())[:300]
            problems.append(Problem(_('the column map reads {field} from "{header}", but '
                                      "{sheet} has no such header (headers: {shown})").format(
                                          field=name, header=header, sheet=sheet, shown=shown),
                                    where.get(name, ""), kind="column-map"))
    return problems


def looks_like_accounts(grid: Sequence[Sequence[Any]], catalogue: Catalogue) -> bool:
    """True when one of the first rows holds at least two headers Potentiel recognises:
    a sheet not named Accounts is read as the accounts only then."""
    return any(header_score(row, catalogue) >= 2 for _i, row in _scanned(grid))


def table_note(row: int, table: str) -> str:
    """The reading report's note for a table's header row (both front ends say the same)."""
    return _('headers on row {row} (the Excel table "{table}")').format(row=row, table=table)
