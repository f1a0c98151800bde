"""Group and supergroup chats: the bot speaks only when addressed, never about a person's
household there, and links the group to its building (/link)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.conversations import dispatch, groups
from bot.conversations.turn import Turn
from bot.replies import Response
from handlers.filters import AddressedToBot


def create_router() -> Router:
    router = Router(name="groups")
    router.message.filter(F.chat.type.in_({"group", "supergroup"}))

    @router.message(Command("link"))
    async def link(message: Message, turn: Turn) -> Response:
        return await groups.link(turn, (message.text or "").partition(" ")[2])

    @router.message(F.text, AddressedToBot())
    async def addressed(message: Message, turn: Turn, bot: Bot) -> Response:
        text = message.text or ""
        mention = "@" + ((await bot.me()).username or "")
        return await dispatch.on_text(turn, text if text.startswith("/") else text.replace(mention, " "))

    @router.message()
    async def not_for_us(message: Message) -> None:
        """Conversation between neighbours, joins and leaves, other bots' commands: silence."""

    return router
