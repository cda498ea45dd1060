"""Is a workbook file a package Excel opens without repair? The rules Excel applies and
LibreOffice forgives, checked on a written file.

`problems(path)` lists what breaks them, one plain line each (empty: none found):

- part names: no backslash, no leading ``/``, unique ignoring case (OPC compares part
  names ignoring case, so ``Sheet1.xml`` and ``sheet1.xml`` are one name twice);
- content types: ``[Content_Types].xml`` present, one Default per extension, one Override
  per part name (ignoring case), and every part has a content type;
- relationships: ids unique in each ``.rels`` part, every internal target present;
- ``workbook.xml``: its children in the schema's order, each at most once (but
  ``fileRecoveryPr``); sheet names valid for Excel and unique ignoring case, chart, dialog
  and macro sheets included; ``sheetId`` and ``r:id`` unique and each ``r:id`` found;
  defined names unique ignoring case in their scope;
- every worksheet: rows ascending and unique, cells ascending and unique within their
  row with ``r`` naming that row, style indices (``s=`` of cells and rows, ``style=`` of
  columns) within the ``cellXfs`` of ``styles.xml``;
- Potentiel's own columns and sheets (its ``_Potentiel.`` markers) hold no formula.

Worksheets are read as a stream (a sheet at Excel's row limit is never held whole). This
is a checker for tests and for people reporting a fault, not a reader: its messages are
in English, for the developers who fix the writer.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from .sources.ownership import COL, PREFIX, SHEET, split_refers_to

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
CONTENT_TYPES = "[Content_Types].xml"

# CT_Workbook's sequence (ECMA-376 Part 1, 18.2.27); each at most once but fileRecoveryPr.
WORKBOOK_ORDER = ("fileVersion", "fileSharing", "workbookPr", "workbookProtection",
                  "bookViews", "sheets", "functionGroups", "externalReferences",
                  "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches",
                  "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr",
                  "webPublishObjects", "extLst")
_REPEATABLE = {"fileRecoveryPr"}
_BAD_SHEET_CHARS = set("[]:*?/\\")
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
MAX_ROW, MAX_COL = 1_048_576, 16_384
MOST = 200  # problems listed; a sheet broken on every row says so 200 times, not a million

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def problems(path: str | Path) -> list[str]:
    """What in the workbook file ``path`` breaks the rules Excel applies, one line per
    fault (``"xl/workbook.xml: calcPr before definedNames"``); [] when none is found.
    Raises `zipfile.BadZipFile` for a file that is not a zip at all."""
    with zipfile.ZipFile(path) as z:
        return _Checker(z).run()


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Checker:
    def __init__(self, z: zipfile.ZipFile):
        self.z = z
        self.found: list[str] = []
        self.names = [i.filename for i in z.infolist() if not i.filename.endswith("/")]
        # a part name → the zip entry holding it, ignoring case (as OPC compares them)
        self.by_fold = {n.casefold(): n for n in self.names}

    def say(self, text: str) -> None:
        if len(self.found) > MOST:
            return
        if len(self.found) == MOST:
            self.found.append("… and more (the first {} listed)".format(MOST))
        elif text not in self.found:
            self.found.append(text)

    def run(self) -> list[str]:
        self.part_names()
        self.content_types()
        self.relationships()
        workbook = self.main_part()
        if workbook is not None:
            self.workbook(workbook)
        return self.found

    # ------------------------------------------------------------------ helpers
    def has(self, name: str) -> bool:
        return name.casefold() in self.by_fold

    def xml(self, name: str) -> etree._Element | None:
        entry = self.by_fold.get(name.casefold())
        if entry is None:
            return None
        try:
            return etree.fromstring(self.z.read(entry), _PARSER)
        except etree.XMLSyntaxError as exc:
            self.say(f"{name}: not well-formed XML ({exc})")
            return None

    @staticmethod
    def rels_name(part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    @staticmethod
    def source_of(rels: str) -> str:
        """The part a ``.rels`` part belongs to (``""`` for the package's own)."""
        folder, base = posixpath.split(rels)
        return posixpath.join(posixpath.dirname(folder), base[:-len(".rels")])

    @staticmethod
    def target(source: str, target: str) -> str:
        target = unquote(target.split("#")[0])
        if target.startswith("/"):
            return posixpath.normpath(target.lstrip("/"))
        return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))

    def relations(self, part: str) -> list[etree._Element]:
        root = self.xml(self.rels_name(part))
        return [] if root is None else list(root.iterfind(f"{{{PKG_REL}}}Relationship"))

    # ------------------------------------------------------------------ the package
    def part_names(self) -> None:
        seen: dict[str, str] = {}
        for name in self.names:
            if "\\" in name:
                self.say(f"{name}: a part name with a backslash (part names use /)")
            if name.startswith("/"):
                self.say(f"{name}: a part name starting with /")
            other = seen.get(name.casefold())
            if other is not None:
                if other == name:
                    self.say(f"{name}: two zip entries of that name")
                else:
                    self.say(f"{name} and {other}: one part name twice (part names are "
                             f"compared ignoring case)")
            seen[name.casefold()] = name

    def content_types(self) -> None:
        root = self.xml(CONTENT_TYPES)
        if root is None:
            if not self.has(CONTENT_TYPES):
                self.say(f"{CONTENT_TYPES}: missing")
            return
        defaults: dict[str, str] = {}
        for d in root.iterfind(f"{{{CT}}}Default"):
            ext = (d.get("Extension") or "").casefold()
            if ext in defaults:
                self.say(f"{CONTENT_TYPES}: two Defaults for extension {ext}")
            defaults[ext] = d.get("ContentType") or ""
        overrides: dict[str, str] = {}
        for o in root.iterfind(f"{{{CT}}}Override"):
            part = (o.get("PartName") or "").lstrip("/").casefold()
            if part in overrides:
                self.say(f"{CONTENT_TYPES}: two Overrides for /{o.get('PartName', '').lstrip('/')}")
            overrides[part] = o.get("ContentType") or ""
        for name in self.names:
            if name == CONTENT_TYPES:
                continue
            base = posixpath.basename(name)
            ext = base.rpartition(".")[2].casefold() if "." in base else ""
            if name.casefold() not in overrides and ext not in defaults:
                self.say(f"{name}: no content type (no Override, no Default for .{ext})")

    def relationships(self) -> None:
        for rels in self.names:
            if not rels.endswith(".rels"):
                continue
            root = self.xml(rels)
            if root is None:
                continue
            source = self.source_of(rels)
            ids = set()
            for r in root.iterfind(f"{{{PKG_REL}}}Relationship"):
                rid = r.get("Id")
                if rid in ids:
                    self.say(f"{rels}: relationship id {rid} twice")
                ids.add(rid)
                if r.get("TargetMode") == "External":
                    continue
                target = self.target(source, r.get("Target") or "")
                if not self.has(target):
                    self.say(f"{rels}: {rid} points to {target}, which the package lacks")

    def main_part(self) -> str | None:
        for r in self.relations(""):
            if (r.get("Type") or "").endswith("/officeDocument"):
                name = self.target("", r.get("Target") or "")
                return self.by_fold.get(name.casefold(), name)
        self.say("_rels/.rels: no officeDocument relationship (no workbook part)")
        return None

    # ------------------------------------------------------------------ the workbook
    def workbook(self, part: str) -> None:
        root = self.xml(part)
        if root is None:
            if not self.has(part):
                self.say(f"{part}: missing")
            return
        self.workbook_order(part, root)
        rels = {r.get("Id"): r for r in self.relations(part)}
        names: dict[str, str] = {}
        ids: set[str] = set()
        rids: set[str] = set()
        sheets: list[tuple[str, str]] = []  # (name, worksheet part)
        for s in root.iterfind(f"{{{MAIN}}}sheets/{{{MAIN}}}sheet"):
            name = s.get("name") or ""
            self.sheet_name(part, name, names)
            sid, rid = s.get("sheetId"), s.get(f"{{{REL}}}id")
            if sid in ids:
                self.say(f"{part}: sheetId {sid} twice")
            ids.add(sid)
            if rid in rids:
                self.say(f"{part}: sheets {name!r} and another share r:id {rid}")
            rids.add(rid)
            rel = rels.get(rid)
            if rel is None:
                self.say(f"{part}: sheet {name!r} has r:id {rid!r}, which "
                         f"{self.rels_name(part)} lacks")
            elif (rel.get("Type") or "").endswith("/worksheet"):
                sheets.append((name, self.target(part, rel.get("Target") or "")))
        owned_cols, owned_sheets = self.defined_names(part, root)
        xfs = self.cell_formats(part, rels)
        for name, sheet_part in sheets:
            if self.has(sheet_part):
                self.worksheet(self.by_fold[sheet_part.casefold()], xfs,
                               owned_cols.get(name.casefold(), {}),
                               name.casefold() in owned_sheets)

    def workbook_order(self, part: str, root: etree._Element) -> None:
        last, seen = -1, set()
        for child in root:
            if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{MAIN}}}"):
                continue  # mc:AlternateContent and other namespaces: not in the sequence
            tag = etree.QName(child).localname
            if tag not in WORKBOOK_ORDER:
                self.say(f"{part}: unknown element {tag}")
                continue
            k = WORKBOOK_ORDER.index(tag)
            if tag in seen and tag not in _REPEATABLE:
                self.say(f"{part}: {tag} twice")
            elif k < last:
                self.say(f"{part}: {tag} after {WORKBOOK_ORDER[last]} (the schema puts it "
                         f"before)")
            seen.add(tag)
            last = max(last, k)
        if "sheets" not in seen:
            self.say(f"{part}: no sheets element")

    def sheet_name(self, part: str, name: str, names: dict[str, str]) -> None:
        if not name or len(name) > 31 or _BAD_SHEET_CHARS & set(name) or \
                name.startswith("'") or name.endswith("'"):
            self.say(f"{part}: sheet name {name!r} is not one Excel allows")
        other = names.get(name.casefold())
        if other is not None:
            self.say(f"{part}: sheets {other!r} and {name!r} (names are compared ignoring "
                     f"case)")
        names[name.casefold()] = name

    def defined_names(self, part: str, root: etree._Element
                      ) -> tuple[dict[str, dict[int, int]], set[str]]:
        """Potentiel's marked columns (sheet → {column: header row}) and sheets, and a
        problem for a defined name twice in one scope."""
        seen: set[tuple[str, str | None]] = set()
        cols: dict[str, dict[int, int]] = {}
        owned: set[str] = set()
        for d in root.iterfind(f"{{{MAIN}}}definedNames/{{{MAIN}}}definedName"):
            name, scope = d.get("name") or "", d.get("localSheetId")
            if (name.casefold(), scope) in seen:
                self.say(f"{part}: defined name {name!r} twice"
                         + (f" on sheet {scope}" if scope is not None else ""))
            seen.add((name.casefold(), scope))
            if scope is not None or not name.casefold().startswith(PREFIX.casefold()):
                continue
            kind = name[len(PREFIX):].partition(".")[0].casefold()
            sheet, address = split_refers_to(d.text or "")
            if sheet is None:
                continue
            m = _REF.match(address.split(":")[0])
            if kind == COL and m:
                cols.setdefault(sheet.casefold(), {})[_col_number(m.group(1))] = int(m.group(2))
            elif kind == SHEET:
                owned.add(sheet.casefold())
        return cols, owned

    def cell_formats(self, part: str, rels: dict) -> int:
        """How many cell formats (``cellXfs``) the styles part has; 1 without one (the
        default format, index 0, is always there)."""
        for r in rels.values():
            if (r.get("Type") or "").endswith("/styles"):
                root = self.xml(self.target(part, r.get("Target") or ""))
                if root is None:
                    return 1
                xfs = root.find(f"{{{MAIN}}}cellXfs")
                return 1 if xfs is None else max(1, len(xfs.findall(f"{{{MAIN}}}xf")))
        return 1

    # ------------------------------------------------------------------ a worksheet
    def worksheet(self, part: str, xfs: int, owned_cols: dict[int, int],
                  owned_sheet: bool) -> None:
        row_tag, col_tag, c_tag, f_tag = (f"{{{MAIN}}}{t}" for t in ("row", "col", "c", "f"))
        last_row = 0
        try:
            with self.z.open(part) as fh:
                for _event, el in etree.iterparse(fh, events=("end",), tag=(row_tag, col_tag),
                                                  resolve_entities=False, no_network=True,
                                                  huge_tree=True):
                    if el.tag == col_tag:
                        self.style(part, el.get("style"), xfs, f"column {el.get('min')}")
                        continue
                    r = el.get("r")
                    row = int(r) if r is not None and r.isdigit() else None
                    if r is not None and row is None:
                        self.say(f"{part}: row r={r!r} is not a row number")
                        row = last_row + 1
                    row = last_row + 1 if row is None else row
                    if not 1 <= row <= MAX_ROW:
                        self.say(f"{part}: row {row} outside the sheet")
                    elif row <= last_row:
                        self.say(f"{part}: row {row} after row {last_row} (rows must be "
                                 f"ascending and unique)")
                    last_row = max(last_row, row)
                    self.style(part, el.get("s"), xfs, f"row {row}")
                    self.cells(part, row, el, xfs, owned_cols, owned_sheet, c_tag, f_tag)
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
        except etree.XMLSyntaxError as exc:
            self.say(f"{part}: not well-formed XML ({exc})")

    def cells(self, part: str, row: int, el: etree._Element, xfs: int,
              owned_cols: dict[int, int], owned_sheet: bool, c_tag: str, f_tag: str) -> None:
        last_col = 0
        for c in el.iterchildren(c_tag):
            ref = c.get("r")
            col = last_col + 1
            if ref is not None:
                m = _REF.match(ref)
                if m is None or ref.startswith("$") or "$" in ref:
                    self.say(f"{part}: cell r={ref!r} on row {row} is not a cell reference")
                else:
                    col = _col_number(m.group(1))
                    if int(m.group(2)) != row:
                        self.say(f"{part}: cell {ref} inside row {row}")
            if not 1 <= col <= MAX_COL:
                self.say(f"{part}: cell {ref} outside the sheet")
            elif col <= last_col:
                self.say(f"{part}: cell {ref or col} on row {row} after column {last_col} "
                         f"(cells must be ascending and unique in their row)")
            last_col = max(last_col, col)
            self.style(part, c.get("s"), xfs, f"cell {ref or col}")
            if c.find(f_tag) is not None:
                header = owned_cols.get(col)
                if owned_sheet or (header is not None and row >= header):
                    self.say(f"{part}: cell {ref or col} holds a formula in a sheet or "
                             f"column Potentiel owns")

    def style(self, part: str, s: str | None, xfs: int, where: str) -> None:
        if s is None:
            return
        if not s.isdigit() or int(s) >= xfs:
            self.say(f"{part}: {where} has style {s}, but styles.xml has {xfs} cell "
                     f"formats")
