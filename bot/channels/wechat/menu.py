"""The Official Account's custom menu (自定义菜单), made from the one command list.

Each command a resident may use in a private chat becomes a CLICK button named with its own
typed word (我的, 帮助 ...), so the menu also teaches what can be typed; its key is the command's
name, and a click is handled as that command. WeChat allows three buttons in the bar and five
under each: commands are grouped by their menu section (参与, 我的, 帮助); a section of one
command is a button of its own.
"""

from __future__ import annotations

from typing import Any

from bot.conversations.feature import Command, MenuSection, Where
from bot.conversations.registry import COMMANDS
from bot.i18n import translate

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5


def menu_commands() -> list[Command]:
    """What Telegram's private menu shows too: commands for everyone, usable in a private chat."""
    return [command for command in COMMANDS if command.in_menu and command.where is not Where.group and not command.roles]


def word_for(command: Command, locale: str) -> str:
    """The command's typed word in the reader's language: Chinese words come first in the list,
    and the English one is the one in Latin letters."""
    if locale == "en":
        return next((word for word in command.words if word.isascii()), command.words[0])
    return command.words[0]


def build_menu(locale: str) -> dict[str, Any]:
    sections = [(section, [c for c in menu_commands() if c.section is section]) for section in MenuSection]
    sections = [(section, commands) for section, commands in sections if commands]
    too_many = [section.name for section, commands in sections if len(commands) > MAX_SUB_BUTTONS]
    if len(sections) > MAX_BUTTONS or too_many:
        raise ValueError(f"the menu does not fit WeChat's {MAX_BUTTONS} buttons of {MAX_SUB_BUTTONS}: {too_many or len(sections)}")

    def click(command: Command) -> dict[str, Any]:
        return {"type": "click", "name": word_for(command, locale), "key": command.name}

    return {
        "button": [
            click(commands[0]) if len(commands) == 1 else {"name": translate(locale, section.value), "sub_button": [click(c) for c in commands]}
            for section, commands in sections
        ]
    }
