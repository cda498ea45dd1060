"""A workbook of a million accounts, made from the sample workbook of 100,000 in seconds.

`workbooks/build_sample.py` builds a workbook through openpyxl, which takes minutes for a
million rows. For the benchmark at Excel's row limit, the sheet's rows are copied instead:
the data rows of a built workbook repeated ``factor`` times, renumbered, each account's id
made unique (``C1000001``); its Excel table and dimension are stretched to match. Same
columns, same kinds of values, so the figures per account compare across sizes.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

_REF = re.compile(rb'(\sr=")([A-Z]*)(\d+)(")')
_ID = re.compile(rb'<c r="A(\d+)" t="s"><v>\d+</v></c>')
_TABLE_REF = re.compile(rb'(ref="A1:[A-Z]+)(\d+)(")')
_DIM = re.compile(rb'(<dimension ref="A1:[A-Z]+)(\d+)(")')


def scale(src: Path, dst: Path, factor: int) -> int:
    """Write ``dst``: ``src`` with the Accounts sheet's data rows repeated ``factor``
    times. Returns the number of accounts (at most 1,048,575: Excel's limit)."""
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    raw = parts[sheet]
    start = raw.index(b'<row r="2"')
    end = raw.index(b"</sheetData>")
    head, rows, tail = raw[:start], raw[start:end], raw[end:]
    n = rows.count(b"<row ")
    factor = min(factor, 1_048_575 // n)
    copies = []
    for k in range(factor):
        shift = k * n

        def renumber(m: re.Match) -> bytes:
            return m.group(1) + m.group(2) + str(int(m.group(3)) + shift).encode() + m.group(4)

        block = _REF.sub(renumber, rows) if shift else rows
        copies.append(_ID.sub(lambda m: b'<c r="A%s" t="inlineStr"><is><t>C%s</t></is></c>'
                              % (m.group(1), m.group(1)), block))
    last = n * factor + 1
    head = _DIM.sub(lambda m: m.group(1) + str(last).encode() + m.group(3), head)
    parts[sheet] = head + b"".join(copies) + tail
    table = "xl/tables/table1.xml"
    parts[table] = _TABLE_REF.sub(lambda m: m.group(1) + str(last).encode() + m.group(3),
                                  parts[table])
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return n * factor
