"""The WeChat channel of a running bot: the API client with the shared token (which the outbox's
WeChat sender uses too), the webhook, and the replies still to be queued; or nothing, said in
one line, when WeChat is not configured.

The webhook's modules (wechatpy, requests, cryptography: some 20 MB) are imported only when
WeChat is configured, so a Telegram-only process does not carry them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.wechat.api import WeChatApi, open_api
from bot.config import Settings
from bot.routing import RoutingEngine

if TYPE_CHECKING:
    from bot.channels.wechat.webhook import LateReplies, WeChatWebhook

log = logging.getLogger(__name__)


class WeChatChannel:
    def __init__(
        self, settings: Settings, api: WeChatApi, sessionmaker: async_sessionmaker[AsyncSession], routing: RoutingEngine | None = None
    ) -> None:
        from bot.channels.wechat.updates import UpdateHandler
        from bot.channels.wechat.webhook import LateReplies, WeChatWebhook

        assert settings.wechat_token is not None and settings.wechat_app_id is not None
        self.path = settings.wechat_path
        self.api = api
        self.late: LateReplies = LateReplies(sessionmaker)
        aes_key = settings.wechat_encoding_aes_key
        self.webhook: WeChatWebhook = WeChatWebhook(
            token=settings.wechat_token.get_secret_value(),
            app_id=settings.wechat_app_id,
            encoding_aes_key=aes_key.get_secret_value() if aes_key else None,
            handler=UpdateHandler(sessionmaker, settings, routing),
            late=self.late,
            reply_seconds=settings.wechat_reply_seconds,
        )

    def register(self, web_app: web.Application) -> None:
        self.webhook.register(web_app, self.path)


@asynccontextmanager
async def wechat_channel(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], routing: RoutingEngine | None = None
) -> AsyncIterator[WeChatChannel | None]:
    missing = settings.wechat_missing()
    if len(missing) == len(settings.wechat_required()):
        log.info("WeChat channel off: set %s to serve it", ", ".join(missing))
        yield None
        return
    if missing:
        raise ValueError("WeChat is configured only in part: set " + ", ".join(missing))
    async with open_api(settings, sessionmaker) as api:
        channel = WeChatChannel(settings, api, sessionmaker, routing)
        try:
            yield channel
        finally:
            await channel.late.drain()
