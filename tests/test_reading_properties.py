"""Property test of reading (hypothesis): a messy export reads as its clean table.

A random accounts table (ids, names, status, revenue N, N-1, N-2, potential, headcount,
growth) is written as two real .xlsx files with openpyxl:

- clean: headers on row 1 (``id``, ``revenue``, ``revenue_n1`` …), one row per account,
  plain values;
- messy, as exports come: title lines and blank rows above the headers, French headers in
  any order with revenue by year (``CA 2025``, ``CA 2024``, ``CA 2023``), blank rows,
  sub-total rows (by a label, or by amounts alone) and a grand total, error cells
  (``#N/A``, ``#DIV/0!`` … stored as Excel error values), growth in %-formatted cells
  (0.117 shown as 11.7 %), headcount as bands (``50-99``, ``10 à 19 salariés``,
  ``250 et plus``, ``10 000+``), statuses in words (``Ancien client``).

Both are read through the headless reader (`Workbook`, `read_accounts`, `validate`); they
must give the same accounts (ids, in order) and the same value in every field, equal to
the generated one (an error cell's value is unknown, as the clean table's blank). The
example count keeps this under about 20 s on 2 cores; ``HYPOTHESIS_PROFILE=long`` runs
10× more.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potentiel.fields import Catalogue
from potentiel.headless import Workbook, read_accounts
from potentiel.validate import validate

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES = 400 if LONG else 40
CATALOGUE = Catalogue.build()

FIELDS = ("id", "name", "status", "revenue", "revenue_n1", "revenue_n2", "potential",
          "headcount", "growth_pct")
MONEY = ("revenue", "revenue_n1", "revenue_n2", "potential")
STATUS_WORDS = {"client": ["Client", "client", "CLIENT", "Client actif"],
                "prospect": ["Prospect", "prospect"],
                "suspect": ["Suspect"],
                "former": ["Ancien client", "Former client", "Lost"]}
NAMES = ["Acier Martin", "Boulangerie Nova", "Cabinet Orion", "Delta Logistique",
         "Epsilon Santé", "Garage Hélios", "Hôtel Iris", "Total Energies", "TOTAL ENERGIES SE",
         "Somme Pêche", "Grand Hôtel", "Sous-traitance Roux", "Ensemble Vocal", "L'Atelier"]
# headcount bands as exports write them: (text, value read)
BANDS = [(lo, hi) for lo, hi in [(1, 2), (3, 5), (6, 9), (10, 19), (20, 49), (50, 99),
                                 (100, 199), (200, 249), (250, 499), (500, 999),
                                 (1000, 1999), (2000, 4999), (5000, 9999)]]
OPEN_BANDS = [250, 500, 1000, 10000]
ERRORS = ["#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
TITLES = ["Portefeuille clients — export ERP du 28/11/2025", "Montants HT, en euros",
          "Customer portfolio – North region", "Extraction du 02/03/2026 à 09:30"]


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f" if n % 2 else " ")


def band_text(lo: int, hi: int | None, style: int) -> str:
    if hi is None:
        return [f"{_thousands(lo)} et plus", f"{_thousands(lo)}+", f"{lo} salariés et plus"][style % 3]
    return [f"{lo}-{hi}", f"{lo} à {hi} salariés", f"{_thousands(lo)} à {_thousands(hi)} salariés",
            f"{lo} - {hi}"][style % 4]


@dataclass
class Account:
    values: dict[str, Any]   # field → the value expected when read (None: unknown)
    status_text: str | None  # the status as the messy export words it
    band: str | None         # the headcount as a band in the messy export
    errors: dict[str, str]   # field → error value in the messy export (value expected None)


money = st.one_of(st.none(), st.just(0), st.integers(0, 10 ** 9).map(lambda c: c / 100))


@st.composite
def accounts(draw) -> list[Account]:
    n = draw(st.integers(1, 10))
    ids = draw(st.lists(st.integers(1, 99999), min_size=n, max_size=n, unique=True))
    out = []
    for k in ids:
        status = draw(st.sampled_from(sorted(STATUS_WORDS)))
        values: dict[str, Any] = {
            "id": draw(st.sampled_from([f"C{k:05d}", f"{4110000 + k}", f"CL-{k}"])),
            "name": draw(st.one_of(st.none(), st.sampled_from(NAMES))),
            "status": status,
        }
        for f in MONEY:
            values[f] = draw(money)
        band = None
        kind = draw(st.sampled_from(["none", "number", "band", "open"]))
        if kind == "number":
            values["headcount"] = draw(st.integers(0, 50000))
        elif kind == "band":
            lo, hi = draw(st.sampled_from(BANDS))
            band, values["headcount"] = band_text(lo, hi, draw(st.integers(0, 3))), (lo + hi) / 2
        elif kind == "open":
            lo = draw(st.sampled_from(OPEN_BANDS))
            band, values["headcount"] = band_text(lo, None, draw(st.integers(0, 2))), lo
        else:
            values["headcount"] = None
        values["growth_pct"] = draw(st.one_of(st.none(), st.integers(-900, 900).map(lambda t: t / 10)))
        errors = {}
        for f in draw(st.lists(st.sampled_from(FIELDS[1:]), max_size=2, unique=True)):
            errors[f] = draw(st.sampled_from(ERRORS))
            values[f] = None
            if f == "headcount":
                band = None
        status_text = draw(st.sampled_from(STATUS_WORDS[status])) if "status" not in errors else None
        out.append(Account(values, status_text, band, errors))
    return out


@dataclass
class Mess:
    titles: list[str | None]    # rows above the headers (None: a blank row)
    order: list[str]            # the fields' column order
    year: int                   # the year of revenue N
    blank_after: set[int]       # a blank row after these accounts
    subtotal_after: dict[int, str]  # a sub-total after these accounts: "label" or "amounts"
    grand: str | None           # the grand total's label, or None
    subtotal_label: str = "Sous-total"
    year_styles: tuple[str, str, str] = ("CA {}", "CA {}", "CA {}")  # N, N-1, N-2


@st.composite
def messes(draw, n: int) -> Mess:
    titles = draw(st.lists(st.one_of(st.none(), st.sampled_from(TITLES)), max_size=3))
    if titles and titles[0] is None:
        titles[0] = TITLES[0]
    order = draw(st.permutations(FIELDS))
    blank_after = set(draw(st.lists(st.integers(0, n - 1), max_size=3)))
    subtotal_after = {}
    for k in draw(st.lists(st.integers(0, n - 2), max_size=3, unique=True)) if n > 1 else []:
        subtotal_after[k] = draw(st.sampled_from(["label", "first", "amounts"]))
    grand = draw(st.one_of(st.none(), st.sampled_from(["TOTAL", "Total général", "Total"])))
    label = draw(st.sampled_from(SUBTOTALS))
    styles = tuple(draw(st.sampled_from(YEAR_STYLES)) for _ in range(3))
    return Mess(titles, list(order), draw(st.integers(2015, 2030)), blank_after,
                subtotal_after, grand, label, styles)


SUBTOTALS = ["Sous-total", "Sous-total Julie Martin", "Total Nantes", "Sub-total", "Somme",
             "SOUS-TOTAL", "Total commercial"]
YEAR_STYLES = ["CA {}", "CA HT {}", "Chiffre d'affaires {}", "Revenue {}", "Sales FY{}",
               "CA TTC {}", "Ventes {}"]
FRENCH = {"id": "Code client", "name": "Raison sociale", "status": "Statut",
          "potential": "Potentiel", "headcount": "Effectif", "growth_pct": "Croissance"}


def write_clean(path: Path, table: list[Account]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(list(FIELDS))
    for a in table:
        ws.append([a.values[f] for f in FIELDS])
    wb.save(path)


def write_messy(path: Path, table: list[Account], mess: Mess) -> None:
    """The same accounts as an export writes them; returns nothing, the file is the point."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Clients"
    headers = {**FRENCH, **{f: style.format(mess.year - back) for back, (f, style) in
                            enumerate(zip(MONEY[:3], mess.year_styles))}}
    col = {f: j + 1 for j, f in enumerate(mess.order)}
    r = 1
    for t in mess.titles:
        if t is not None:
            ws.cell(r, 1, t)
        r += 1
    for f in FIELDS:
        ws.cell(r, col[f], headers[f])
    running = {f: 0 for f in MONEY}   # cents since the last total
    grand = {f: 0 for f in MONEY}
    since = 0
    for k, a in enumerate(table):
        r += 1
        for f in FIELDS:
            cell = ws.cell(r, col[f])
            if f in a.errors:
                cell.value = a.errors[f]
                cell.data_type = "e"  # an error value, as Excel stores it
            elif f == "status":
                cell.value = a.status_text
            elif f == "headcount" and a.band is not None:
                cell.value = a.band
            elif f == "growth_pct" and a.values[f] is not None:
                cell.value = a.values[f] / 100
                cell.number_format = "0.0%"
            else:
                cell.value = a.values[f]
        for f in MONEY:
            cents = round((a.values[f] or 0) * 100)
            running[f] += cents
            grand[f] += cents
        since += 1
        kind = mess.subtotal_after.get(k)
        if kind == "amounts" and (since < 2 or not any(running.values())):
            kind = "label"  # a sum of nothing cannot be told from an empty account
        if kind is not None:
            r += 1
            for f in MONEY:
                ws.cell(r, col[f], running[f] / 100)
            if kind == "label":
                ws.cell(r, col["name"], mess.subtotal_label)
            elif kind == "first":  # where pivots and ERPs put it, whatever the column
                ws.cell(r, 1, mess.subtotal_label)
            running = {f: 0 for f in MONEY}
            since = 0
        if k in mess.blank_after:
            r += 1  # a blank row
    if mess.grand is not None:
        r += 1
        ws.cell(r, col["id"], mess.grand)
        for f in MONEY:
            ws.cell(r, col[f], grand[f] / 100)
    wb.save(path)


def read(path: Path):
    """The accounts as the headless front end reads them (no scoring)."""
    wb = Workbook(path)
    try:
        _, raw = read_accounts(wb)
    finally:
        wb.package.close()
    return validate(raw, CATALOGUE)


def as_records(validated) -> list[dict[str, Any]]:
    acc = validated.accounts
    out = []
    for _, row in acc.iterrows():
        rec = {}
        for f in FIELDS:
            v = row[f] if f in acc else None
            rec[f] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        out.append(rec)
    return out


def same(got: Any, expected: Any) -> bool:
    if expected is None or got is None:
        return got is None and expected is None
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(got, (int, float)) and math.isclose(got, expected, rel_tol=1e-12,
                                                                abs_tol=1e-9)
    return got == expected


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_a_messy_export_reads_as_its_clean_table(data):
    table = data.draw(accounts(), label="accounts")
    mess = data.draw(messes(len(table)), label="mess")
    with tempfile.TemporaryDirectory() as tmp:
        clean_path, messy_path = Path(tmp) / "clean.xlsx", Path(tmp) / "messy.xlsx"
        write_clean(clean_path, table)
        write_messy(messy_path, table, mess)
        clean, messy = read(clean_path), read(messy_path)
    expected = [a.values for a in table]
    for label, got in (("clean", clean), ("messy", messy)):
        records = as_records(got)
        assert [r["id"] for r in records] == [e["id"] for e in expected], label
        for rec, exp in zip(records, expected):
            for f in FIELDS:
                assert same(rec[f], exp[f]), (label, exp["id"], f, rec[f], exp[f])
    # the report says what was done: the header row, the year columns, the totals
    report = messy.report
    assert report.header_row == len(mess.titles) + 1
    uses = {c.field: c.header for c in report.columns if c.field}
    assert uses["revenue"] == mess.year_styles[0].format(mess.year)
    assert uses["revenue_n2"] == mess.year_styles[2].format(mess.year - 2)
    assert len(report.left_out) == len(mess.subtotal_after) + (mess.grand is not None)
    named = {w.where for w in messy.warnings if w.kind == "error-cell"}
    assert len(named) == sum(len(a.errors) for a in table)
    # a row left out is said once, as a total: none of its cells is called unreadable
    left = {r.row for r in report.left_out}
    for w in messy.warnings:
        row = w.where.rpartition("!")[2].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        assert w.kind == "total-row" or not row.isdigit() or int(row) not in left, w


def test_the_generator_writes_what_it_says(tmp_path):
    """A fixed example, checked cell by cell: the property above tests what it claims."""
    table = [Account({"id": "C1", "name": "Total Energies", "status": "former",
                      "revenue": 1000.5, "revenue_n1": None, "revenue_n2": 0, "potential": 2000,
                      "headcount": 74.5, "growth_pct": 11.7},
                     "Ancien client", "50-99", {}),
             Account({"id": "C2", "name": None, "status": "client", "revenue": 10,
                      "revenue_n1": 20, "revenue_n2": None, "potential": None,
                      "headcount": None, "growth_pct": None}, "Client", None,
                     {"name": "#N/A", "headcount": "#DIV/0!"})]
    for a in table[1:]:
        a.values["name"] = a.values["headcount"] = None
    mess = Mess(["Titre", None], list(FIELDS), 2025, {0}, {}, "TOTAL")
    path = tmp_path / "messy.xlsx"
    write_messy(path, table, mess)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws["A1"].value == "Titre" and ws["A2"].value is None
    assert [c.value for c in ws[3]] == ["Code client", "Raison sociale", "Statut", "CA 2025",
                                        "CA 2024", "CA 2023", "Potentiel", "Effectif",
                                        "Croissance"]
    assert ws["I4"].value == pytest.approx(0.117) and ws["I4"].number_format == "0.0%"
    assert ws["H4"].value == "50-99" and ws["C4"].value == "Ancien client"
    assert ws["B6"].data_type == "e" and ws["B6"].value == "#N/A"
    assert [c.value for c in ws[7]][:7] == ["TOTAL", None, None, 1010.5, 20, 0, 2000]
    validated = read(path)
    assert [r["id"] for r in as_records(validated)] == ["C1", "C2"]
    assert as_records(validated)[0]["growth_pct"] == pytest.approx(11.7)
