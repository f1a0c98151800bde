"""The outbox's senders in the background of a bot worker, one per channel it serves: started
with the bot, stopped with it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.wechat.api import WeChatApi
from bot.config import Settings
from bot.delivery.channels import ChannelSender
from bot.delivery.limits import Limiter, create_limiter
from bot.delivery.sender import Sender
from bot.delivery.telegram import TelegramSender, delivery_bot, file_fetcher
from bot.delivery.wechat import WeChatSender


@dataclass
class RunningSender:
    sender: Sender
    task: asyncio.Task[None]
    limiter: Limiter
    close: Callable[[], Awaitable[None]] | None  # the channel's own connections, if the sender has any

    async def stop(self) -> None:
        """Let the messages on their way arrive and be recorded, then close the connections."""
        self.sender.stop()
        try:
            await self.task
        finally:
            await self.limiter.close()
            if self.close is not None:
                await self.close()


def start_sender(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> RunningSender:
    """Telegram's sender, with a Bot of its own (see delivery_bot)."""
    if settings.bot_token is None:
        raise ValueError("GONGJIAN_BOT_TOKEN is not set")
    bot = delivery_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url)
    return _start(settings, sessionmaker, TelegramSender(bot), bot.session.close)


def start_wechat_sender(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], api: WeChatApi) -> RunningSender:
    """WeChat's sender, on the channel's API client (one token for the whole process); with a
    Bot to fetch photos taken on Telegram where Telegram is configured too."""
    bot = delivery_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url) if settings.bot_token else None
    channel = WeChatSender(api, settings.wechat_templates, settings.timezone, file_fetcher(bot) if bot else None)
    return _start(settings, sessionmaker, channel, bot.session.close if bot else None)


def _start(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], channel: ChannelSender[Any], close: Callable[[], Awaitable[None]] | None
) -> RunningSender:
    limiter = create_limiter(channel.channel, settings.delivery_rate, settings.delivery_chat_interval, settings.redis_url)
    sender = Sender(sessionmaker, channel, limiter, rate=settings.delivery_rate, default_locale=settings.default_locale)
    return RunningSender(sender, asyncio.create_task(sender.run()), limiter, close)
