"""Whatever no feature took: text (Chinese command words, a menu's labels, the step the person
is on), unknown commands, stickers and other content, old or forged buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.conversations import dispatch
from bot.conversations.turn import Turn
from bot.replies import Response
from handlers.filters import Magic


def create_router() -> Router:
    router = Router(name="fallback")

    @router.message(Magic(F.text))
    async def text(message: Message, turn: Turn) -> Response:
        return await dispatch.on_text(turn, message.text or "")

    @router.message(Magic(F.photo))
    async def photo(message: Message, turn: Turn) -> Response:
        turn.album = message.media_group_id
        return await dispatch.on_photo(turn, message.photo[-1].file_id if message.photo else "", message.caption or "")

    @router.message(Magic(F.location))
    async def location(message: Message, turn: Turn) -> Response:
        assert message.location is not None
        return await dispatch.on_location(turn, message.location.latitude, message.location.longitude)

    @router.message()
    async def unreadable(message: Message) -> Response:
        return dispatch.on_unreadable()

    @router.callback_query()
    async def option(query: CallbackQuery, turn: Turn) -> Response:
        return await dispatch.on_payload(turn, query.data or "")

    return router
