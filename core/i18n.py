"""The words people read, in English or French: gettext catalogs, one language per run.

Every user-facing text is a message *key* written in English in the code, wrapped in `_`
(translated now, in the run's language) or `N_` (marked for extraction, translated later,
for constants such as column headers); values are passed separately
(``_("{n} accounts").format(n=n)``) so both languages read naturally.

The catalogs are ``core/locale/<lang>/LC_MESSAGES/potentiel.po``, extracted and updated with
Babel (``make messages``) and compiled to ``.mo`` when the package is built (``setup.py``);
a checkout or an editable install without compiled catalogs reads the ``.po`` through
Babel. A test fails when a message has no French translation.

The language of a run is chosen by the Settings row ``Language`` / ``Langue`` (``fr``,
``French``, ``Français``, ``en`` …), else by the language of the Accounts headers
(`guess_language`), else English; `use_language` sets it for the code that runs inside.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

DOMAIN = "potentiel"
LANGUAGES = ("en", "fr")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("potentiel_language",
                                                               default="en")

_LANGUAGE_WORDS = {"en": "en", "english": "en", "anglais": "en", "eng": "en",
                   "fr": "fr", "french": "fr", "francais": "fr", "fra": "fr", "fre": "fr"}


def _plain(text: object) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in s if c.isalnum())


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (compiled ``.mo``, else the ``.po`` read with Babel)."""
    if lang == "en":
        return gettext.NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    mo = folder / f"{DOMAIN}.mo"
    if mo.is_file():
        with open(mo, "rb") as fh:
            return gettext.GNUTranslations(fh)
    po = folder / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    with open(po, "rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def language() -> str:
    """The language of the current run: ``"en"`` or ``"fr"``."""
    return _current.get()


@contextlib.contextmanager
def use_language(lang: str | None) -> Iterator[str]:
    """Run the code inside in ``lang`` (None keeps the current one)."""
    if not lang:
        yield language()
        return
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """``message`` in the run's language."""
    if not message:
        return message
    return translations(language()).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs without translating it now (constants)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def in_language(message: str, lang: str) -> str:
    """``message`` in ``lang``, whatever the run's language (to recognise both)."""
    return translations(lang).gettext(message) if message else message


def both(message: str) -> tuple[str, ...]:
    """``message`` in every language (its English key first): to recognise a word a
    person or an earlier run wrote in either language."""
    return tuple(dict.fromkeys(in_language(message, lang) for lang in LANGUAGES))


def parse_language(value: Any) -> str | None:
    """``"fr"`` for fr / French / Français, ``"en"`` for en / English / Anglais, else None."""
    return _LANGUAGE_WORDS.get(_plain(value)) if value not in (None, "") else None


def guess_language(headers: Iterable[Any], french_words: Iterable[str],
                   english_words: Iterable[str]) -> str:
    """The language of a header row: ``"fr"`` when more headers are French words than
    English ones (words compared ignoring case, accents and punctuation), else ``"en"``."""
    fr = {_plain(w) for w in french_words}
    en = {_plain(w) for w in english_words}
    keys = [_plain(h) for h in headers if isinstance(h, str) and h.strip()]
    n_fr = sum(k in fr and k not in en for k in keys)
    n_en = sum(k in en and k not in fr for k in keys)
    return "fr" if n_fr > n_en else "en"
