"""Telegram's command menus, made from the one command list, in every language."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

from bot.conversations.feature import Where
from bot.conversations.registry import COMMANDS
from bot.i18n import SUPPORTED_LOCALES, translate

log = logging.getLogger(__name__)
MAX_FAILURE_TEXT = 200  # characters of a failed call's description in its log line
# Telegram's language codes for the menus; the menu without a code is in the default locale.
MENU_LANGUAGE_CODES = {"zh_CN": "zh", "en": "en"}
SCOPES = (
    (BotCommandScopeAllPrivateChats(), (Where.private, Where.anywhere)),
    (BotCommandScopeAllGroupChats(), (Where.group, Where.anywhere)),
)


async def set_command_menus(bot: Bot, default_locale: str, *, request_timeout: int) -> None:
    """Publish the menus. They are a convenience: whatever the server answers (an error, a page
    that is not Telegram's JSON, a timeout, a reset connection), log one line and go on; each
    call waits `request_timeout` seconds at most, so a silent server does not hold up the start."""
    for scope, places in SCOPES:
        for locale in SUPPORTED_LOCALES:
            commands = [BotCommand(command=c.name, description=translate(locale, c.description)) for c in COMMANDS if c.in_menu and c.where in places and not c.roles]
            for language_code in [MENU_LANGUAGE_CODES[locale]] + ([None] if locale == default_locale else []):
                try:
                    await bot.set_my_commands(commands, scope=scope, language_code=language_code, request_timeout=request_timeout)
                except Exception as error:  # noqa: BLE001 - optional call; see the docstring
                    log.warning("setMyCommands (%s, %s) failed: %s", scope.type, language_code or "default", describe_failure(error))
                    return  # one line is enough: the rest would fail alike


def describe_failure(error: BaseException) -> str:
    """A failed call in one short line. aiogram's message for an answer that is not Telegram's
    JSON spans lines and holds the whole answer (a proxy's HTML page, say); its start is enough
    to tell the operator who answered."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= MAX_FAILURE_TEXT else text[: MAX_FAILURE_TEXT - 1] + "…"
