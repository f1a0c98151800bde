"""Telegram for the sender: the replies rendered as the bot renders its answers
(bot/channels/telegram.py), and aiogram's errors in the sender's terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods.base import Response
from aiogram.types import Message

from bot.channels import telegram
from bot.delivery.channels import RateLimited, Rejected, Temporary, Unreachable
from bot.replies import Reply, shown_on
from bot.telegram_requests import SplitLongMessages


def delivery_bot(token: str, api_url: str) -> Bot:
    """A Bot for the sender. Unlike the one that answers updates it does not wait out a 429 by
    itself: the sender makes every message wait, not just the one that was refused."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    session.middleware(SplitLongMessages())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


# aiogram reads every answer as Response[Message]; pydantic keeps a parametrised model only while
# something refers to it, so without this reference the class is built again and again (about
# 50 µs an answer at a thousand messages a second).
_ANSWER = Response[Message]


@dataclass(frozen=True)
class TelegramMessage:
    reply: Reply
    kwargs: dict[str, Any]  # bot.channels.telegram.message_kwargs in the reader's language


class TelegramSender:
    channel = telegram.CHANNEL
    numbered_options = False  # buttons carry their payloads

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def render(self, reply: Reply, locale: str, source: str) -> TelegramMessage:
        reply = shown_on(reply, self.channel)
        return TelegramMessage(reply, telegram.message_kwargs(reply, locale))

    async def send(self, chat_id: str, rendered: TelegramMessage) -> None:
        try:
            await telegram.send_rendered(self.bot, chat_id, rendered.reply, rendered.kwargs)
        except TelegramRetryAfter as error:
            raise RateLimited(error.message, error.retry_after) from error
        except TelegramForbiddenError as error:
            raise Unreachable(error.message) from error
        except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as error:
            raise Rejected(error.message) from error
        except TelegramNetworkError as error:  # aiogram's wrapper of connection errors and timeouts
            raise Temporary(error.message) from error
        except TelegramAPIError as error:  # server errors, and anything Telegram may add
            raise Temporary(f"{type(error).__name__}: {error.message}") from error


def file_fetcher(bot: Bot) -> Callable[[str], Awaitable[bytes]]:
    """A Telegram file's bytes by its file id (getFile, then the download), for a channel that
    cannot send Telegram's file ids (WeChat)."""

    async def fetch(file_id: str) -> bytes:
        file = await bot.get_file(file_id)
        if file.file_path is None:
            raise ValueError(f"Telegram gave no path for {file_id}")
        content = await bot.download_file(file.file_path)
        assert content is not None  # without a destination aiogram returns the bytes read
        return content.read()

    return fetch
