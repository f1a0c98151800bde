"""Every text a person reads exists in zh_CN and en, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import SUPPORTED_LOCALES, normalize_locale, translate, translate_plural
from locales import DOMAIN, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "L": None, "Lplural": (1, 2)}


def source_messages() -> set[str]:
    messages: set[str] = set()
    for folder in ("bot", "handlers", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT / folder, keywords=KEYWORDS):
            messages.update([message] if isinstance(message, str) else message)
    return messages


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


def catalogue_entries(locale: str) -> dict[str, Message]:
    """Entries by message id; a plural entry answers for its singular and its plural id."""
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        return {msgid: m for m in read_po(file, locale=locale) if m.id for msgid in ([m.id] if isinstance(m.id, str) else m.id)}


def translations(entry: Message) -> list[str]:
    return [entry.string] if isinstance(entry.string, str) else list(entry.string)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_in_the_code_is_translated(locale: str) -> None:
    catalogue = catalogue_entries(locale)
    messages = source_messages()
    assert len(messages) > 50
    untranslated = sorted(m for m in messages if m not in catalogue or not all(translations(catalogue[m])) or catalogue[m].fuzzy)
    assert untranslated == []
    for message in messages:
        for translation in translations(catalogue[message]):
            assert placeholders(translation) == placeholders(message), message


def test_plural_forms_follow_the_count() -> None:
    assert translate_plural("en", "{count} district", "{count} districts", 1) == "{count} district"
    assert translate_plural("en", "{count} district", "{count} districts", 2) == "{count} districts"
    assert translate_plural("zh_CN", "{count} district", "{count} districts", 2) == "{count} 个区县"


def test_locales_are_chosen_from_client_language_codes() -> None:
    assert normalize_locale("zh-hans") == "zh_CN" and normalize_locale("zh-TW") == "zh_CN"
    assert normalize_locale("en-US") == "en" and normalize_locale("ru") is None and normalize_locale(None) is None
    assert translate("zh_CN", "verified") == "已认证" and translate("en", "verified") == "verified"
