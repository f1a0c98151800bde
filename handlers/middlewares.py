"""Outer middlewares that give every update the same context: one database session, the
person who sent it, and their language; and that skip an update seen before."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import normalize_locale, set_locale
from bot.services import people
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateOnce(BaseMiddleware):
    """Claim the update id in its own short transaction; a redelivered update is dropped.

    The claim is committed before handling, so two workers polling or receiving the same
    update cannot both handle it.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        try:
            async with self.sessionmaker.begin() as session:
                session.add(ProcessedUpdate(channel=people.TELEGRAM, update_id=event.update_id))
        except IntegrityError:
            log.info("update %s was handled before; skipped", event.update_id)
            return None
        return await handler(event, data)


class DatabaseSession(BaseMiddleware):
    """One session per update: committed when the handler returns, rolled back when it raises."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            result = await handler(event, data)
            await session.commit()
            return result


class PersonContext(BaseMiddleware):
    """Find or create the person behind the update and choose the language to answer in:
    their own choice, else their Telegram client's language, else the deployment's default."""

    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        locale = self.default_locale
        if user is not None and not user.is_bot:
            session: AsyncSession = data["session"]
            person = await people.get_or_create_person(session, people.TELEGRAM, str(user.id), user.full_name)
            data["person"] = person
            locale = person.locale or normalize_locale(user.language_code) or self.default_locale
        data["locale"] = locale
        set_locale(locale)
        return await handler(event, data)
