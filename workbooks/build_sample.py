"""Build workbooks/portfolio.xlsx, the sample workbook: 200 realistic accounts.

Run ``python workbooks/build_sample.py`` (``make sample``). The output is reproducible:
same data (seeded), same fixed document dates. Never edit the .xlsx by hand.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import xlsxwriter

from potentiel.config import SETTINGS
from potentiel.sample import HEADERS, make_accounts, reps

HERE = Path(__file__).resolve().parent
WEIGHTS = {"revenue": 25, "trend": 10, "potential": 25, "penetration": 0, "solvency": 10,
           "growth": 10, "prescription": 10, "relationship": 5, "accessibility": 5}
BANDS = (("A", 75, "Strategic"), ("B", 50, "Important"), ("C", 25, "Medium"), ("D", 0, "Small"))


def build(path: Path, n: int = 200) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": "Potentiel sample portfolio", "author": "Potentiel",
                       "created": dt.datetime(2026, 1, 1)})
    money = wb.add_format({"num_format": "#,##0 €"})
    ws = wb.add_worksheet("Accounts")
    rows = make_accounts(n)
    ws.add_table(0, 0, len(rows), len(HEADERS) - 1, {
        "name": "Accounts", "style": "Table Style Medium 2",
        "columns": [{"header": h} for h in HEADERS], "data": rows})
    ws.set_column(0, 0, 11)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 4, 14)
    ws.set_column(5, 8, 12, money)
    ws.set_column(9, len(HEADERS) - 1, 11)
    ws.freeze_panes(1, 2)

    st = wb.add_worksheet("Settings")
    bold = wb.add_format({"bold": True})
    st.write_row(0, 0, ["Setting", "Value", "Help"], bold)
    r = 1
    for s in SETTINGS:
        st.write(r, 0, s.key)
        if s.example is not None:
            st.write(r, 1, s.example)
        st.write(r, 2, f"{s.help} ({s.french})")
        r += 1
    for name, w in WEIGHTS.items():
        st.write_row(r, 0, [f"Weight: {name}", w, f"Weight of {name} (Poids). 0 ignores it."])
        r += 1
    for letter, low, label in BANDS:
        st.write_row(r, 0, [f"Band {letter}", low, f"Minimum score for {letter} (Seuil {letter})"])
        st.write_row(r + 1, 0, [f"Label {letter}", label, f"Name of category {letter} (Libellé)"])
        r += 2
    st.set_column(0, 0, 26)
    st.set_column(1, 1, 16)
    st.set_column(2, 2, 90)

    sp = wb.add_worksheet("Salespeople")
    people = reps()
    sp.add_table(0, 0, len(people), 2, {"name": "Salespeople", "style": "Table Style Light 9",
                                        "columns": [{"header": "Nom"}, {"header": "Latitude"},
                                                    {"header": "Longitude"}],
                                        "data": people})
    sp.set_column(0, 0, 20)
    sp.set_column(1, 2, 12)
    wb.close()
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "portfolio.xlsx"
    print(build(out))
