"""Real workbooks written back as Excel requires (../shared/cases/writing/): elements of
workbook.xml in schema order, one content type per part."""

from __future__ import annotations

import collections
import re
import zipfile

from helpers import score_headless, shared_case


def test_calcpr_goes_after_external_references_in_schema_order(tmp_path):
    path = shared_case(tmp_path, "writing", "calcPr-before-externalReferences.xlsx")
    out = tmp_path / "out.xlsx"
    score_headless(path, out)
    xml = zipfile.ZipFile(out).read("xl/workbook.xml").decode()
    order = re.findall(r"<(?:\w+:)?(sheets|externalReferences|definedNames|calcPr)\b", xml)
    assert order == ["sheets", "externalReferences", "definedNames", "calcPr"]


def test_a_leftover_content_type_override_is_not_added_again(tmp_path):
    path = shared_case(tmp_path, "writing", "stale-override-duplicated.xlsx")
    out = tmp_path / "out.xlsx"
    score_headless(path, out)
    types = zipfile.ZipFile(out).read("[Content_Types].xml").decode()
    parts = collections.Counter(p.lower() for p in re.findall(r'PartName="([^"]+)"', types))
    assert parts and not [p for p, n in parts.items() if n > 1]
