"""The Telegram sender in the background of a bot worker: started with the bot, stopped with it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery.limits import Limiter, create_limiter
from bot.delivery.sender import Sender
from bot.delivery.telegram import TelegramSender, delivery_bot


@dataclass
class RunningSender:
    sender: Sender
    task: asyncio.Task[None]
    limiter: Limiter
    bot: Bot

    async def stop(self) -> None:
        """Let the messages on their way arrive and be recorded, then close the connections."""
        self.sender.stop()
        try:
            await self.task
        finally:
            await self.limiter.close()
            await self.bot.session.close()


def start_sender(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> RunningSender:
    if settings.bot_token is None:
        raise ValueError("GONGJIAN_BOT_TOKEN is not set")
    bot = delivery_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url)
    channel = TelegramSender(bot)
    limiter = create_limiter(channel.channel, settings.delivery_rate, settings.delivery_chat_interval, settings.redis_url)
    sender = Sender(sessionmaker, channel, limiter, rate=settings.delivery_rate, default_locale=settings.default_locale)
    return RunningSender(sender, asyncio.create_task(sender.run()), limiter, bot)
