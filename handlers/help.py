"""/help: what this person can do, which depends on their roles."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.conversations import commands
from bot.conversations.turn import Turn
from bot.replies import Response


def create_router() -> Router:
    router = Router(name="help")

    @router.message(Command("help"))
    async def show_help(message: Message, turn: Turn) -> Response:
        return await commands.show_help(turn)

    return router
