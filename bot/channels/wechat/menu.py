"""The Official Account's custom menu (自定义菜单), made from the one command list.

Each command a resident may use in a private chat becomes a CLICK button named with its own
typed word (我的, 帮助 ...), so the menu also teaches what can be typed; its key is the command's
name, and a click is handled as that command. WeChat allows three buttons in the bar and five
under each: the first two commands get their own, the rest share a "More" button.
"""

from __future__ import annotations

from typing import Any

from bot.conversations.feature import Command, Where
from bot.conversations.registry import COMMANDS
from bot.i18n import N_, translate

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MORE = N_("More")


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
    buttons = [{"type": "click", "name": word_for(command, locale), "key": command.name} for command in menu_commands()]
    if len(buttons) <= MAX_BUTTONS:
        return {"button": buttons}
    shared = buttons[MAX_BUTTONS - 1 :]
    if len(shared) > MAX_SUB_BUTTONS:
        raise ValueError(f"{len(buttons)} commands do not fit WeChat's menu ({MAX_BUTTONS - 1 + MAX_SUB_BUTTONS} at most)")
    return {"button": [*buttons[: MAX_BUTTONS - 1], {"name": translate(locale, MORE), "sub_button": shared}]}
