"""Telegram's command menus, made from the one command list, in every language."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

from bot.conversations.commands import COMMANDS, Where
from bot.i18n import SUPPORTED_LOCALES, translate

log = logging.getLogger(__name__)
# Telegram's language codes for the menus; the menu without a code is in the default locale.
MENU_LANGUAGE_CODES = {"zh_CN": "zh", "en": "en"}
SCOPES = (
    (BotCommandScopeAllPrivateChats(), (Where.private, Where.anywhere)),
    (BotCommandScopeAllGroupChats(), (Where.group, Where.anywhere)),
)


async def set_command_menus(bot: Bot, default_locale: str) -> None:
    """Publish the menus. They are a convenience: whatever the server answers (an error, a page
    that is not Telegram's JSON, a timeout, a reset connection), log one line and go on."""
    for scope, places in SCOPES:
        for locale in SUPPORTED_LOCALES:
            commands = [BotCommand(command=c.name, description=translate(locale, c.description)) for c in COMMANDS if c.where in places and not c.roles]
            for language_code in [MENU_LANGUAGE_CODES[locale]] + ([None] if locale == default_locale else []):
                try:
                    await bot.set_my_commands(commands, scope=scope, language_code=language_code)
                except Exception as error:  # noqa: BLE001 - optional call; see the docstring
                    log.warning("setMyCommands (%s, %s) failed: %s", scope.type, language_code or "default", _describe(error))
                    return  # one line is enough: the rest would fail alike


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip()
