"""CSV and Parquet in and out: `potentiel score accounts.csv -o scored.{csv,parquet,xlsx}`."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pandas as pd
import pytest

from potentiel.cli import main
from potentiel.fields import Catalogue
from potentiel.headless import score_file
from potentiel.problems import UserError
from potentiel.sources import csv as source_csv
from potentiel.sources import parquet as source_parquet
from potentiel.validate import validate

HEADER = ["Code client", "Raison sociale", "Statut", "Commercial", "CA N", "CA N-1", "Potentiel",
          "Effectif"]
# cells as a French export writes them; {d} is the decimal mark
DATA = [
    ["C1", "Société Générale d'Éclairage", "client", "Claire", "1 234,56", "1 000", "5 000", "50-99"],
    ["C2", "Beta\nSARL", "client", "Julien", "2500,5", "2 000", "9 000", "120"],
    ["C3", "Gamma", "prospect", "Claire", "", "", "40 000", "250 et plus"],
    ["C4", "Delta", "client", "Julien", "800", "900", "", "8"],
]
TOTAL = ["TOTAL", "", "", "", "4535,06", "3900", "54000", ""]


def _csv_text(sep: str, rows: list[list[str]]) -> str:
    def cell(v: str) -> str:
        if any(c in v for c in (sep, '"', "\n", "\r", "\t", ",")):
            return '"' + v.replace('"', '""') + '"'
        return v
    return "\r\n".join(sep.join(cell(v) for v in r) for r in rows) + "\r\n"


def make_csv(path, sep=";", encoding="utf-8", title=True, rows=None):
    rows = [HEADER, *DATA, TOTAL] if rows is None else rows
    lines = ([["Export CRM du 01/03/2025"], []] if title else []) + rows
    path.write_bytes(_csv_text(sep, lines).encode(encoding))
    return path


ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252"}


@pytest.mark.parametrize("sep", [";", ",", "\t"])
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_csv_is_read_in_each_encoding_and_separator(tmp_path, sep, encoding):
    path = make_csv(tmp_path / "accounts.csv", sep, encoding)
    raw, notices = source_csv.read_accounts_file(path)
    # the title line and the blank line are above the header row (record 3)
    assert raw.header_row == 3 and raw.headers == HEADER
    assert raw.sheet == "accounts.csv"
    assert raw.rows[0][1] == "Société Générale d'Éclairage"  # accents, in every encoding
    assert raw.rows[1][1] == "Beta\nSARL"  # a quoted line break stays in its cell
    assert ENCODINGS[encoding] in raw.header_note
    sep_name = {";": '";"', ",": '","', "\t": "tab"}[sep]
    assert f"separator {sep_name}" in raw.header_note
    assert [p.kind for p in notices] == (["csv-encoding"] if encoding == "cp1252" else [])

    checked = validate(raw, Catalogue.build())
    acc = checked.accounts
    # decimal comma and spaced thousands, read by the common reading layer
    assert acc.loc[0, "revenue"] == pytest.approx(1234.56)
    assert acc.loc[1, "revenue"] == pytest.approx(2500.5)
    assert acc.loc[0, "headcount"] == pytest.approx(74.5)  # a band, read by the reading layer
    assert list(acc["id"]) == ["C1", "C2", "C3", "C4"]
    # the total row is left out, named by its row in the file (row 8 as Excel shows it)
    report = checked.report
    assert [(r.row, r.cell) for r in report.left_out] == [(8, "accounts.csv!A8")]
    assert {c.header: c.field for c in report.columns}["CA N-1"] == "revenue_n1"


def test_csv_report_is_the_workbooks_report(tmp_path):
    """The same cells in a CSV and in a sheet read the same: columns, rows left out, counts."""
    path = make_csv(tmp_path / "accounts.csv")
    raw, _ = source_csv.read_accounts_file(path)
    book = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    for row in [["Export CRM du 01/03/2025"], [], HEADER, *DATA, TOTAL]:
        ws.append([v or None for v in row])
    wb.save(book)
    from potentiel.headless import Workbook, read_accounts
    w = Workbook(book)
    try:
        _, wraw = read_accounts(w)
    finally:
        w.package.close()
    a, b = validate(raw, Catalogue.build()).report, validate(wraw, Catalogue.build()).report
    assert a.header_row == b.header_row == 3
    assert [(c.header, c.field, c.note) for c in a.columns] == \
        [(c.header, c.field, c.note) for c in b.columns]
    assert [(r.row, r.why) for r in a.left_out] == [(r.row, r.why) for r in b.left_out]
    assert [(c.field, c.read, c.blank, c.unreadable) for c in a.counts] == \
        [(c.field, c.read, c.blank, c.unreadable) for c in b.counts]


def test_report_for_inspect(tmp_path):
    path = make_csv(tmp_path / "accounts.csv", encoding="cp1252")
    report = source_csv.reading_report(path)
    text = "\n".join(report.lines())
    assert "Windows-1252" in text and "total row" in text
    assert report.notices[0].kind == "csv-encoding"


def test_excel_sep_line_and_quoted_separator(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('sep=,\nid,name,revenue\nA1,"Dupont, Fils",12\n', encoding="utf-8")
    raw, _ = source_csv.read_accounts_file(path)
    assert raw.headers == ["id", "name", "revenue"]
    assert raw.rows == [["A1", "Dupont, Fils", "12"]]


def _read_back(path, sep=";", decimal=","):
    return pd.read_csv(path, sep=sep, decimal=decimal, encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def test_csv_round_trip(tmp_path):
    src = make_csv(tmp_path / "accounts.csv", ";", "cp1252")
    out = tmp_path / "scored.csv"
    assert main(["score", str(src), "-o", str(out)]) == 0
    result, _ = score_file(src, tmp_path / "again.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, always
    back = _read_back(out)
    assert list(back.columns[:len(HEADER)]) == HEADER
    assert list(back.columns[len(HEADER):]) == list(result.outputs.columns)
    # inputs as they were in the file (the total row too), title lines dropped
    assert back[HEADER].values.tolist() == [*DATA, TOTAL]
    # outputs equal the run's: numbers with the input's decimal comma
    scores = pd.to_numeric(back["Score"].str.replace(",", "."), errors="coerce")
    for pos in result.outputs.index:
        assert scores[pos] == pytest.approx(result.outputs.loc[pos, "Score"])
        assert back.loc[pos, "Category"] == (result.outputs.loc[pos, "Category"] or "")
    assert back.loc[4, "Category"] == ""  # the total row is not scored
    # the scored CSV read again: Potentiel's block is known, rewritten, not read
    raw, notices = source_csv.read_accounts_file(out)
    assert [p.kind for p in notices] == ["adopted"]
    again, _ = score_file(out, tmp_path / "twice.csv")
    twice = _read_back(tmp_path / "twice.csv")
    assert list(twice.columns) == list(back.columns)
    assert twice["Score"].tolist() == back["Score"].tolist()


def test_comma_csv_writes_comma_and_dot(tmp_path):
    src = make_csv(tmp_path / "accounts.csv", ",", "utf-8")
    score_file(src, tmp_path / "out.csv")
    back = pd.read_csv(tmp_path / "out.csv", sep=",", encoding="utf-8-sig")
    assert back["Confidence"].dtype.kind == "f"


def test_injection_is_neutralised_in_csv_output(tmp_path):
    rows = [["id", "name", "revenue", "sector"],
            ["A1", "=HYPERLINK(\"http://evil\",\"x\")", "-12,5", "+cmd|' /C calc'!A0"],
            ["A2", "@SUM(1+1)", "100", "-2+3"],
            ["A3", "\tTab", "+1 234,5", "\rCR"],
            ["A4", "plain", "50", "-"]]
    src = make_csv(tmp_path / "in.csv", rows=rows, title=False)
    result, _ = score_file(src, tmp_path / "out.csv")
    back = pd.read_csv(tmp_path / "out.csv", sep=";", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert back["name"].tolist() == ["'=HYPERLINK(\"http://evil\",\"x\")", "'@SUM(1+1)", "'\tTab",
                                     "plain"]
    assert back["sector"].tolist() == ["'+cmd|' /C calc'!A0", "'-2+3", "'\rCR", "'-"]
    # numbers stay numbers, signed ones included
    assert back["revenue"].tolist() == ["-12,5", "100", "+1 234,5", "50"]
    for col in back.columns:
        for v in back[col]:
            assert not v.startswith(("=", "+", "@", "\t", "\r")) or v == "+1 234,5", (col, v)
    notice = [p for p in result.warnings if p.kind == "csv-formula"]
    assert len(notice) == 1 and "7 cell(s)" in notice[0].message


def _typed_frame():
    return pd.DataFrame({
        "id": ["P1", "P2", "P3", "P4"],
        "name": ["Alpha", "Beta", None, "=Delta"],
        "status": ["client", "client", "prospect", "client"],
        "revenue": [120000.5, 30000.0, None, 8000.0],
        "revenue_n1": [100000, 35000, 0, 4000],
        "potential": [400000.0, 50000.0, 900000.0, None],
        "headcount": pd.array([200, 40, 1200, None], dtype="Int64"),
        "since": [dt.date(2020, 1, 5), dt.date(2021, 6, 1), None, dt.date(2019, 3, 2)],
    })


def test_parquet_round_trip(tmp_path):
    src = tmp_path / "accounts.parquet"
    frame = _typed_frame()
    frame.to_parquet(src, index=False)
    raw, notices = source_parquet.read_accounts_file(src)
    assert raw.rows[0][3] == 120000.5 and raw.rows[0][6] == 200  # typed, not text
    assert raw.rows[0][7] == dt.datetime(2020, 1, 5)
    out = tmp_path / "scored.parquet"
    assert main(["score", str(src), "-o", str(out)]) == 0
    result, _ = score_file(src, tmp_path / "again.parquet")
    back = pd.read_parquet(out)
    # the user's own "potential" column is kept; Potentiel's is renamed beside it
    outputs = [c + " (Potentiel)" if c == "Potential" else c for c in result.outputs.columns]
    assert list(back.columns) == [*frame.columns, *outputs]
    # inputs with their own types
    pd.testing.assert_frame_equal(back[list(frame.columns)], frame, check_dtype=False)
    import pyarrow.parquet as pq
    schema = pq.read_schema(out)
    assert str(schema.field("headcount").type) == "int64"
    assert str(schema.field("since").type) == "date32[day]"
    # outputs typed and equal to the run's
    assert back["Score"].dtype.kind == "f"
    pd.testing.assert_series_equal(back["Score"], result.outputs["Score"].reset_index(drop=True),
                                   check_names=False)
    assert back["Category"].tolist() == result.outputs["Category"].tolist()
    assert back["name"].tolist()[3] == "=Delta"  # Parquet is data, not a spreadsheet
    # scored again: the outputs are Potentiel's by the file's metadata, not duplicated
    raw2, notices2 = source_parquet.read_accounts_file(out)
    assert set(raw2.owned.values()) >= {"score", "category"}
    assert [p.kind for p in notices2] == ["adopted"]
    score_file(out, tmp_path / "twice.parquet")
    twice = pd.read_parquet(tmp_path / "twice.parquet")
    assert list(twice.columns) == list(back.columns)
    pd.testing.assert_series_equal(twice["Score"], back["Score"])


def test_csv_to_parquet_and_parquet_to_csv(tmp_path):
    src = make_csv(tmp_path / "accounts.csv")
    result, target = score_file(src, tmp_path / "out.parquet")
    back = pd.read_parquet(target)
    assert back["CA N"].tolist()[0] == "1 234,56"  # CSV inputs stay as typed
    assert back["Score"].dropna().tolist() == result.outputs["Score"].dropna().tolist()
    frame = _typed_frame()
    frame.to_parquet(tmp_path / "typed.parquet", index=False)
    score_file(tmp_path / "typed.parquet", tmp_path / "typed.csv")
    text = (tmp_path / "typed.csv").read_text(encoding="utf-8-sig")
    assert "P1;Alpha;client;120000,5;100000;400000;200;2020-01-05;" in text
    assert "\"'=Delta\"" in text or ";'=Delta;" in text


def test_xlsx_from_csv_then_scored_again_in_place(tmp_path):
    src = make_csv(tmp_path / "accounts.csv", ";", "cp1252")
    out = tmp_path / "scored.xlsx"
    assert main(["score", str(src), "-o", str(out)]) == 0
    first, _ = score_file(src, tmp_path / "check.xlsx")
    wb = openpyxl.load_workbook(out)
    # French CSV headers: Potentiel's sheets are named in French
    assert {"Accounts", "Matrice", "Synthèse", "Journal", "Lecture"} <= set(wb.sheetnames)
    names = set(wb.defined_names.keys())
    assert "_Potentiel.col.score" in {n.lower() for n in names} or \
        any(n.lower().startswith("_potentiel.col.") for n in names)
    ws = wb["Accounts"]
    assert ws["A1"].value == "Export CRM du 01/03/2025"  # rows at the same numbers as the file
    headers = [c.value for c in ws[3]]
    assert headers[:len(HEADER)] == HEADER
    assert "Score" in headers and "Score (Potentiel)" not in headers
    assert ws.cell(row=5, column=2).value == "Beta\nSARL"
    reading = [[c.value for c in r] for r in wb["Lecture"].iter_rows()]
    assert any("Windows-1252" in str(v) for r in reading for v in r)  # the CSV notice kept
    col = headers.index("Score") + 1
    before = [ws.cell(row=r, column=col).value for r in range(4, 9)]
    # scored again in place: the same columns, not duplicated, the same scores
    again, target = score_file(out)
    assert target == out
    ws2 = openpyxl.load_workbook(out)["Accounts"]
    headers2 = [c.value for c in ws2[3]]
    assert headers2 == headers
    assert [ws2.cell(row=r, column=col).value for r in range(4, 9)] == before
    assert before[:4] == pytest.approx(first.outputs["Score"].tolist())
    assert again.previous_category is not None


def test_xlsx_input_to_csv_output(tmp_path):
    from helpers import HEADERS, write_workbook
    book = write_workbook(tmp_path / "book.xlsx", HEADERS,
                          [["C1", "Acme", "Client", "Claire", 120000, 100000, 400000, 0, 4, 30],
                           ["C2", "-Bobo", "Prospect", "Julien", None, None, 900000, None, None,
                            700]])
    result, target = score_file(book, tmp_path / "out.csv")
    back = pd.read_csv(target, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["name"].tolist() == ["Acme", "'-Bobo"]
    assert back["revenue"].tolist() == ["120000", ""]
    assert len(back) == 2 and "Score" in back.columns


def test_without_output_a_csv_is_never_overwritten(tmp_path):
    src = make_csv(tmp_path / "accounts.csv")
    before = src.read_bytes()
    result, target = score_file(src)
    assert target == tmp_path / "accounts.scored.csv" and src.read_bytes() == before
    with pytest.raises(UserError, match="overwrite the file being read"):
        score_file(src, src)


def _zip_xlsx(path):
    openpyxl.Workbook().save(path)
    return path


@pytest.mark.parametrize("name, build, says", [
    ("accounts.csv", lambda p: _zip_xlsx(p), "named .csv but it is an Excel workbook (.xlsx)"),
    ("accounts.csv", lambda p: _typed_frame().to_parquet(p), "named .csv but it is a Parquet"),
    ("accounts.parquet", lambda p: make_csv(p), "named .parquet but it is a text (CSV) file"),
    ("accounts.parquet", lambda p: _zip_xlsx(p), "named .parquet but it is an Excel workbook"),
    ("accounts.xlsx", lambda p: make_csv(p), "named .xlsx but it is a text (CSV) file"),
    ("accounts.xlsx", lambda p: _typed_frame().to_parquet(p), "named .xlsx but it is a Parquet"),
    ("accounts.csv", lambda p: p.write_bytes(b""), "the file is empty"),
    ("accounts.csv", lambda p: p.write_bytes(b"\x00\x01\x02binary\x00"), "a binary file"),
])
def test_lying_extension_is_refused_in_one_line(tmp_path, capsys, name, build, says):
    path = tmp_path / name
    build(path)
    assert main(["score", str(path), "-o", str(tmp_path / "out.csv")]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], err
    assert not (tmp_path / "out.csv").exists()


def test_output_kinds(tmp_path):
    src = make_csv(tmp_path / "accounts.csv")
    with pytest.raises(UserError, match="no macros"):
        score_file(src, tmp_path / "out.xlsm")
    with pytest.raises(UserError, match=r"\.xlsx, \.csv or \.parquet"):
        score_file(src, tmp_path / "out.json")
    assert zipfile.is_zipfile(score_file(src, tmp_path / "o.xlsx")[1])
