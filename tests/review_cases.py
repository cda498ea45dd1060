"""The portfolio the review tests share (test_history, test_preview): two criteria only,
prescription (rating × 20) and relationship ((rating − 1) × 25), weighted 50/50 by the
rule file ``two.yaml``, so that every run's categories, and every move when Settings weigh
them otherwise, can be predicted by hand:

    id  presc. rel.  50/50        80/20
    P1  5      1     50.0 B       80.0 A
    P2  0      5     50.0 B       20.0 D
    P3  5      5     100  A       100  A
    P4  2      3     45.0 C       42.0 C
    P5  3      4     67.5 B       63.0 B
    P6  4      2     52.5 B       69.0 B
    P7  1      5     60.0 B       36.0 C
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

RULES = """\
description: two criteria, for predictable previews
weights: {revenue: 0, trend: 0, potential: 0, penetration: 0, solvency: 0, growth: 0,
          prescription: 50, relationship: 50, accessibility: 0}
categories:
  A: {min: 75}
  B: {min: 50}
  C: {min: 25}
  D: {min: 0}
"""
HEADERS = ["id", "name", "status", "prescription", "relationship", "revenue", "distance_km"]
ROWS = [("P1", "One", "client", 5, 1, 1000, 10), ("P2", "Two", "client", 0, 5, 2000, 10),
        ("P3", "Three", "client", 5, 5, 3000, 700), ("P4", "Four", "client", 2, 3, 4000, 10),
        ("P5", "Five", "client", 3, 4, 5000, 10), ("P6", "Six", "client", 4, 2, 6000, 10),
        ("P7", "Seven", "client", 1, 5, 7000, 10)]
NEW_WEIGHTS = (("Weight: prescription", 80), ("Weight: relationship", 20))


def set_settings(path: Path, *rows: tuple[str, object]) -> None:
    """Type rows at the end of the Settings sheet, as a sales manager would."""
    wb = openpyxl.load_workbook(path)
    for label, value in rows:
        wb["Settings"].append([label, value])
    wb.save(path)
