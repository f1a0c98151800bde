"""What a feature offers a conversation, declared once: its commands (slash names and the
words people type instead), the payloads of its options and the steps that read typed text.
The registry joins every feature's declarations; Telegram's routers, the text dispatcher and
the menus are all made from them, so no mapping is written twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bot.conversations.payloads import Payload
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Response
from storage.models import Role

# The answer to an option that no longer applies (pressed twice, from an old menu, or forged).
STALE_CHOICE = L("This choice is no longer valid. Send /help to start again.")
# The answer to words no command, menu, step or feature took.
NOT_UNDERSTOOD = L("Thank you for your message. To get started, send /help to see what you can do here.")

TextFlow = Callable[[Turn, str], Awaitable[Response]]
PhotoFlow = Callable[[Turn, str, str], Awaitable[Response]]  # the channel's file id, and the caption
PayloadFlow = Callable[[Turn, Any], Awaitable[Response]]
LocationFlow = Callable[[Turn, float, float, str], Awaitable[Response]]  # latitude, longitude, the place's name if any
# Offered text that no command, menu or step took; None: not this feature's kind of text.
FreeTextFlow = Callable[[Turn, str], Awaitable[Response | None]]


class MenuSection(Enum):
    """Where a command sits in a menu of sections (WeChat's custom menu: three buttons, five
    under each); the value is the section's name, a message id. Telegram's list ignores it."""

    take_part = N_("Take part")
    mine = N_("Mine")
    help = N_("Help")


class Where(Enum):
    private = "private"  # shows a person's household or asks for it: never in a group
    group = "group"
    anywhere = "anywhere"


@dataclass(frozen=True)
class Command:
    name: str
    words: tuple[str, ...]  # typed without a slash, in any language the bot speaks
    description: str  # a message id
    flow: TextFlow  # called with the text after the command: "/start K7MQ2XPA" → "K7MQ2XPA"
    where: Where = Where.anywhere
    roles: frozenset[Role] = frozenset()  # offered to these roles only; empty: everyone
    # In the channels' menus (Telegram's command list, WeChat's custom menu, which holds seven):
    # one-time things such as signing up are found through /help and their typed words instead.
    in_menu: bool = True
    section: MenuSection = MenuSection.take_part

    def offered_to(self, roles: set[Role]) -> bool:
        return not self.roles or bool(self.roles & roles)


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    payloads: Mapping[type[Payload], PayloadFlow] = field(default_factory=dict)
    # Options that may be pressed in a group chat (a notice's 收到 posted there). Any other is
    # answered there with the way to a private chat, as private commands are: the flows behind
    # them show a person's reports, household or work orders, and a button's data can be forged.
    group_payloads: frozenset[type[Payload]] = frozenset()
    steps: Mapping[str, TextFlow] = field(default_factory=dict)
    # Steps that wait for one short answer to what was just asked (a note, a reason, a code): a
    # command instead means the person turned to something else, and the step ends, so their
    # next words are not taken for that answer. Other steps (a draft, a menu being worked
    # through) stay for the feature to take up again.
    answers: frozenset[str] = frozenset()
    photo_steps: Mapping[str, PhotoFlow] = field(default_factory=dict)
    location_steps: Mapping[str, LocationFlow] = field(default_factory=dict)
    free_text: FreeTextFlow | None = None
