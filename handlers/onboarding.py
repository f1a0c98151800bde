"""Joining a household: /start with an invite code (deep link, QR code, or typed), in private."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.conversations import onboarding
from bot.conversations.payloads import RoomChoice, RoomPage, UnitChoice
from bot.conversations.turn import Turn
from bot.replies import Response
from handlers.filters import PayloadOf


def create_router() -> Router:
    router = Router(name="onboarding")
    router.message.filter(F.chat.type == "private")

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject, turn: Turn) -> Response:
        # t.me/<bot>?start=<code> arrives as "/start <code>"; the code is printed plain, not encoded.
        return await onboarding.start(turn, command.args or "")

    @router.callback_query(PayloadOf(UnitChoice))
    async def unit_chosen(query: CallbackQuery, payload: UnitChoice, turn: Turn) -> Response:
        return await onboarding.unit_chosen(turn, payload)

    @router.callback_query(PayloadOf(RoomPage))
    async def room_page(query: CallbackQuery, payload: RoomPage, turn: Turn) -> Response:
        return await onboarding.room_page(turn, payload)

    @router.callback_query(PayloadOf(RoomChoice))
    async def room_chosen(query: CallbackQuery, payload: RoomChoice, turn: Turn) -> Response:
        return await onboarding.room_chosen(turn, payload)

    return router
