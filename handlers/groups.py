"""Group and supergroup chats: the bot speaks only when addressed. What is not meant for it
(neighbours talking, joins and leaves, other bots' commands) gets silence; a mention of the
bot is read as if written to it. Commands go on to the feature routers, which answer what
belongs in a private chat with a link there."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.conversations import dispatch
from bot.conversations.turn import Turn
from bot.replies import Response
from handlers.filters import AddressedToBot, Magic, mention_of


def create_router() -> Router:
    router = Router(name="groups")
    router.message.filter(Magic(F.chat.type.in_({"group", "supergroup"})))

    @router.message(~AddressedToBot())
    async def not_for_us(message: Message) -> None:
        """Silence."""

    @router.message(Magic(F.text & ~F.text.startswith("/")))
    async def mentioned(message: Message, turn: Turn, bot: Bot) -> Response:
        return await dispatch.on_text(turn, mention_of((await bot.me()).username or "").sub(" ", message.text or ""))

    return router
