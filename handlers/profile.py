"""/me (households and roles) and /lang (中文 or English)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.conversations import profile
from bot.conversations.payloads import LanguageChoice
from bot.conversations.turn import Turn
from bot.replies import Response
from handlers.filters import PayloadOf


def create_router() -> Router:
    router = Router(name="profile")

    @router.message(Command("me"), F.chat.type == "private")
    async def show_me(message: Message, turn: Turn) -> Response:
        return await profile.me(turn)

    @router.message(Command("lang"))
    async def choose_language(message: Message, command: CommandObject, turn: Turn) -> Response:
        return await profile.lang(turn, command.args or "")

    @router.callback_query(PayloadOf(LanguageChoice))
    async def language_chosen(query: CallbackQuery, payload: LanguageChoice, turn: Turn) -> Response:
        return await profile.language_chosen(turn, payload)

    return router
