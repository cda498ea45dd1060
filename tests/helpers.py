"""Helpers shared by the tests: real workbooks built with openpyxl."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Sequence

import openpyxl
from openpyxl.worksheet.table import Table, TableStyleInfo

class Formula(str):
    """A value to store as a real formula cell (other strings starting with = are text)."""


HEADERS = ("id", "name", "status", "salesperson", "revenue", "revenue_n1", "potential",
           "payment_incidents", "relationship", "distance_km")


def write_workbook(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                   settings: Sequence[tuple[str, Any]] = (), reps: Sequence[Sequence[Any]] = (),
                   table: bool = True, sheet: str = "Accounts") -> Path:
    """A real .xlsx: Accounts (as an Excel table or a plain range), Settings, Salespeople."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(headers))
    for r in rows:
        ws.append([str(v) if isinstance(v, Formula) else v for v in r])
        for cell, v in zip(ws[ws.max_row], r):
            if isinstance(v, str) and v.startswith("=") and not isinstance(v, Formula):
                cell.data_type = "s"  # typed as text (e.g. pasted with an apostrophe)
    if table and rows:
        ref = f"A1:{openpyxl.utils.get_column_letter(len(headers))}{len(rows) + 1}"
        t = Table(displayName="Accounts", ref=ref)
        t.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(t)
    if settings:
        st = wb.create_sheet("Settings")
        st.append(["Setting", "Value"])
        for k, v in settings:
            st.append([k, v])
    if reps:
        sp = wb.create_sheet("Salespeople")
        sp.append(["name", "latitude", "longitude"])
        for r in reps:
            sp.append(list(r))
    wb.save(path)
    return path


def cells(path: Path, values_only: bool = False) -> dict[tuple[str, str], Any]:
    """Every cell of a workbook: (sheet, coordinate) → (value, data_type), or just the value
    with floats rounded to 6 places (``values_only``, to compare two writers)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    v = c.value
                    if values_only:
                        out[(ws.title, c.coordinate)] = round(v, 6) if isinstance(v, float) else v
                    else:
                        out[(ws.title, c.coordinate)] = (v, c.data_type)
    return out


def payload_from_workbook(path: Path, selection: str | None = None,
                          active_sheet: str | None = None) -> dict:
    """The JSON xlwings' VBA client sends for this file (see potentiel.headless)."""
    from potentiel.headless import remote_payload
    return remote_payload(path, selection=selection, active_sheet=active_sheet)


# --------------------------------------------------------------------------- shared cases
# The shared example inputs: ../shared/cases beside the checkout (as in CI), or the folder
# POTENTIEL_CASES names. A test needing a missing case fails; it never skips.
SHARED_CASES = Path(os.environ.get("POTENTIEL_CASES") or
                    Path(__file__).resolve().parents[2] / "shared" / "cases")
RUN_TIME = dt.datetime(2026, 3, 2, 9, 30)  # the Log time of test runs


def shared_case(tmp_path: Path, folder: str, name: str) -> Path:
    """A writable copy of ``../shared/cases/<folder>/<name>`` (a missing case fails)."""
    import shutil
    src = SHARED_CASES / folder / name
    assert src.is_file(), f"missing shared case {src}"
    return Path(shutil.copyfile(src, tmp_path / name))


def score_headless(path: Path, out: Path | None = None, **kw):
    """`score_file` to ``out`` (default: out-<name> beside it); the result."""
    from potentiel.headless import score_file
    kw.setdefault("when", RUN_TIME)
    result, _ = score_file(path, out or path.with_name("out-" + path.name), **kw)
    return result


def score_remote(path: Path, out: Path | None = None, **kw):
    """Recompute through xlwings' remote engine (``xw.Book(json=payload)``, the path of
    Excel's buttons through xlwings Server); with ``out``, the actions are played on a copy
    by the simulated VBA client. The result (the outcome must be ok)."""
    import copy

    import pytest
    import xlwings as xw

    from potentiel.excel import Options, recompute
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set "
                    "before xlwings is first imported")
    kw.setdefault("when", RUN_TIME)
    book = xw.Book(json=copy.deepcopy(payload_from_workbook(path)))
    try:
        outcome = recompute(book, Options(remote=True, **kw))
        actions = book.json()["actions"]
    finally:
        book.close()
    assert outcome.ok, outcome.message
    if out is not None:
        from vba_client import apply_actions
        assert apply_actions(path, actions, out) == []
    return outcome.result


def act_remote(path: Path, action: str, out: Path | None = None, selection: str | None = None,
               active_sheet: str | None = None, **kw):
    """Run the workbook's ``action`` (the key of `potentiel.excel.ACTIONS`: plan, territory
    …) through xlwings' remote engine, as `score_remote` runs Recompute; with ``out``, the
    actions are played on a copy by the simulated VBA client. Returns (outcome, actions)."""
    import copy

    import pytest
    import xlwings as xw

    from potentiel.excel import ENTRY_POINTS, Options
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set "
                    "before xlwings is first imported")
    kw.setdefault("when", RUN_TIME)
    book = xw.Book(json=copy.deepcopy(payload_from_workbook(path, selection=selection,
                                                            active_sheet=active_sheet)))
    try:
        outcome = ENTRY_POINTS[action](book, Options(remote=True, **kw))
        actions = book.json()["actions"]
    finally:
        book.close()
    if out is not None:
        from vba_client import apply_actions
        assert apply_actions(path, actions, out) == []
    return outcome, actions


def english_header(header):
    """An output header as written in either language → its English name (``Catégorie`` →
    ``Category``, ``Score : CA`` → ``Score: revenue``); any other text as it is."""
    from potentiel.config import CRITERION_FRENCH
    from potentiel.i18n import in_language
    from potentiel.layout import OUTPUT_HEADERS
    if not isinstance(header, str):
        return header
    for name in OUTPUT_HEADERS:
        if header == in_language(name, "fr"):
            return name
    if header.endswith(" (fixé par les règles)"):
        return header[:-len(" (fixé par les règles)")] + " (set by rules)"
    if header.startswith("Score : "):
        word = header[len("Score : "):]
        english = {fr: en for en, fr in CRITERION_FRENCH.items()}
        return "Score: " + english.get(word, word)
    return header


def own_sheet(path, english: str) -> str:
    """The name Potentiel's sheet ``english`` (Summary, Log, Reading …) has in the written
    file, found by its marker (Synthèse in a French workbook)."""
    import openpyxl
    from potentiel.sources.ownership import key_of, split_refers_to
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        names = {n: d.attr_text for n, d in wb.defined_names.items()}
    finally:
        wb.close()
    text = names.get(f"_Potentiel.sheet.{key_of(english)}")
    return split_refers_to(text)[0] if text else english


def fr(message: str, **values: Any) -> str:
    """The French of a message key from the catalog, with ``values`` put in (``{n}`` …):
    what a French run (French headers or Settings Langue) says. Fails when the key has no
    French, so a test cannot pass by comparing English with English."""
    from potentiel.i18n import in_language, translations
    assert message in getattr(translations("fr"), "_catalog", {}), \
        f"no French for the message key {message!r}"
    text = in_language(message, "fr")
    return text.format(**values) if values else text


def fr_plural(singular: str, plural: str, n: int, **values: Any) -> str:
    """The French of a plural message key (``ngettext``) for ``n``, with ``values`` put in."""
    from potentiel.i18n import translations
    assert (singular, 0) in getattr(translations("fr"), "_catalog", {}), \
        f"no French for the message key {singular!r}"
    return translations("fr").ngettext(singular, plural, n).format(n=n, **values)


def read_parts(path: Path) -> dict[str, bytes]:
    """Every part of the workbook at ``path``: name → bytes, in the zip's order."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_parts(path: Path, parts: dict[str, bytes]) -> None:
    """The workbook at ``path`` written again with ``parts`` (name → bytes)."""
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
