"""The README's sample plan: the sample portfolio (`potentiel.sample`, 200 accounts, 5 reps)
planned, and its Plan sheet rendered to docs/img/plan.png.

    .venv/bin/python docs/img/plan_sample.py

writes out/plan-sample.xlsx (the workbook before) and out/plan-sample-planned.xlsx, prints
what `potentiel plan` prints, and renders the Plan sheet with LibreOffice (soffice) and
pdftoppm (apt-get install libreoffice-calc poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl

from potentiel.headless import plan_file
from potentiel.i18n import use_language
from potentiel.report import console_summary
from potentiel.sample import HEADERS, REPS, make_accounts

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out"
SETTINGS = (("Language", "English"), ("Visits a day", 3), ("Field days a year", 120),
            ("Visits a year A", 24), ("Visits a year B", 12), ("Visits a year C", 6),
            ("Visit length A", 90), ("Revenue target", 9_000_000),
            ("Objectives by last year's revenue", "30%"))
# Laura Petit works part time in the field: 2 visits a day
CAPACITY = {"Laura Petit": 2}


def build(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(list(HEADERS))
    for row in make_accounts(200):
        ws.append(row)
    st = wb.create_sheet("Settings")
    st.append(["Setting", "Value"])
    for row in SETTINGS:
        st.append(list(row))
    sp = wb.create_sheet("Salespeople")
    sp.append(["Name", "Latitude", "Longitude", "Visits a day"])
    for name, lat, lon in REPS:
        sp.append([name, lat, lon, CAPACITY.get(name)])
    wb.save(path)
    return path


def render_plan(planned: Path, png: Path, last_row: int) -> None:
    """The Plan sheet alone (columns A to K: the loads; the counts per category after them
    are left out of the picture), to PDF with LibreOffice, cropped to what is printed."""
    work = OUT / "render-plan"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    wb = openpyxl.load_workbook(planned)
    for ws in list(wb.worksheets):
        if ws.title != "Plan":
            wb.remove(ws)
    wb["Plan"].print_area = f"A1:K{last_row}"
    only = work / "plan.xlsx"
    wb.save(only)
    profile = (work / ".lo-profile").resolve().as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(work), str(only)], check=True, capture_output=True,
                   timeout=300)
    dpi = "200"
    subprocess.run(["pdftoppm", "-gray", "-r", dpi, "-singlefile", str(work / "plan.pdf"),
                    str(work / "page")], check=True, capture_output=True, timeout=300)
    x, y, w, h = _printed_box(work / "page.pgm", margin=20)
    subprocess.run(["pdftoppm", "-png", "-r", dpi, "-singlefile", "-x", str(x), "-y", str(y),
                    "-W", str(w), "-H", str(h), str(work / "plan.pdf"), str(png.with_suffix(""))],
                   check=True, capture_output=True, timeout=300)


def _printed_box(pgm: Path, margin: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the non-white pixels of a binary PGM page, plus a margin."""
    import numpy as np
    data = pgm.read_bytes()
    fields, at = [], 0
    while len(fields) < 4:  # P5, width, height, maxval, each after whitespace
        while data[at:at + 1].isspace():
            at += 1
        start = at
        while not data[at:at + 1].isspace():
            at += 1
        fields.append(data[start:at])
    width, height = int(fields[1]), int(fields[2])
    pixels = np.frombuffer(data[at + 1:at + 1 + width * height], dtype=np.uint8)
    ink = pixels.reshape(height, width) < 250
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    x0, y0 = max(int(cols[0]) - margin, 0), max(int(rows[0]) - margin, 0)
    x1, y1 = min(int(cols[-1]) + margin, width), min(int(rows[-1]) + margin, height)
    return x0, y0, x1 - x0, y1 - y0


def main() -> int:
    OUT.mkdir(exist_ok=True)
    source = build(OUT / "plan-sample.xlsx")
    planned = OUT / "plan-sample-planned.xlsx"
    result, plan, target = plan_file(source, planned, rep="Laura Petit")
    print(console_summary(result, str(target)))
    with use_language(result.language):
        print(plan.text())
    from potentiel.plan.workload import REP_ROW
    render_plan(planned, ROOT / "docs" / "img" / "plan.png", REP_ROW + len(plan.workload.reps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
