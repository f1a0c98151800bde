"""Translations: gettext catalogues compiled from locales/*.po at start, chosen per person.

Handlers call `_()`, which reads the locale of the update being handled from a context variable.
Code outside an update (delivery, scheduled jobs) calls `translate(locale, msgid)` instead.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from locales import DOMAIN, LOCALES_DIR

SUPPORTED_LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"

_current_locale: ContextVar[str] = ContextVar("gongjian_locale", default=DEFAULT_LOCALE)
_catalogues: dict[str, NullTranslations] = {}


def compile_catalogue(po_path: Path) -> GNUTranslations:
    """Compile one .po file to gettext's binary form in memory: nothing to build by hand."""
    with po_path.open("rb") as po_file:
        catalogue = read_po(po_file, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return GNUTranslations(buffer)


def load_catalogues(locales_dir: Path = LOCALES_DIR) -> dict[str, NullTranslations]:
    if not _catalogues:
        for locale in SUPPORTED_LOCALES:
            _catalogues[locale] = compile_catalogue(locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po")
    return _catalogues


def normalize_locale(language_code: str | None) -> str | None:
    """Map a client's language code (zh-hans, zh-CN, en-US ...) to a supported locale."""
    if not language_code:
        return None
    code = language_code.replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return None


def translate(locale: str, message: str) -> str:
    catalogue = load_catalogues().get(locale)
    return catalogue.gettext(message) if catalogue else message


def translate_plural(locale: str, singular: str, plural: str, n: int) -> str:
    catalogue = load_catalogues().get(locale)
    if catalogue is None:
        return singular if n == 1 else plural
    return catalogue.ngettext(singular, plural, n)


def set_locale(locale: str) -> None:
    _current_locale.set(locale)


def current_locale() -> str:
    return _current_locale.get()


def _(message: str) -> str:
    return translate(_current_locale.get(), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translate_plural(_current_locale.get(), singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, where the locale is known."""
    return message
