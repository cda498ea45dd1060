"""Nothing lost on write: atomic replace, a backup, every part Potentiel does not own kept.

The workbook here has what openpyxl would not carry through a load and save: a chart, a
picture, a comment, a custom XML part, a chart sheet. The headless writer patches only
the parts Potentiel owns; before it replaces the file it compares the new package with
the original, and in place it refuses (keeping the original) if anything else would be
dropped or changed. The comparison is tested by making the writer drop or change a part.
"""

import os
import struct
import zipfile
import zlib

import pytest

from potentiel import savefile, xlsxpackage
from potentiel.cli import main
from potentiel.headless import score_file
from potentiel.problems import UserError

CUSTOM = "customXml/item1.xml"
OWNED_NAMES = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
               "xl/styles.xml"}


def _png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress((b"\x00" + b"\xff\x00\x00" * 4) * 4)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


@pytest.fixture
def rich(tmp_path):
    """A workbook with a chart, a picture, a comment, a chart sheet and custom XML."""
    import xlsxwriter

    path = tmp_path / "rich.xlsx"
    (tmp_path / "logo.png").write_bytes(_png())
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Accounts")
    rows = [["C1", "Acme", 120000, 400000], ["C2", "Bobo", 30000, 50000],
            ["C3", "Cyan", 8000, 90000]]
    ws.add_table(0, 0, len(rows), 3, {"name": "Accounts", "data": rows, "columns": [
        {"header": h} for h in ("id", "name", "revenue", "potential")]})
    ws.write_comment("B2", "Key account since 2019")
    notes = wb.add_worksheet("Notes")
    notes.write("A1", "Chart of revenue")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Accounts!$C$2:$C$4", "categories": "=Accounts!$A$2:$A$4"})
    notes.insert_chart("B3", chart)
    notes.insert_image("J3", str(tmp_path / "logo.png"))
    sheet_chart = wb.add_chartsheet("Revenue chart")
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"values": "=Accounts!$D$2:$D$4"})
    sheet_chart.set_chart(pie)
    wb.close()
    # custom XML, which openpyxl drops on save
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[CUSTOM] = b'<?xml version="1.0"?><crm xmlns="urn:example:crm"><owner>Claire</owner></crm>'
    rels = parts["_rels/.rels"].decode().replace(
        "</Relationships>", '<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/customXml" Target="customXml/item1.xml"/>'
        "</Relationships>")
    parts["_rels/.rels"] = rels.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)
    return path


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _leftovers(folder):
    return [p for p in os.listdir(folder) if p.startswith(".~potentiel")]


def test_every_part_potentiel_does_not_own_is_kept_byte_for_byte(rich):
    before = _parts(rich)
    assert any(n.startswith("xl/charts/") for n in before)
    assert any(n.startswith("xl/media/") for n in before)
    result, _ = score_file(rich)
    after = _parts(rich)
    assert set(after) >= set(before)
    owned = OWNED_NAMES | {"xl/worksheets/sheet1.xml", "xl/tables/table1.xml"}
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= owned, changed - owned
    assert after[CUSTOM] == before[CUSTOM]
    assert _parts(rich.with_name("rich.backup.xlsx")) == before
    assert not [w for w in result.warnings if "lacks" in str(w)]


def test_in_place_refuses_when_the_writer_would_drop_a_part(rich, monkeypatch, capsys):
    original = xlsxpackage.Package.write

    def dropping(self, target):
        self.removed.add(CUSTOM)  # as if the writer lost the custom XML part
        original(self, target)

    monkeypatch.setattr(xlsxpackage.Package, "write", dropping)
    before = rich.read_bytes()
    assert main(["score", str(rich)]) == 1
    err = capsys.readouterr().err
    assert f"{CUSTOM} (dropped)" in err and "-o" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert rich.read_bytes() == before, "the original was replaced"
    assert not rich.with_name("rich.backup.xlsx").exists()
    assert not _leftovers(rich.parent)


def test_in_place_refuses_when_the_writer_would_change_a_chart(rich, monkeypatch):
    original = xlsxpackage.Package.write

    def changing(self, target):
        chart = next(n for n in self.infos if n.startswith("xl/charts/chart"))
        self.put(chart, self.read(chart).replace(b"<c:chart>", b"<c:chart><!-- x -->"))
        original(self, target)

    monkeypatch.setattr(xlsxpackage.Package, "write", changing)
    before = rich.read_bytes()
    with pytest.raises(UserError, match=r"xl/charts/chart\d+\.xml \(changed\)"):
        score_file(rich)
    assert rich.read_bytes() == before


def test_with_o_the_copy_is_written_and_the_loss_is_a_warning(rich, monkeypatch, tmp_path):
    original = xlsxpackage.Package.write

    def dropping(self, target):
        self.removed.add(CUSTOM)
        original(self, target)

    monkeypatch.setattr(xlsxpackage.Package, "write", dropping)
    before = rich.read_bytes()
    out = tmp_path / "copy.xlsx"
    result, _ = score_file(rich, out)
    assert out.exists() and rich.read_bytes() == before
    assert any(CUSTOM in str(w) for w in result.warnings)


def test_the_calculation_chain_is_the_only_part_that_may_go(rich):
    """Writing over a formula drops xl/calcChain.xml (Excel rebuilds it): allowed, and
    nothing else is."""
    from test_headless import _add_calc_chain

    _add_calc_chain(rich, "A2")
    before = _parts(rich)
    score_file(rich)
    after = _parts(rich)
    assert set(before) - set(after) <= {"xl/calcChain.xml"}


def test_a_workbook_open_in_excel_is_not_overwritten_in_place_or_by_o(rich, tmp_path, capsys):
    lock = rich.with_name("~$" + rich.name)
    lock.write_bytes(b"\x00owner")
    before = rich.read_bytes()
    assert main(["score", str(rich)]) == 1
    assert "open in Excel" in capsys.readouterr().err
    assert rich.read_bytes() == before and not _leftovers(rich.parent)
    lock.unlink()
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"previous")
    tmp_path.joinpath("~$out.xlsx").write_bytes(b"owner")
    assert main(["score", str(rich), "-o", str(out)]) == 1
    assert "open in Excel" in capsys.readouterr().err
    assert out.read_bytes() == b"previous"


def test_a_failure_while_writing_leaves_the_original_and_no_temporary_file(rich, monkeypatch):
    def broken(self, target):
        with open(target, "wb") as fh:
            fh.write(b"half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsxpackage.Package, "write", broken)
    before = rich.read_bytes()
    with pytest.raises(OSError):
        score_file(rich)
    assert rich.read_bytes() == before
    assert not _leftovers(rich.parent) and not rich.with_name("rich.backup.xlsx").exists()


def test_the_replace_is_atomic_and_the_backup_is_the_previous_version(tmp_path, monkeypatch):
    """The new file is complete before it takes the target's name (os.replace, one step);
    the backup is the version just replaced, not an older one."""
    target = tmp_path / "t.xlsx"
    target.write_bytes(b"version 1")
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append((open(src, "rb").read(), open(dst, "rb").read()))
        real_replace(src, dst)

    monkeypatch.setattr(savefile.os, "replace", replace)
    for version in (b"version 2", b"version 3"):
        savefile.save_atomic(lambda tmp, v=version: open(tmp, "wb").write(v), target,
                             backup=savefile.backup_path(target))
    assert seen == [(b"version 2", b"version 1"), (b"version 3", b"version 2")]
    assert target.read_bytes() == b"version 3"
    assert savefile.backup_path(target).read_bytes() == b"version 2"
    assert not _leftovers(tmp_path)


def test_a_read_only_workbook_is_not_replaced(rich, capsys):
    """Excel would not save over a read-only file; neither does Potentiel (even as root)."""
    os.chmod(rich, 0o444)
    try:
        before = rich.read_bytes()
        assert main(["score", str(rich)]) == 1
        assert "read-only" in capsys.readouterr().err
        assert rich.read_bytes() == before and not _leftovers(rich.parent)
    finally:
        os.chmod(rich, 0o644)


def test_a_symbolic_link_is_followed_and_kept(rich, tmp_path):
    link = tmp_path / "link.xlsx"
    link.symlink_to(rich)
    before = rich.read_bytes()
    score_file(link)
    assert link.is_symlink() and os.readlink(link) == str(rich)
    assert rich.read_bytes() != before, "the file the link points to was not updated"
    assert not _leftovers(tmp_path)
