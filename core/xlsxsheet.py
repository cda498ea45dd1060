"""Editing a worksheet part and the styles it uses, cell by cell, values only.

`Sheet` writes values into cells of one worksheet XML tree: numbers, booleans, dates and
inline text, never a formula. A cell that already exists keeps its style (the template's
colours and number formats stay); a new cell takes the column's style or a number format
Potentiel chooses. Text that Excel could read as a formula is stored as text with Excel's
quote prefix. Dates are written as serials from the workbook's own base (1900, or 1904 for
a ``date1904`` workbook). Rows and cells written without their ``r`` reference (Excel
numbers them in order) are numbered on reading, so outputs land in their own rows.

What the XML tells and a reader of values does not is read here too: which cells hold a
formula and whether Excel saved its value (`Sheet.formula_cells`), and which cells are
shown as percentages (`Sheet.percent_cells`, from `Styles.percent_styles`). `Styles`
adds the few cell formats Potentiel needs to the workbook's styles.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lxml import etree

from .arrowtext import POOL, concatenated, float_texts
from .i18n import _
from .objects import factorize_all
from .problems import column_letter
from .safety import FORMULA_STARTS, formula_like
from . import xlsxstream as stream
from .xlsxpackage import MAIN, NS, REL, parse_xml

C, R, V, IS, T, F = (f"{{{MAIN}}}{x}" for x in ("c", "row", "v", "is", "t", "f"))
_REF = re.compile(r"^([A-Z]+)(\d+)$")
_F_REF = re.compile(rb"""<(?:[\w.-]+:)?f\b[^>]*?\sref=["']([^"']+)["']""")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# what makes a text need more than its characters between <t> and </t>: a character XML
# cannot hold or must escape, a line break or a space at either end (xml:space)
_TEXT_AS_IS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff&<>\n]|^\\s|\\s$")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)
# Excel's built-in number formats that show a percentage: 0% and 0.00%
PERCENT_BUILTIN = frozenset({9, 10})
MAX_TEXT = 32767  # Excel's limit for one cell


col_letter = column_letter
# A value in `Sheet.write_columns` that leaves its cell as it is.
KEEP = _KEEP = type("Keep", (), {"__repr__": lambda self: "KEEP"})()


def plain_value(v: Any) -> Any:
    """A value as Python writes it: numpy numbers as int/float/bool, NaN, NaT and NA as
    None (a blank)."""
    if v is None or v is _KEEP:
        return v
    if isinstance(v, np.generic):
        v = v.item()
    if v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    return v


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def split_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref.replace("$", ""))
    if not m:
        raise ValueError(_("not a cell reference: {ref}").format(ref=ref))
    return int(m.group(2)), col_number(m.group(1))


def range_bounds(ref: str) -> tuple[int, int, int, int]:
    """``A1:C5`` → (first row, first col, last row, last col)."""
    a, _, b = ref.replace("$", "").partition(":")
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b or a)
    return r1, c1, r2, c2


def percent_format(code: str | None) -> bool:
    """True when a number format code shows a number as a percentage (×100 and a % sign):
    a ``%`` in its first section (the one for positive numbers) that is not quoted
    (``"%"``), escaped (``\\%``), a fill or padding character (``*%``, ``_%``) or inside
    brackets (``[Red]``, ``[$-40C]``)."""
    if not code:
        return False
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            i = n if end < 0 else end + 1
        elif ch == "[":
            end = code.find("]", i + 1)
            i = n if end < 0 else end + 1
        elif ch in "\\_*":
            i += 2
        elif ch == ";":
            return False
        elif ch == "%":
            return True
        else:
            i += 1
    return False


class Styles:
    """The workbook's cell formats, with the few Potentiel adds (reused, never duplicated)."""

    def __init__(self, package):
        self.package = package
        self.part = "xl/styles.xml"
        self._root = package.xml(self.part) if package.has(self.part) else None
        package.written_last.add(self.part)
        self._cache: dict[tuple, int] = {}
        self._percent: frozenset[int] | None = None
        # the highest cell format index (a cell's s) the worksheets name at or past a
        # count, else -1: set by the workbook (`potentiel.headless.Workbook`)
        self.named_beyond: Callable[[int], int] | None = None
        self._reserved = False
        self._padded: set[str] = set()
        self._foreseen = None  # (count, a Future of `named_beyond(count)`)

    def count(self) -> int | None:
        """How many cell formats (``cellXfs``) the styles part defines; None without."""
        xfs = self._root.find("m:cellXfs", NS) if self._root is not None else None
        return None if xfs is None else len(xfs)

    def foresee(self) -> None:
        """`named_beyond` asked in a second thread now (its search of the sheets' bytes by
        RE2 lets go of Python's lock), for when the first cell format is added."""
        xfs = self._root.find("m:cellXfs", NS) if self._root is not None else None
        if xfs is not None and self.named_beyond is not None and self._foreseen is None:
            import threading
            from concurrent.futures import Future
            count, ask, future = len(xfs), self.named_beyond, Future()

            def run() -> None:
                try:
                    future.set_result(ask(count))
                except BaseException as exc:  # noqa: BLE001 (raised again by result())
                    future.set_exception(exc)
            threading.Thread(target=run, name="potentiel-styles", daemon=True).start()
            self._foreseen = (count, future)

    def percent_styles(self) -> frozenset[int]:
        """Indexes of the cell formats (``cellXfs``, a cell's ``s``) whose number format
        shows a percentage: built-in 9 and 10, or a custom code with a ``%`` (see
        `percent_format`). Read once, before Potentiel adds any."""
        if self._percent is None:
            found: set[int] = set()
            xfs = self._root.find("m:cellXfs", NS) if self._root is not None else None
            if xfs is not None:
                codes = {int(f.get("numFmtId", "-1")): f.get("formatCode")
                         for f in self._root.iterfind("m:numFmts/m:numFmt", NS)
                         if (f.get("numFmtId") or "").isdigit()}
                for k, xf in enumerate(xfs.iterfind("m:xf", NS)):
                    num = xf.get("numFmtId") or "0"
                    num = int(num) if num.isdigit() else 0
                    if percent_format(codes[num]) if num in codes else num in PERCENT_BUILTIN:
                        found.add(k)
            self._percent = frozenset(found)
        return self._percent

    def variant(self, base: int | None, num_fmt: str | None = None, quote: bool = False) -> int | None:
        """Index of a cell format like ``base`` with a number format and/or quote prefix."""
        if self._root is None or (num_fmt is None and not quote):
            return base
        key = (base, num_fmt, quote)
        if key in self._cache:
            return self._cache[key]
        xfs = self._root.find("m:cellXfs", NS)
        if xfs is None:
            return base
        items = xfs.findall("m:xf", NS)
        src = items[base] if base is not None and base < len(items) else (items[0] if items else None)
        if base is not None and src is not None and not quote and \
                src.get("numFmtId") == str(self._num_fmt(num_fmt)):
            self._cache[key] = base  # it has that format already (a column's date style)
            return base
        changes = {}
        if num_fmt is not None:
            changes.update(numFmtId=str(self._num_fmt(num_fmt)), applyNumberFormat="1")
        if quote:
            changes["quotePrefix"] = "1"
        index = self._same_xf(items, src, changes)
        if index is None:  # none like it yet (a second run finds the one the first made)
            index = self._copy_xf(base)
            xf = xfs.findall("m:xf", NS)[index]
            for k, v in changes.items():
                xf.set(k, v)
        self._cache[key] = index
        return index

    @staticmethod
    def _same_xf(items: list, src, changes: dict[str, str]) -> int | None:
        """Index of a cell format equal to ``src`` with ``changes``, if there is one."""
        want = dict(src.attrib) if src is not None else {}
        for k in ("numFmtId", "fontId", "fillId", "borderId"):
            want.setdefault(k, "0")
        want.update(changes)
        children = [etree.tostring(c) for c in src] if src is not None else []
        for k, xf in enumerate(items):
            if dict(xf.attrib) == want and [etree.tostring(c) for c in xf] == children:
                return k
        return None

    def look(self, base: int | None, look) -> int | None:
        """Index of a cell format like ``base`` with a `potentiel.sheet_styles.Look`: its
        number format, a solid fill and a font (bold, italic, size, colour) appended to the
        workbook's fills and fonts. Reused, never duplicated; a workbook without a styles
        part keeps ``base``."""
        if self._root is None:
            return base
        key = ("look", base, look)
        if key in self._cache:
            return self._cache[key]
        xfs = self._root.find("m:cellXfs", NS)
        if xfs is None:
            return base
        index = self._copy_xf(base)
        xf = xfs.findall("m:xf", NS)[index]
        if look.number_format:
            xf.set("numFmtId", str(self._num_fmt(look.number_format)))
            xf.set("applyNumberFormat", "1")
        if look.fill:
            xf.set("fillId", str(self._fill(look.fill)))
            xf.set("applyFill", "1")
        if look.font_colour or look.bold or look.italic or look.size:
            xf.set("fontId", str(self._font(int(xf.get("fontId") or 0), look)))
            xf.set("applyFont", "1")
        self.package.touch(self.part)
        self._cache[key] = index
        return index

    def _reserve(self, xfs: etree._Element) -> None:
        """Before the first cell format is added: a cell that names one past the last the
        file defines (Excel repairs it to the first) keeps showing as it did, the first,
        not a format Potentiel adds at that index: copies of the first stand there."""
        self._reserved = True
        if self._foreseen is not None and self._foreseen[0] == len(xfs):
            top = self._foreseen[1].result()
        else:
            top = self.named_beyond(len(xfs)) if self.named_beyond is not None else -1
        first = xfs.find("m:xf", NS)
        while len(xfs) <= top:
            _append_xf(xfs, first)

    def _copy_xf(self, base: int | None) -> int:
        xfs = self._root.find("m:cellXfs", NS)
        if not self._reserved:
            self._reserve(xfs)
        items = xfs.findall("m:xf", NS)
        src = items[base] if base is not None and base < len(items) else (items[0] if items else None)
        _append_xf(xfs, src)
        xfs.set("count", str(len(xfs)))
        self.package.touch(self.part)
        return len(xfs) - 1

    def _section(self, tag: str) -> etree._Element:
        """The styles part's ``tag`` element, created in schema order if missing."""
        el = self._root.find(f"m:{tag}", NS)
        if el is not None:
            return el
        el = etree.Element(f"{{{MAIN}}}{tag}")
        after = _STYLE_ORDER[:_STYLE_ORDER.index(tag)]
        anchor = None
        for child in self._root:
            if etree.QName(child).localname in after:
                anchor = child
        if anchor is None:
            self._root.insert(0, el)
        else:
            anchor.addnext(el)
        if tag == "fills":  # Excel reserves the first two fills
            for pattern in ("none", "gray125"):
                etree.SubElement(etree.SubElement(el, f"{{{MAIN}}}fill"),
                                 f"{{{MAIN}}}patternFill").set("patternType", pattern)
        elif tag == "fonts":
            font = etree.SubElement(el, f"{{{MAIN}}}font")
            etree.SubElement(font, f"{{{MAIN}}}sz").set("val", "11")
            etree.SubElement(font, f"{{{MAIN}}}name").set("val", "Calibri")
        el.set("count", str(len(el)))
        return el

    def _pad(self, section: etree._Element, attr: str) -> None:
        """Before the first fill or font is added: one a cell format names past those the
        file defines (``attr``: ``fillId``, ``fontId``) keeps showing as the first, not as
        one Potentiel adds at that index: copies of the first stand there."""
        if attr in self._padded:
            return
        self._padded.add(attr)
        named = [int(x) for x in self._root.xpath(f".//m:xf/@{attr}", namespaces=NS)
                 if x.isdigit()]
        first = section[0] if len(section) else None
        while len(section) <= max(named, default=-1):
            section.append(etree.fromstring(etree.tostring(first)) if first is not None
                           else etree.Element(etree.QName(section).text[:-1]))
        section.set("count", str(len(section)))

    def _fill(self, colour: str) -> int:
        key = ("fill", colour)
        if key not in self._cache:
            fills = self._section("fills")
            self._pad(fills, "fillId")
            fill = etree.SubElement(fills, f"{{{MAIN}}}fill")
            pattern = etree.SubElement(fill, f"{{{MAIN}}}patternFill")
            pattern.set("patternType", "solid")
            etree.SubElement(pattern, f"{{{MAIN}}}fgColor").set("rgb", _argb(colour))
            etree.SubElement(pattern, f"{{{MAIN}}}bgColor").set("indexed", "64")
            fills.set("count", str(len(fills)))
            self._cache[key] = len(fills) - 1
        return self._cache[key]

    def _font(self, base: int, look) -> int:
        key = ("font", base, look.font_colour, look.bold, look.italic, look.size)
        if key in self._cache:
            return self._cache[key]
        fonts = self._section("fonts")
        self._pad(fonts, "fontId")
        items = fonts.findall("m:font", NS)
        src = items[base] if base < len(items) else (items[0] if items else None)
        parts = {etree.QName(c).localname: c for c in (src if src is not None else ())}
        parts = {k: etree.fromstring(etree.tostring(v)) for k, v in parts.items()}

        def put(name: str, attr: str | None = None, value: str | None = None) -> None:
            el = etree.Element(f"{{{MAIN}}}{name}")
            if attr:
                el.set(attr, value)
            parts[name] = el

        if look.bold:
            put("b")
        if look.italic:
            put("i")
        if look.size:
            put("sz", "val", f"{look.size:g}")
        if look.font_colour:
            put("color", "rgb", _argb(look.font_colour))
        font = etree.SubElement(fonts, f"{{{MAIN}}}font")
        for name in _FONT_ORDER:
            if name in parts:
                font.append(parts[name])
        fonts.set("count", str(len(fonts)))
        self._cache[key] = len(fonts) - 1
        return self._cache[key]

    def _num_fmt(self, code: str) -> int:
        builtin = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "0%": 9, "0.00%": 10,
                   "m/d/yy h:mm": 22, "yyyy-mm-dd hh:mm": 22}
        if code in builtin:
            return builtin[code]
        fmts = self._root.find("m:numFmts", NS)
        if fmts is None:
            fmts = etree.Element(f"{{{MAIN}}}numFmts")
            self._root.insert(0, fmts)
        used = [int(f.get("numFmtId")) for f in fmts.iterfind("m:numFmt", NS)]
        for f in fmts.iterfind("m:numFmt", NS):
            if f.get("formatCode") == code:
                return int(f.get("numFmtId"))
        # (nor one a cell format names without the file defining it: it would show so)
        named = [int(x) for x in self._root.xpath(".//m:xf/@numFmtId", namespaces=NS)
                 if x.isdigit()]
        new = max([163, *used, *named]) + 1
        el = etree.SubElement(fmts, f"{{{MAIN}}}numFmt")
        el.set("numFmtId", str(new))
        el.set("formatCode", code)
        fmts.set("count", str(len(fmts)))
        return new


def _append_xf(xfs: etree._Element, src: etree._Element | None) -> None:
    """A cell format appended to ``xfs``: a copy of ``src`` (none: the defaults), with
    its number format, font, fill and border ids said."""
    xf = etree.SubElement(xfs, f"{{{MAIN}}}xf")
    if src is not None:
        for k, v in src.attrib.items():
            xf.set(k, v)
        for child in src:
            xf.append(etree.fromstring(etree.tostring(child)))
    for k in ("numFmtId", "fontId", "fillId", "borderId"):
        xf.set(k, xf.get(k, "0"))


_STYLE_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs",
                "cellStyles", "dxfs", "tableStyles", "colors", "extLst")
_FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u",
               "vertAlign", "sz", "color", "name", "family", "charset", "scheme")


def _argb(colour: str) -> str:
    """``#C62828`` → ``FFC62828`` (opaque), as styles.xml spells a colour."""
    return "FF" + colour.lstrip("#").upper()


class Sheet:
    """One worksheet's XML. Its rows stay bytes (`potentiel.xlsxstream`) and the rest is a
    small tree, until something needs the rows as a tree (`rows`, `data`): then the whole
    part is parsed, the slow way, with what was written so far."""

    def __init__(self, package, part: str, styles: Styles, cells: int | None = None,
                 raw: bytes | None = None, seen: "stream.Look | None" = None):
        """``cells``: the most cells a reader of values may allocate (`read_at_once`),
        looked at while the rows are split; ``raw``: the part's bytes, when read already,
        and ``seen`` their `potentiel.xlsxstream.look` for ``cells``."""
        self.package = package
        self.part = part
        self.styles = styles
        self.epoch = EXCEL_EPOCH_1904 if package.date1904 else EXCEL_EPOCH
        self.removed_formula = False
        self.changed = False
        self._patches: list = []
        self._clears: list = []
        self._layout = None
        self._formulas = None
        self._split = None
        # (a count of cell formats, whether an element names one at or past it), when
        # the quick look said (`potentiel.xlsxstream.Look.styles_past`)
        self.styles_seen = (seen.styles, seen.styles_past) \
            if seen is not None and seen.styles_past is not None else None
        if part in package._trees:
            raw = None
        else:
            raw = package.read(part) if raw is None else raw
            self._split = stream.split(raw, cells, seen)
        if self._split is not None:
            self.root = parse_xml(self._split.skeleton(), part)
            self._sheet_data = self.root.find("m:sheetData", NS)
            self._rows = None
        else:
            self._tree(package.xml_with_source(part))
        self.col_styles = self._col_styles()

    def _tree(self, parsed: tuple) -> None:
        self.root, raw = parsed
        if raw is None and self.part not in self.package.changed:
            raw = self.package.read(self.part)
        # Two facts only the raw XML tells cheaply, taken from the bytes just parsed: whether
        # any cell may hold a formula, and where far-away values hide (see `extent`).
        self._may_have_formulas = raw is None or any(
            tag in raw for tag in (b"<f>", b"<f ", b":f>", b":f "))
        self._far = [] if raw is None else _far_values(raw)
        self._may_have_errors = raw is None or b't="e"' in raw or b"t='e'" in raw
        self._sheet_data = self.root.find("m:sheetData", NS)
        if self._sheet_data is None:
            self._sheet_data = etree.SubElement(self.root, f"{{{MAIN}}}sheetData")
        self._rows = {}
        numbered = True
        for row in self._sheet_data.iterfind("m:row", NS):
            r = row.get("r")
            if r is None or len(row) and (row[0].get("r") is None or row[-1].get("r") is None):
                numbered = False  # a writer that leaves r out does so throughout
                break
            self._rows[int(r)] = row
        if not numbered:
            _number_rows_and_cells(self._sheet_data)
            self._rows = {int(row.get("r")): row
                          for row in self._sheet_data.iterfind("m:row", NS)}

    def as_read(self) -> bytes:
        """The part's bytes as read from the file (what is written is not there)."""
        if self._split is not None:
            return self._split.head + self._split.body + self._split.tail
        return self.package.read(self.part)

    def skeleton_as_read(self) -> bytes:
        """The part's bytes around its rows, as split from the file (`streamed`)."""
        return self._split.head + self._split.tail

    def rows_as_read(self) -> bytes:
        """The rows' bytes as split from the file (`streamed`; what is written is not
        there)."""
        return self._split.body

    @property
    def streamed(self) -> bool:
        """True while the rows are bytes (not yet parsed as a tree)."""
        return self._split is not None

    def _materialise(self) -> None:
        """Parse the whole part as a tree, with the cells written so far."""
        if self._split is None:
            return
        skeleton = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                                  standalone=True)
        body = b"".join(self._body_chunks())
        data = skeleton.replace(stream.BODY_MARK, body, 1)
        self._split, self._patches, self._clears = None, [], []
        root = parse_xml(data, self.part)
        self.package._trees[self.part] = root
        self.package.changed.pop(self.part, None)
        self._tree((root, data))
        if self.changed:
            self.package.touch(self.part)

    def _restream(self) -> bool:
        """Back to rows as bytes (the tree serialised), so that many rows can be written
        as a stream; False when the part cannot be kept as bytes."""
        data = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                              standalone=True)
        split = stream.split(data)
        if split is None:
            return False
        self._split, self._patches, self._layout, self._formulas = split, [], None, None
        self._clears = []
        self.root = parse_xml(split.skeleton(), self.part)
        self._sheet_data = self.root.find("m:sheetData", NS)
        self._rows = None
        self.package._trees.pop(self.part, None)
        return True

    def _body_chunks(self):
        if not self._patches and not self._clears:
            return iter((self._split.body,))
        return stream.patched(self._split, self._patches, self._clears, col_letter,
                              self._formula_removed)

    def _formula_removed(self) -> None:
        self.removed_formula = True

    @property
    def rows(self) -> dict[int, etree._Element]:
        """Row number → row element (the part parsed as a tree, the slow way)."""
        self._materialise()
        return self._rows

    @property
    def data(self) -> etree._Element:
        """The ``sheetData`` element (the part parsed as a tree, the slow way)."""
        self._materialise()
        return self._sheet_data

    def layout(self) -> "stream.Layout":
        """Where the values are (`potentiel.xlsxstream.Layout`)."""
        if self._layout is None:
            if self._split is not None:  # the rows as read (what is written is not there)
                self._layout = stream.layout(self._split.body, self._split.prefix,
                                             self._split.plain)
            else:
                rows, cols = self.extent()
                self._layout = stream.Layout(rows, cols, rows)
        return self._layout

    def read_at_once(self, limit: int) -> bool:
        """True when a reader of values can read this sheet whole before `layout` looked
        at it: it certainly allocates at most ``limit`` cells, and the rows are not far
        apart (`potentiel.xlsxstream.Layout.value_rows`). Said from the rows as split:
        rows ascend and no cell names a row below the last (`split` checked both), at most
        2 × rows + 1000 rows up to the last (`Split.rows`), and no cell (valued or not)
        beyond column ``limit // last row`` (`Split.within` when the split looked for the
        same limit, else one search). False when that cannot be said so quickly (rows not
        plain, far apart, or a cell that far)."""
        split = self._split
        if split is None or not split.plain:
            return False
        last = stream.last_row_number(split)
        if last <= 0:
            return False
        rows = split.rows if split.rows is not None else \
            split.body.count(b"<" + split.prefix + b'row r="')
        if last > 2 * rows + 1000:
            return False
        if split.within is not None and split.cells == limit:
            return split.within  # looked at while the rows were split
        return limit // last >= stream.LAST_PLAIN_COL or \
            stream.cell_beyond(split, limit // last) is None

    @property
    def plain(self) -> bool:
        """Its rows are bytes written as Excel writes them (`potentiel.xlsxstream.Split.plain`):
        python-calamine places every cell where Potentiel reads it."""
        return self._split is not None and self._split.plain

    def plain_copy(self, name: str) -> PlainCopy:
        """`plain_copy` of this part as read from the file (``name``: the sheet's, for
        messages)."""
        return plain_copy(parse_xml(self.package.read(self.part), self.part), name)

    def compacted(self, rows: list[int] | None = None) -> bytes | None:
        """The part with its empty rows left out and the others renumbered (see
        `potentiel.xlsxstream.compacted`), for a sparse sheet; else None. ``rows``: the
        rows to keep, when known before `layout` looked (`rows_if_all_held`)."""
        if rows is None:
            rows = self.layout().value_rows
        if rows is None or self._split is None:
            return None
        return stream.compacted(self._split, rows)

    def rows_if_all_held(self, cells: int) -> list[int] | None:
        """`potentiel.xlsxstream.rows_if_all_held` of this sheet's rows (None when they
        are not bytes)."""
        return None if self._split is None else stream.rows_if_all_held(self._split, cells)

    def _col_styles(self) -> dict[int, int]:
        out = {}
        cols = self.root.find("m:cols", NS)
        if cols is not None:
            for c in cols.iterfind("m:col", NS):
                if c.get("style"):
                    for k in range(int(c.get("min")), min(int(c.get("max")), 16384) + 1):
                        out[k] = int(c.get("style"))
        return out

    def formula_cells(self) -> dict[tuple[int, int], bool]:
        """(row, col) → whether Excel saved the formula's value, for every cell holding a
        formula. A saved value is the cell's ``<v>`` text, or an empty ``<v>`` in a text
        cell (``t="str"``, a formula giving ""). A file written by a program that does not
        compute (openpyxl writes an empty ``<v>``, some exports none) has no saved value:
        unknown without Excel. Iterating gives the (row, col) pairs."""
        if self._split is not None:
            return {rc: saved for rc, (saved, _t) in self._stream_formulas().items()}
        if not self._may_have_formulas:
            return {}  # the usual case: no formula at all, no need to walk the cells
        out = {}
        for f in self.data.iterfind("m:row/m:c/m:f", NS):
            cell = f.getparent()
            v = cell.find(V)
            out[split_ref(cell.get("r"))] = v is not None and (bool(v.text) or
                                                              cell.get("t") == "str")
        return out

    def formula_ranges(self) -> list[tuple[int, int, int, int]]:
        """(first row, first col, last row, last col) of every range a formula fills
        (an array formula's ``ref``, a shared formula's): cells there without a formula
        of their own still show its values."""
        if self._split is not None:
            body = self._split.body
            if b"ref=" not in body:
                return []  # (one literal scan: the usual answer)
            refs = [m.group(1).decode("ascii", "replace") for m in _F_REF.finditer(body)]
        else:
            refs = [str(x) for x in self.data.xpath(".//m:f/@ref", namespaces=NS)]
        out = []
        for ref in refs:
            try:
                out.append(range_bounds(ref))
            except ValueError:
                continue  # (not a range: nothing to keep free)
        return out

    def _stream_formulas(self) -> dict[tuple[int, int], tuple[bool, str]]:
        if self._formulas is None:
            self._formulas = stream.formula_cells(self._split.body)
        return self._formulas

    def formula_text(self, r: int, c: int) -> str:
        """The formula in a cell, as typed (``=SUM(A1:A3)``); ``=`` when there is none."""
        if self._split is not None:
            found = self._stream_formulas().get((r, c))
            return "=" + found[1] if found else "="
        row = self.rows.get(r)
        if row is not None:
            for cell in row.iterfind("m:c", NS):
                if cell.get("r") == f"{col_letter(c)}{r}":
                    f = cell.find(F)
                    return "=" + (f.text or "") if f is not None else "="
        return "="

    def percent_cells(self) -> set[tuple[int, int]]:
        """(row, col) of the number cells whose format shows a percentage (Excel shows
        0.117 as 11.7 %). Text, booleans and errors are left out."""
        styles = sorted(self.styles.percent_styles())
        if not styles:
            return set()  # the usual case: no % format in the workbook
        if self._split is not None:
            return stream.styled_cells(self._split.body, styles, 0 in styles)
        test = " or ".join([f"@s='{k}'" for k in styles] + (["not(@s)"] if 0 in styles else []))
        refs = etree.XPath(f"m:row/m:c[({test}) and (not(@t) or @t='n') and m:v]/@r",
                           namespaces=NS, smart_strings=False)(self.data)
        return {split_ref(r) for r in refs}

    def error_cells(self) -> dict[tuple[int, int], str]:
        """(row, col) → the error value (``"#N/A"``) of every cell holding one: the value
        readers such as python-calamine give as an empty text."""
        if self._split is not None:
            return stream.error_cells(self._split.body)
        if not self._may_have_errors:
            return {}
        out = {}
        for c in self.data.iterfind("m:row/m:c[@t='e']", NS):
            ref = c.get("r")
            if ref and _REF.match(ref):
                out[split_ref(ref)] = (c.findtext(V) or "#N/A").strip()
        return out

    def extent(self, refine_above: int = 0) -> tuple[int, int]:
        """Last row and last column holding a value, as a reader of values sees them.

        A cheap upper bound first, from the first and last cell of every row (cells are
        in column order, but a hostile file may reverse them); a bound above
        ``refine_above`` is refined to the cells that hold a value."""
        if self._split is not None:
            lay = self.layout()
            return lay.last_row, lay.last_col
        ends = []
        for row in self.data:
            if len(row):
                ends += (row[0].get("r") or "", row[-1].get("r") or "")
        # A far cell hidden in the middle of a row (out of column order) is found in the
        # raw XML: only references beyond column ZZ or row 99999 are looked at.
        far = self._far
        rows, cols = _bound(ends + far, list(self.rows))
        if rows * cols > refine_above:
            # two queries, not one union: libxml2 sorts a union in quadratic time
            cells = [_XP_FIRST_VALUE(self.data), _XP_LAST_VALUE(self.data)]
            rows, cols = _bound(cells[0] + cells[1] + far,
                                [int(r) for r in _XP_VALUE_ROWS(self.data) if r.isdigit()])
        return rows, cols

    def _row(self, r: int) -> etree._Element:
        row = self.rows.get(r)
        if row is None:
            row = etree.Element(R)
            row.set("r", str(r))
            last = getattr(self, "_last_row", None)
            if last is None or last not in self.rows:
                last = max(self.rows, default=0)
            if r > last:  # the usual case, rows added below: no scan of the rows above
                self.data.append(row)
                self._last_row = r
            else:
                later = min(k for k in self.rows if k > r)
                self.rows[later].addprevious(row)
                self._last_row = last
            self.rows[r] = row
        return row

    def _cells(self, row: etree._Element) -> dict[int, etree._Element]:
        out = {}
        for c in row.iterfind("m:c", NS):
            ref = c.get("r")
            if ref:
                out[col_number(ref.rstrip("0123456789"))] = c
        return out

    def _last_col(self, row: etree._Element) -> int:
        if len(row) == 0:
            return 0
        last = row[len(row) - 1]
        ref = last.get("r") if last.tag == C else None
        return col_number(ref.rstrip("0123456789")) if ref else 1 << 20

    def write_row(self, r: int, values: dict[int, Any], formats: dict[int, str] | None = None) -> None:
        """Set the cells of row ``r``: column → value (None blanks the cell, keeping its style)."""
        self.write_rows({r: values}, formats)

    def write_rows(self, rows: dict[int, dict[int, Any]], formats: dict[int, str] | None = None) -> None:
        """Set many cells at once: row → column → value. The new cells are written as XML
        text and parsed in one go, which is what makes 100,000 cells quick."""
        formats = formats or {}
        if self._split is not None:
            rows = {r: v for r, v in rows.items() if v}
            if rows:
                cols = sorted({c for v in rows.values() for c in v})
                numbers = sorted(rows)
                keep = _KEEP
                columns = [(c, [rows[r].get(c, keep) for r in numbers]) for c in cols]
                self.write_columns(numbers, columns, formats)
            return
        texts: list[str] = []
        places: list[tuple] = []  # (row element, existing cell or None, column, append?)
        letters = {}
        for r, values in rows.items():
            if not values:
                continue
            row = self._row(r)
            row.attrib.pop("spans", None)  # an optimisation hint that would now be wrong
            last = self._last_col(row)
            existing = self._cells(row) if last >= min(values) else {}
            for col, value in sorted(values.items()):
                old = existing.get(col)
                if old is None and value is None:
                    continue
                if old is not None:
                    if old.find(F) is not None:
                        self.removed_formula = True
                    style = int(old.get("s")) if old.get("s") else None
                else:
                    style = self.col_styles.get(col)
                    fmt = formats.get(col)
                    if fmt and value is not None and not isinstance(value, str):
                        style = self.styles.variant(style, num_fmt=fmt)
                letter = letters.get(col) or letters.setdefault(col, col_letter(col))
                texts.append(self._cell_xml(f"{letter}{r}", value, style))
                places.append((row, old, col, old is None and col > last))
                if old is None and col > last:
                    last = col
        if not texts:
            return
        holder = etree.fromstring(f'<x xmlns="{MAIN}">' + "".join(texts) + "</x>")
        for cell, (row, old, col, at_end) in zip(list(holder), places):
            if at_end:
                row.append(cell)
            elif old is not None:
                row.replace(old, cell)
            else:
                cells = self._cells(row)
                after = [c for c in cells if c > col]
                if after:
                    cells[min(after)].addprevious(cell)
                else:
                    row.append(cell)
        self.changed = True

    def _cell_xml(self, ref: str, value: Any, style: int | None) -> str:
        return f'<c r="{ref}' + self._cell_tail(value, style)[1]

    def _cell_tail(self, value: Any, style: int | None) -> tuple[int | None, str]:
        """A cell's XML after its reference (from the quote closing ``r="A1``), and the
        cell format it takes: numbers, booleans, dates (serials, a date format), text
        inline (a formula-like text with Excel's quote prefix, never a formula)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return style, f'"{_s(style)}/>'
        if value is True or value is False:
            return style, f'"{_s(style)} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, float)):
            return style, f'"{_s(style)}><v>{_number(value)}</v></c>'
        if isinstance(value, (dt.datetime, dt.date)):
            if not isinstance(value, dt.datetime):
                value = dt.datetime(value.year, value.month, value.day)
            serial = (value - self.epoch).total_seconds() / 86400
            style = self.styles.variant(style, num_fmt="yyyy-mm-dd hh:mm")
            return style, f'"{_s(style)}><v>{_number(serial)}</v></c>'
        text = _XML_BAD.sub("", str(value))[:MAX_TEXT]
        if formula_like(text):
            # Stored as text and shown as typed: Excel's quote prefix, never a formula.
            style = self.styles.variant(style, quote=True)
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        return style, (f'"{_s(style)} t="inlineStr"><is><t{space}>{_escape(text)}</t>'
                       "</is></c>")

    def _set(self, cell: etree._Element, value: Any) -> None:
        """Blank one cell in place (its style stays)."""
        for child in list(cell):
            if child.tag == F:
                self.removed_formula = True
            cell.remove(child)
        for attr in ("t", "cm", "vm", "ph"):
            cell.attrib.pop(attr, None)


    def clear(self, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
        """Blank the values in a rectangle (styles stay)."""
        if self._split is not None:
            if last_row >= first_row and last_col >= first_col:
                self._clears.append(stream.Clear(first_row, last_row, first_col, last_col))
                self.changed = True
            return
        rows = self.rows  # the rows there are (not every row of a range to the sheet's end)
        for r in sorted(k for k in rows if first_row <= k <= last_row):
            row = rows[r]
            for col, cell in self._cells(row).items():
                if first_col <= col <= last_col and len(cell):
                    self._set(cell, None)
                    self.changed = True

    def last_row_with_value(self, col: int = 1) -> int:
        best = 0
        for r, row in self.rows.items():
            cell = self._cells(row).get(col)
            if cell is not None and len(cell):
                best = max(best, r)
        return best

    def set_width(self, col: int, width: float, style: int | None = None) -> None:
        """A width for a column that has none yet (a user's width is kept), and with
        ``style`` a cell format that the column's new cells take (the Log's time column)."""
        cols = self.root.find("m:cols", NS)
        if cols is None:
            cols = etree.Element(f"{{{MAIN}}}cols")
            self._sheet_data.addprevious(cols)
        for c in cols.iterfind("m:col", NS):
            if int(c.get("min")) <= col <= int(c.get("max")):
                return
        el = etree.SubElement(cols, f"{{{MAIN}}}col")
        el.set("min", str(col))
        el.set("max", str(col))
        if style is not None:
            el.set("style", str(style))
            self.col_styles[col] = style
        el.set("width", f"{width:g}")
        el.set("customWidth", "1")
        items = sorted(cols, key=lambda c: int(c.get("min")))
        for c in items:
            cols.append(c)
        self.changed = True

    def set_styles(self, styles: dict[tuple[int, int], int]) -> None:
        """Give cells a cell format: (row, col) → index in ``cellXfs``. A missing cell is
        created blank (it then shows the format's fill, and a value written later keeps
        the format)."""
        by_row: dict[int, dict[int, int]] = {}
        for (r, c), s in styles.items():
            by_row.setdefault(r, {})[c] = s
        for r, cols in sorted(by_row.items()):
            row = self._row(r)
            row.attrib.pop("spans", None)
            cells = self._cells(row)
            for col, s in sorted(cols.items()):
                cell = cells.get(col)
                if cell is None:
                    cell = etree.Element(C)
                    cell.set("r", f"{col_letter(col)}{r}")
                    after = [k for k in cells if k > col]
                    if after:
                        cells[min(after)].addprevious(cell)
                    else:
                        row.append(cell)
                    cells[col] = cell
                cell.set("s", str(s))
        if styles:
            self.changed = True

    def print_landscape(self) -> None:
        """Print the sheet landscape on A4, one page wide (a sheet without a page setup)."""
        if self.root.find("m:pageSetup", NS) is not None:
            return
        pr = self.root.find("m:sheetPr", NS)
        if pr is None:
            pr = etree.Element(f"{{{MAIN}}}sheetPr")
            self.root.insert(0, pr)
        if pr.find("m:pageSetUpPr", NS) is None:
            fit = etree.Element(f"{{{MAIN}}}pageSetUpPr")
            fit.set("fitToPage", "1")
            outline = pr.find("m:outlinePr", NS)
            if outline is not None:
                outline.addnext(fit)
            else:
                pr.append(fit)
        setup = etree.Element(f"{{{MAIN}}}pageSetup")
        for k, v in (("paperSize", "9"), ("fitToWidth", "1"), ("fitToHeight", "0"),
                     ("orientation", "landscape")):
            setup.set(k, v)
        margins = self.root.find("m:pageMargins", NS)
        if margins is not None:
            margins.addnext(setup)
        else:
            later = ("headerFooter", "rowBreaks", "colBreaks", "customProperties",
                     "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                     "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                     "webPublishItems", "tableParts", "extLst")
            for child in self.root:
                if etree.QName(child).localname in later:
                    child.addprevious(setup)
                    break
            else:
                self.root.append(setup)
        self.changed = True

    def add_drawing(self, rid: str) -> None:
        """Point the sheet at its drawing part (relationship ``rid``), in schema order."""
        if self.root.find("m:drawing", NS) is not None:
            return
        el = etree.Element(f"{{{MAIN}}}drawing")
        el.set(f"{{{REL}}}id", rid)
        later = ("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
                 "controls", "webPublishItems", "tableParts", "extLst")
        for child in self.root:
            if etree.QName(child).localname in later:
                child.addprevious(el)
                break
        else:
            self.root.append(el)
        self.changed = True

    def finish(self) -> None:
        """Fix the dimension and mark the part changed (rows kept as bytes are written
        by the package in a stream, `potentiel.xlsxstream.patched`)."""
        if not self.changed:
            return
        if self._split is not None:
            # a formula written over (known before the stream runs: the calculation
            # chain is dropped before the package is written)
            for r, c in self._stream_formulas():
                if any(r1 <= r <= r2 and c1 <= c <= c2 for r1, r2, c1, c2 in
                       ((x.r1, x.r2, x.c1, x.c2) for x in self._clears)) or any(
                        (i := p.position(r)) is not None and c in p.cols and
                        p.kinds[p.col_pos[c]][i] != stream.KEEP_CELL for p in self._patches):
                    self.removed_formula = True
                    break
            dim = self.root.find("m:dimension", NS)
            if dim is not None and self._patches:
                try:
                    r1, c1, r2, c2 = range_bounds(dim.get("ref") or "A1")
                except ValueError:
                    r2, c2 = 1, 1
                last_row = max([r2] + [int(p.rows.max()) for p in self._patches if len(p.rows)])
                last_col = max([c2] + [p.cols[-1] for p in self._patches if p.cols])
                dim.set("ref", f"A1:{col_letter(last_col)}{last_row}")
            self.package.produce(self.part, self._chunks)
            return
        last_row = max(self.rows, default=1)
        last_col = 1
        for row in self.rows.values():
            cells = row.findall("m:c", NS)
            if cells:
                last_col = max(last_col, split_ref(cells[-1].get("r"))[1])
        dim = self.root.find("m:dimension", NS)
        if dim is not None:
            dim.set("ref", f"A1:{col_letter(last_col)}{last_row}")
        self.package.touch(self.part)

    def release_written(self) -> None:
        """Forget the cells written and the rows as read (after the package was written:
        its part is then produced no more; what the reading found of the rows, `layout`,
        stays)."""
        if self._split is not None and (self._patches or self._clears):
            self.layout()
            self._patches, self._clears = [], []
            self._split = dataclasses.replace(self._split, body=b"")
            if self.part in self.package.producers:
                self.package.producers[self.part] = _spent(self.part)

    def _chunks(self):
        """The part's bytes in chunks: the tree around the rows, the rows patched."""
        skeleton = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                                  standalone=True)
        head, mark, tail = skeleton.partition(stream.BODY_MARK)
        if not mark:  # the mark is gone only if the rows were parsed: never here
            raise ValueError(f"{self.part}: rows mark lost")
        yield head
        yield from self._body_chunks()
        yield tail

    def write_columns(self, rows: Sequence[int], columns: Sequence[tuple[int, Any]],
                      formats: dict[int, str] | None = None) -> None:
        """Set the cells of many rows a column at a time: ``rows`` ascending sheet rows,
        ``columns`` (column, values) with one value per row (None blanks the cell and
        keeps its style; `KEEP` leaves it as it is). Each column is rendered at once:
        numbers by numpy, other values once per distinct value."""
        formats = formats or {}
        if self._split is None and not self._restream():
            self.write_rows({r: {c: plain_value(v[i]) for c, v in columns if v[i] is not _KEEP}
                             for i, r in enumerate(rows)}, formats)
            return
        numbers = np.asarray(rows, dtype=np.int64)
        plans = [(col, self._column(vals, self.col_styles.get(col), formats.get(col)))
                 for col, vals in sorted(columns, key=lambda x: x[0])]
        cols = [c for c, _p in plans]
        letters = [col_letter(c) for c in cols]

        heads = [f'<c r="{letter}' for letter in letters]

        def render_rows(i0: int, i1: int) -> pa.StringArray:
            """The value cells of rows i0–i1, joined per row (blanks and kept cells left
            out, "" for a row writing none): made by Arrow's string kernels a column at a
            time (`pyarrow.compute`), no Python step per row or cell."""
            if not plans:
                return pa.array([""] * (i1 - i0), pa.string(), memory_pool=POOL)
            rows_text = pc.cast(pa.array(numbers[i0:i1]), pa.string(), memory_pool=POOL)
            pieces: list[Any] = []
            for head, (_c, plan) in zip(heads, plans):
                tails, every = plan.cell_tails(i0, i1)
                if every:  # every cell written: its pieces joined with the others' at once
                    pieces += [head, rows_text, tails]
                else:  # null where the cell is not written (its reference left out too)
                    pieces.append(pc.binary_join_element_wise(head, rows_text, tails, "",
                                                              memory_pool=POOL))
            # null_handling "replace", not "skip": Arrow 26's "skip" drops a row whose
            # values are all null, and the rows would shift
            joined = pc.binary_join_element_wise(*pieces, "", null_handling="replace",
                                                 null_replacement="", memory_pool=POOL)
            if len(joined) != i1 - i0 or joined.null_count:
                raise AssertionError(f"rows {i0}–{i1}: {len(joined)} rendered")
            return joined

        def render(j: int, i: int, ref: str, style: int | None) -> str:
            return self._cell_xml(ref, plain_value(plans[j][1].value(i)), style)

        self._patches.append(stream.Patch(numbers, cols, [p.kinds for _c, p in plans],
                                          [p.styles for _c, p in plans], render_rows, render))
        self.changed = True

    def _column(self, values: Any, base: int | None, fmt: str | None) -> "_Column":
        """How one column's cells are written: numbers by numpy, other values once per
        distinct value (`_Column`)."""
        arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values, dtype=object)
        if arr.dtype.kind in "iu":
            arr = arr.astype(float)
        elif arr.dtype == object and len(arr) > 64:
            listed = arr.tolist()
            if set(map(type, listed)) - {type(None)} == {float}:
                # Python floats held as objects (a blank as None): written as numbers
                # are, a column at a time, None as the blank NaN is (the same cells)
                arr = np.array(listed, dtype=float)
        none = -1 if base is None else base
        if arr.dtype.kind == "f":
            style = self.styles.variant(base, num_fmt=fmt) if fmt else base
            finite = np.isfinite(arr)
            kinds = np.where(finite, _VALUE, _BLANK).astype(np.int8)
            styles = np.where(finite, -1 if style is None else style, none).astype(np.int32)
            return _Column(arr, kinds, styles, numeric=f'"{_s(style)}><v>')
        codes, uniques = _distinct(arr)
        n = len(uniques)
        head = f'"{_s(base)} t="inlineStr"><is><t>'
        quick = _plain_tails(uniques, head)  # plain texts at once, the other values one by one
        tails: dict[int, str] = {}
        kinds, styles = [_VALUE] * n, [none] * n
        for i in range(n) if quick is None else np.flatnonzero(
                quick.is_null().to_numpy(zero_copy_only=False)).tolist():
            v = uniques[i]
            if type(v) is str and len(v) <= MAX_TEXT and not v.startswith(FORMULA_STARTS) \
                    and _TEXT_AS_IS.search(v) is None:  # a text written as it is
                tails[i] = head + v + "</t></is></c>"
                continue
            if v is _KEEP:
                kinds[i] = _KEEP_CELL
                continue
            v = plain_value(v)
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                kinds[i] = _BLANK  # a blank: only over an existing cell, keeping its style
                continue
            style = base
            if fmt and not isinstance(v, str):
                style = self.styles.variant(base, num_fmt=fmt)
            style, tails[i] = self._cell_tail(v, style)
            styles[i] = -1 if style is None else style
        if quick is None:
            table = pa.array([tails.get(i) for i in range(n)], pa.string(), memory_pool=POOL)
        elif tails:
            mask = np.zeros(n, dtype=bool)
            mask[list(tails)] = True
            table = pc.replace_with_mask(quick, pa.array(mask), pa.array(
                [tails[i] for i in sorted(tails)], pa.string()), memory_pool=POOL)
        else:
            table = quick
        return _Column(arr, np.array(kinds, dtype=np.int8)[codes],
                       np.array(styles, dtype=np.int32)[codes], codes=codes, tails=table)


_KEEP_CELL, _BLANK, _VALUE = 0, 1, 2  # what a patch does to a cell (see xlsxstream.Patch)


def _distinct(arr: np.ndarray) -> tuple[np.ndarray, Any]:
    """(codes, distinct values) of a column, blanks (None, NaN) as one distinct value: an
    object column through `potentiel.objects.factorize_all` (by identity first: most
    output columns spread a few objects to every account; a column of a different object
    in nearly every row is not hashed, as formatting each row once costs the same), any
    other by pandas."""
    if arr.dtype != object:
        return pd.factorize(arr, use_na_sentinel=False)
    return factorize_all(arr, shared_only=True)


# a character that makes a text need more than its characters between <t> and </t> when it
# is not the first or the last (RE2's syntax, for Arrow): one XML cannot hold, a line break
_NOT_PLAIN_INSIDE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\n\x{fffe}\x{ffff}]"


def _plain_tails(uniques: Any, head: str) -> pa.StringArray | None:
    """The cell tails of the distinct texts of a column (``head``, the text escaped,
    ``</t></is></c>``), made at once by Arrow's string kernels when every text is plain
    (none `formula_like`, none with spaces at an end, a line break, a character XML
    forbids, or over `MAX_TEXT`; none empty), null for each value that is not text. None
    when any text is not plain, or there are few (each value then goes through
    `Sheet._cell_tail`), or one cannot be held as UTF-8 (a lone surrogate)."""
    values = uniques.tolist() if isinstance(uniques, np.ndarray) else list(uniques)
    is_text = [type(v) is str for v in values]
    if sum(is_text) < 64:  # few: one at a time is as quick
        return None
    try:
        texts = pa.array([v if t else None for v, t in zip(values, is_text)], pa.string(),
                         memory_pool=POOL)
    except (UnicodeError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return None
    length = pc.utf8_length(texts, memory_pool=POOL)
    if pc.min(length).as_py() < 1 or pc.max(length).as_py() > MAX_TEXT:
        return None
    firsts = pc.unique(pc.utf8_slice_codeunits(texts, 0, 1, memory_pool=POOL)).to_pylist()
    lasts = pc.unique(pc.utf8_slice_codeunits(texts, -1, memory_pool=POOL)).to_pylist()
    if any(c is not None and (c.isspace() or formula_like(c)) for c in firsts) or \
            any(c is not None and c.isspace() for c in lasts):
        return None
    if pc.any(pc.match_substring_regex(texts, _NOT_PLAIN_INSIDE, memory_pool=POOL)).as_py():
        return None
    data = concatenated(pc.drop_null(texts))  # the texts' bytes: each search in C
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        if char.encode() in data:  # (seldom)
            texts = pc.replace_substring(texts, char, escaped, memory_pool=POOL)
    return pc.binary_join_element_wise(head, texts, "</t></is></c>", "", memory_pool=POOL)


class _Column:
    """One column of a patch: its values, what is done to each cell (``kinds``), the
    style each written cell takes (-1: none), and its cell XML for a range of rows."""

    def __init__(self, values, kinds, styles, numeric: str | None = None, codes=None,
                 tails: pa.StringArray | None = None):
        self.values, self.kinds, self.styles = values, _uniform(kinds), _uniform(styles)
        if codes is not None and len(tails) < 2 ** 31:
            codes = codes.astype(np.int32)
        self.numeric, self.codes = numeric, codes
        # `cell_tails`' tail per code, then null (a cell not written)
        self._table: pa.StringArray | None = None if tails is None else _then_null(tails)

    def value(self, i: int) -> Any:
        return self.values[i]

    def cell_tails(self, i0: int, i1: int) -> tuple[pa.StringArray, bool]:
        """Rows i0–i1's cells after their reference, null where the cell is not written,
        and whether every one is: a number as written in ``<v>`` (whole numbers without a
        decimal point, `number_texts`), else the cell's XML after its reference
        (`Sheet._cell_tail`). Each distinct tail is made once for the column."""
        if self._table is None:  # a number column's: its texts made once
            self.codes, texts = _number_codes(self.values)
            self._table = _then_null(pc.binary_join_element_wise(
                self.numeric, texts, "</v></c>", "", memory_pool=POOL))
        codes = self.codes[i0:i1]
        kinds = self.kinds[i0:i1]
        every = kinds.strides == (0,) and (not len(kinds) or kinds[0] == _VALUE)
        if not every:
            unwritten = kinds != _VALUE
            every = not unwritten.any()
            if not every:
                codes = np.where(unwritten, len(self._table) - 1, codes)
        return pc.take(self._table, pa.array(codes), memory_pool=POOL), every


def _then_null(tails: pa.StringArray) -> pa.StringArray:
    """``tails``, then one null: the code of a cell not written (`_Column.cell_tails`)."""
    return pa.concat_arrays([tails, pa.nulls(1, pa.string())], memory_pool=POOL)


def number_texts(arr: np.ndarray) -> list[str]:
    """Floats as a cell's ``<v>`` writes them: a whole number below 10¹⁵ without a decimal
    point (``154000``), any other by its shortest repr (``65.8``, ``1e+16``); NaN and ±inf
    as ``0`` (such cells are not written). Each distinct value is formatted once (an
    output column holds few: scores to 0.1, rates to 0.0001), then spread: several times
    faster than numpy's float-to-text cast of every element."""
    codes, texts = _number_codes(arr)
    return np.array(texts.to_pylist() or [""], dtype=object)[codes].tolist()


def _number_codes(arr: np.ndarray) -> tuple[np.ndarray, pa.StringArray]:
    """(code per element, text per code) of `number_texts`. The distinct values are
    written by Arrow's casts where they write what Python does: whole numbers as
    integers, the others from 0.0001 to 10¹⁰ by their shortest digits (both round-trip,
    without an exponent there); any other by ``repr``."""
    codes, distinct = pd.factorize(np.where(np.isfinite(arr), arr, 0.0))
    distinct = np.asarray(distinct, dtype=float)
    size = np.abs(distinct)
    whole = (distinct == np.trunc(distinct)) & (size < 1e15)
    return codes, float_texts(distinct, whole, ~whole & ((size < 1e-4) | (size >= 1e10)), repr)


def _uniform(a: np.ndarray) -> np.ndarray:
    """``a`` held as one value (a read-only view) when all its elements are that value:
    most output columns have one style and every cell written."""
    if len(a) > 1 and bool((a == a[0]).all()):
        return np.broadcast_to(a[:1].copy(), a.shape)
    return a


def _spent(part: str):
    """A part's producer once its cells were released: writing it again is a fault."""
    def chunks():
        raise RuntimeError(f"{part}: written already; its cells were released")
        yield b""
    return chunks


def _s(style: int | None) -> str:
    return "" if style is None else f' s="{style}"'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_XP_FIRST_VALUE = etree.XPath("m:row/m:c[m:v or m:is][1]/@r", namespaces=NS, smart_strings=False)
_XP_LAST_VALUE = etree.XPath("m:row/m:c[m:v or m:is][last()]/@r", namespaces=NS,
                             smart_strings=False)
_XP_VALUE_ROWS = etree.XPath("m:row[m:c/m:v or m:c/m:is]/@r", namespaces=NS, smart_strings=False)


@dataclasses.dataclass
class PlainCopy:
    """A worksheet part as python-calamine is to read it when its rows are not plain
    (`plain_copy`): ``xml``, the part; ``rows``, the numbers of its rows holding a value,
    ascending, when it keeps only those (renumbered 1, 2, 3 …: they stand far apart),
    else None; ``last_row`` and ``last_col`` (1-based), the farthest value's row and
    column, as it places them."""

    xml: bytes
    rows: list[int] | None
    last_row: int
    last_col: int

    @property
    def cells(self) -> int:
        """The cells python-calamine allocates reading ``xml``."""
        return (len(self.rows) if self.rows is not None else self.last_row) * self.last_col


_ANY_REF = re.compile(r"^([A-Za-z]+)0*([1-9][0-9]*)$")
_PLAIN_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="'
               + MAIN.encode() + b'"><sheetData>')


def plain_copy(root: etree._Element, sheet: str) -> PlainCopy:
    """The rows of a worksheet part parsed as a tree (``root``, changed: every row and
    cell given its ``r``), written as Excel writes them, for python-calamine: it is more
    lenient than an XML parser (a name after any prefix, an element of any namespace, the
    last of two ``r``), so that what it reads of rows written otherwise could stand
    elsewhere than Potentiel reads it, and past what was proved it allocates. Only
    SpreadsheetML's rows and cells are kept, as Potentiel reads them; each cell holding a
    value (``<v>``, or an inline string's text) with its ``s`` and ``t``, no formula (its
    saved value is what is read). Each cell stands where its reference says; when the
    rows holding a value stand far apart (more than 2 × rows + 1,000 up to the last),
    they are kept alone, renumbered 1, 2, 3 …, each cell in the row that holds it (as
    `potentiel.xlsxstream.compacted` does). Raises `UserError` for a reference that names
    no cell of Excel's (sheet and reference said)."""
    from xml.sax.saxutils import escape, quoteattr
    from .problems import UserError

    def refused(ref: str) -> UserError:
        return UserError(_("sheet {name}: a cell's reference \"{ref}\" names no cell of "
                           "Excel's (A1 to XFD1048576); open the file in Excel and save it "
                           "again").format(name=sheet, ref=ref[:40]))

    data = root.find("m:sheetData", NS)
    held: list[tuple[int, list[tuple[int, int, bytes]]]] = []  # row element → its cells
    if data is not None:
        _number_rows_and_cells(data, every=True)
        for row in data.iterfind("m:row", NS):
            cells = []
            for c in row.iterfind("m:c", NS):
                v, inline = c.find(V), c.find(IS)
                if v is None and inline is None:
                    continue  # (a reader of values places no blank)
                ref = c.get("r") or ""
                m = _ANY_REF.match(ref)
                if m is None or len(m.group(2)) > 7 or int(m.group(2)) > 1_048_576:
                    raise refused(ref)
                attrs = "".join(f" {k}={quoteattr(c.get(k))}" for k in ("s", "t")
                                if c.get(k) is not None)
                if inline is not None and (v is None or c.get("t") == "inlineStr"):
                    text = "".join(t.text or "" for t in inline.iterfind("m:t", NS)) + \
                        "".join(t.text or "" for t in inline.iterfind("m:r/m:t", NS))
                    inner = f'<is><t xml:space="preserve">{escape(text)}</t></is>'
                else:
                    inner = f"<v>{escape(v.text or '')}</v>"
                letters = m.group(1).upper()
                cells.append((int(m.group(2)), col_number(letters),
                              f'{letters}{{}}"{attrs}>{inner}</c>'.encode()))
            if cells:
                r = int(row.get("r"))
                if r > 1_048_576:
                    raise refused(f"{column_letter(cells[0][1])}{r}")
                held.append((r, cells))
    held.sort(key=lambda x: x[0])
    numbers = [r for r, _c in held]
    far = bool(numbers) and numbers[-1] > 2 * len(numbers) + 1000
    placed: dict[int, dict[int, bytes]] = {}
    for k, (r, cells) in enumerate(held, 1):
        for at, col, cell in cells:
            placed.setdefault(k if far else at, {})[col] = cell
    last_row = max(placed, default=0)
    last_col = max((max(cells) for cells in placed.values()), default=0)
    out = [_PLAIN_HEAD]
    for r in sorted(placed):
        cells = placed[r]
        out.append(b'<row r="%d">' % r + b"".join(
            b'<c r="' + cells[col].replace(b"{}", b"%d" % r, 1) for col in sorted(cells))
            + b"</row>")
    out.append(b"</sheetData></worksheet>")
    return PlainCopy(b"".join(out), numbers if far else None,
                     numbers[-1] if far else last_row, last_col)


def _number_rows_and_cells(data: etree._Element, every: bool = False) -> None:
    """Give every row and cell its ``r`` as Excel reads a sheet written without them: a
    row without ``r`` follows the row before it, a cell without ``r`` the cell before it
    (the first ones are row 1 and column A; ``every``: a row whose ``r`` is not a number
    too). Changes the tree only, which is written back only if Potentiel writes into the
    sheet."""
    r = 0
    for row in data.iterfind("m:row", NS):
        given = row.get("r")
        r = int(given) if given and given.isdigit() else r + 1
        if given is None or every and not given.isdigit():
            row.set("r", str(r))
        col = 0
        for cell in row.iterfind("m:c", NS):
            ref = cell.get("r")
            if ref:
                m = _REF.match(ref.upper())
                col = col_number(m.group(1)) if m else col + 1
            else:
                col += 1
                cell.set("r", f"{col_letter(col)}{r}")


_FAR_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Za-z]{3,}[0-9]+|[A-Za-z]{1,2}[0-9]{6,})"'
                       rb'[^>]*?(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)


def _far_values(raw: bytes) -> list[str]:
    """References of cells holding a value beyond column ZZ or row 99,999."""
    found = []
    for m in _FAR_CELL.finditer(raw):
        body = m.group(2) or b""
        if any(tag in body for tag in (b"<v", b":v>", b"<is", b":is>")):
            found.append(m.group(1).decode("ascii").upper())
    return found


def _bound(refs: list[str], rows: list[int]) -> tuple[int, int]:
    """The largest row and column among cell references (and row numbers)."""
    digits = "0123456789"
    letters = {r.rstrip(digits).upper() for r in refs}
    col = max((col_number(x) for x in letters if x.isascii() and x.isalpha()), default=0)
    row = max((int(r[len(r.rstrip(digits)):] or 0) for r in refs), default=0)
    return max(row, max(rows, default=0)), col


def _number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
               b'<dimension ref="A1"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
               b'<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
               b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
               b'footer="0.3"/></worksheet>')
