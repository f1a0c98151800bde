"""The bot's commands, in one list that feeds both the Telegram menu and /help."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand

from bot.i18n import N_, SUPPORTED_LOCALES, translate
from storage.models import Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandInfo:
    name: str
    description: str  # a message id, translated where it is shown
    roles: frozenset[Role] = frozenset()  # empty: everyone


COMMANDS = (
    CommandInfo("start", N_("Join your household with an invite code")),
    CommandInfo("me", N_("Your households and roles")),
    CommandInfo("lang", N_("中文 / English")),
    CommandInfo("help", N_("What you can do here")),
)

# Telegram's language codes for the menus; the default menu (no code) is in the default locale.
MENU_LANGUAGE_CODES = {"zh_CN": "zh", "en": "en"}


def commands_for(roles: set[Role]) -> list[CommandInfo]:
    return [c for c in COMMANDS if not c.roles or c.roles & roles]


async def set_command_menus(bot: Bot, default_locale: str) -> None:
    """Publish the menu in every language. The menu is a convenience: if the server refuses it, go on."""
    for locale in SUPPORTED_LOCALES:
        commands = [BotCommand(command=c.name, description=translate(locale, c.description)) for c in commands_for(set())]
        language_codes = [MENU_LANGUAGE_CODES[locale]] + ([None] if locale == default_locale else [])
        for language_code in language_codes:
            try:
                await bot.set_my_commands(commands, language_code=language_code)
            except TelegramAPIError as error:
                log.warning("setMyCommands (%s) was refused: %s", language_code or "default", error)
