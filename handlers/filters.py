"""Filters of our own: a pressed option of a given kind, and a group message meant for us."""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot
from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter import MagicFilter

from bot.conversations.payloads import SEPARATOR, Payload


class Magic(BaseFilter):
    """aiogram's magic filter (`F.text`, `F.chat.type.in_(...)`), checked on the event loop.

    aiogram runs a filter that is not a coroutine function through asyncio.to_thread, and a bare
    `F...` is one: every update the filter saw cost a trip to a worker thread and back, about a
    tenth of the bot's time answering /me. Wrapped, the same check is a plain call."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)


class PayloadOf(BaseFilter):
    """Callback data that unpacks as this kind of payload; the handler gets it as `payload`."""

    def __init__(self, kind: type[Payload]) -> None:
        self.kind = kind

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        payload = self.kind.unpack(query.data or "")
        return {"payload": payload} if payload is not None else False


class CommandIn(BaseFilter):
    """A feature router's gate: a message whose command is one of the feature's. One set lookup
    lets an update skip a router whose Command filters (one per command) would all say no."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    async def __call__(self, message: Message) -> bool:
        text = message.text or message.caption or ""
        words = text[1:].split(maxsplit=1) if text.startswith("/") else []
        return bool(words) and words[0].split("@", 1)[0].lower() in self.names


class PayloadIn(BaseFilter):
    """A feature router's gate for pressed options: callback data of one of its payload kinds."""

    def __init__(self, prefixes: frozenset[str]) -> None:
        self.prefixes = prefixes

    async def __call__(self, query: CallbackQuery) -> bool:
        return (query.data or "").split(SEPARATOR, 1)[0] in self.prefixes


def mention_of(username: str) -> re.Pattern[str]:
    """@username as Telegram reads it: in any case, and ending where the name's letters, digits
    and underscores end, so @ours_old (another bot) is not a mention of @ours."""
    return re.compile("@" + re.escape(username) + "(?![A-Za-z0-9_])", re.IGNORECASE)


class AddressedToBot(BaseFilter):
    """In a group the bot answers only what is meant for it: a command without a bot's name or
    with ours, a mention of ours, or a reply to one of its messages."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        me = await bot.me()
        text = message.text or message.caption or ""
        mention = "@" + (me.username or "")
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            return "@" not in command or command.lower().endswith(mention.lower())
        if me.username and mention_of(me.username).search(text):
            return True
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == me.id
