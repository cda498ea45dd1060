"""Every user-facing text has its French translation, and the catalogs work.

The texts are extracted from the code the way `make messages` does (Babel, keywords `_`,
`N_`, `ngettext`), so a new message without a French entry in
core/locale/fr/LC_MESSAGES/potentiel.po fails here."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from potentiel.i18n import _, guess_language, parse_language, use_language

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "core" / "locale" / "fr" / "LC_MESSAGES" / "potentiel.po"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def code_messages() -> set[str]:
    out = set()
    for folder in ("core", "plugins"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            out.add(message if isinstance(message, str) else message[0])
    return out


def test_every_message_has_a_french_translation():
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="fr")
    missing = []
    for msgid in sorted(code_messages()):
        entry = catalog.get(msgid)
        text = entry.string if entry is not None else None
        if isinstance(text, tuple):
            text = text[0] if all(text) else ""
        if not text or (entry is not None and entry.fuzzy):
            missing.append(msgid)
    assert not missing, (f"{len(missing)} message(s) without a French translation in {PO.name} "
                         "(run make messages, then translate): " + " | ".join(missing[:20]))


def test_the_language_of_a_run():
    assert parse_language("Français") == "fr" and parse_language("EN") == "en"
    assert parse_language("klingon") is None
    assert guess_language(["Code client", "Raison sociale", "CA N"],
                          ["Code client", "Raison sociale"], ["Account ID", "Name"]) == "fr"
    assert guess_language(["Account ID", "Name"], ["Code client"], ["Account ID", "Name"]) == "en"
    with use_language("fr"):
        assert _("") == ""
