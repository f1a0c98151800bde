"""Middlewares on every request the bot makes to the Bot API, replies and deliveries alike."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot, methods
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.text import split_message

log = logging.getLogger(__name__)

# aiogram reads every answer as Response[<the method's result type>]; pydantic keeps such
# parametrised classes only weakly, so once the garbage collector has freed one, the next
# answer rebuilds it (about 2 ms, measured as 6 % of the bot's time at saturation). Holding the
# ones the bot uses keeps them built.
RESPONSE_TYPES = tuple(
    Response[method.__returning__]
    for method in (
        methods.GetUpdates, methods.GetMe, methods.SendMessage, methods.SendPhoto, methods.SendDocument,
        methods.EditMessageText, methods.EditMessageReplyMarkup, methods.AnswerCallbackQuery, methods.DeleteMessage,
        methods.SetMyCommands, methods.DeleteWebhook, methods.SetWebhook,
    )
)
MAX_FLOOD_WAIT = 30  # seconds; a longer wait is better left to the caller (the delivery queue)


class SplitLongMessages(BaseRequestMiddleware):
    """Telegram refuses texts over 4096 characters: send them as several messages, buttons on the last."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if not isinstance(method, SendMessage):
            return await make_request(bot, method)
        parts = split_message(method.text)
        if len(parts) == 1:
            return await make_request(bot, method)
        response: Response[Any] | None = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            # Entities (a bold title) stand at the start: they stay with the first part.
            entities = method.entities if index == 0 else None
            piece = method.model_copy(update={"text": part, "entities": entities, "reply_markup": method.reply_markup if last else None})
            response = await make_request(bot, piece)
        assert response is not None
        return response


class RetryAfterFlood(BaseRequestMiddleware):
    """Wait out a 429 (retry_after) and try again, so a reply is late rather than lost."""

    def __init__(self, attempts: int = 3) -> None:
        self.attempts = attempts

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        for _ in range(self.attempts - 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if error.retry_after > MAX_FLOOD_WAIT:
                    raise
                log.warning("%s hit the flood limit; retrying in %s s", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)
        return await make_request(bot, method)
