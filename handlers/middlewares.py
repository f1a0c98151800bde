"""Outer middlewares that give every update the same shape: one database transaction, in
which the update is claimed, the person found and the handler's changes made; then, only after
the commit, the answer is sent. A handler returns a Response and never sends by itself, so a
person is told "saved" only once it is, and no network call waits inside a transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import Chat, TelegramObject, Update, User
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import telegram
from bot.config import Settings
from bot.conversations.turn import Turn
from bot.i18n import normalize_locale
from bot.replies import Response
from storage.db import again_if_disconnected, update_sessions
from storage.models import ProcessedUpdate, utcnow

log = logging.getLogger(__name__)
# Built once, on the table: an ORM insert of the mapped class is rebuilt and re-keyed per update.
_CLAIM = insert(ProcessedUpdate.__table__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
GROUP_CHATS = ("group", "supergroup")


class UpdateTransaction(BaseMiddleware):
    """Claim the update id, run the handler and commit, all in one transaction; then deliver.

    The claim is written first, so of two workers handed the same update, the second waits for
    the first and is refused; a crash before the commit leaves the update unclaimed, and its
    redelivery is handled again.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = update_sessions(sessionmaker)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        handled = await again_if_disconnected(lambda: self._transaction(handler, event, data))
        if handled is None:
            return None
        response, turn = handled
        bot: Bot = data["bot"]
        await telegram.deliver(bot, event, response, turn.locale if turn else data["locale"])
        return None

    async def _transaction(self, handler: Handler, event: Update, data: dict[str, Any]) -> tuple[Response | None, Turn | None] | None:
        """The update handled and committed: its answer and the turn; None if it was handled before."""
        async with self.sessionmaker() as session:
            try:
                await session.execute(_CLAIM, {"channel": telegram.CHANNEL, "update_key": str(event.update_id), "processed_at": utcnow()})
            except IntegrityError:
                log.info("update %s was handled before; skipped", event.update_id)
                return None
            data["session"] = session
            handled = await handler(event, data)
            response = handled if isinstance(handled, Response) else None
            turn: Turn | None = data.get("turn")
            if turn is not None:
                await turn.save(response)
            await session.commit()
        return response, turn


class PersonContext(BaseMiddleware):
    """Find or create the person behind the update and choose the language to answer in:
    their own choice, else their client's language, else the deployment's default."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default_locale = settings.default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        data["locale"] = self.default_locale
        if user is not None and not user.is_bot:
            bot: Bot = data["bot"]
            turn = await Turn.of_sender(
                data["session"], telegram.traits((await bot.me()).username), str(user.id), str(chat.id if chat else user.id),
                user.full_name, normalize_locale(user.language_code), self.default_locale,
                in_group=chat is not None and chat.type in GROUP_CHATS,
                chat_title=(chat.title or "") if chat else "",
                timezone=self.settings.timezone,
                routing=data.get("routing"),
                settings=self.settings,
            )
            data["turn"], data["locale"] = turn, turn.locale
        return await handler(event, data)
