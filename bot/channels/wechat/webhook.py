"""The URL WeChat pushes to: GET verifies the server, POST brings a message (plain, or in safe
mode AES-encrypted with the EncodingAESKey).

WeChat waits 5 seconds for the answer (the passive reply) and otherwise asks again. So the
message is handled in a task of its own: if its reply is ready within the budget it is the
passive reply; if not, WeChat gets "success" at once and the reply follows through the outbox
(customer-service messages, bot/delivery/wechat.py), queued in the message's own transaction.
A request whose signature does not check out gets 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any
from xml.parsers.expat import ExpatError

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.channels.wechat.delivery import queue_late_reply
from bot.channels.wechat.updates import Outcome, UpdateHandler, action_for

log = logging.getLogger(__name__)
# Any answer but a reply XML; WeChat then neither retries nor tells the person "the account
# cannot answer now".
SUCCESS = "success"
LATE_REPLIES_DRAIN_SECONDS = 10


class BadRequest(Exception):
    pass


class LateReplies:
    """Queues, after the passive answer, what follows it: the rest of a long reply, its photos,
    or a reply WeChat stopped waiting for just as it was committed. Each in a background task
    kept until it is done, so that none is lost at shutdown."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, outcome: Outcome, texts: Sequence[str]) -> None:
        self._spawn(self._queue(outcome, texts))

    def when_done(self, handling: asyncio.Task[Outcome | None]) -> None:
        """Queue the reply of a message still being handled, unless it queued the reply itself."""
        self._spawn(self._after(handling))

    async def _after(self, handling: asyncio.Task[Outcome | None]) -> None:
        outcome = await handling
        if outcome is not None and not outcome.queued:
            await self._queue(outcome, outcome.texts)

    async def _queue(self, outcome: Outcome, texts: Sequence[str]) -> None:
        async with self.sessionmaker.begin() as session:
            await queue_late_reply(session, outcome.openid, outcome.person_id, texts, outcome.photos)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a late WeChat reply could not be queued", exc_info=task.exception())

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=LATE_REPLIES_DRAIN_SECONDS)


class WeChatWebhook:
    def __init__(
        self, *, token: str, app_id: str, encoding_aes_key: str | None, handler: UpdateHandler, late: LateReplies, reply_seconds: float
    ) -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self.handler = handler
        self.late = late
        self.reply_seconds = reply_seconds

    def register(self, web_app: web.Application, path: str) -> None:
        web_app.router.add_get(path, self.verify)
        web_app.router.add_post(path, self.receive)

    async def verify(self, request: web.Request) -> web.Response:
        """The server check when the URL is saved in the account's settings: echo `echostr`."""
        if not self._signed(request.query):
            return web.Response(status=403)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.StreamResponse:
        safe_mode = request.query.get("encrypt_type") == "aes"
        try:
            message = parse_message(self._open(request.query, await request.read(), safe_mode))
            if message is None:
                raise BadRequest("empty body")
        except (InvalidSignatureException, InvalidAppIdException):
            log.warning("a WeChat push with a bad signature from %s was refused", request.remote)
            return web.Response(status=403)
        except (BadRequest, ExpatError, KeyError, ValueError, binascii.Error) as error:
            log.warning("an unreadable WeChat push from %s: %s", request.remote, error)
            return web.Response(status=400)
        action = action_for(message)
        if action is None:
            return web.Response(text=SUCCESS)
        deadline = asyncio.get_running_loop().time() + self.reply_seconds
        handling = asyncio.create_task(self.handler.handle(message, action, deadline))
        try:
            outcome = await asyncio.wait_for(asyncio.shield(handling), self.reply_seconds)
        except TimeoutError:
            self.late.when_done(handling)
            log.info("a reply to %s took over %s s; it follows through the outbox", message.source, self.reply_seconds)
            return web.Response(text=SUCCESS)
        except asyncio.CancelledError:
            self.late.when_done(handling)  # the request was dropped; the message is still handled
            raise
        if outcome is None or outcome.queued or not (outcome.texts or outcome.photos):
            return web.Response(text=SUCCESS)
        if not outcome.texts or request.transport is None or request.transport.is_closing():
            self.late.send(outcome, outcome.texts)  # WeChat stopped waiting, or only photos: no passive reply
            return web.Response(text=SUCCESS)
        response = web.Response(body=self._reply(message, outcome.texts[0], request.query, safe_mode), content_type="application/xml")
        # Written first, so that the rest of a long reply follows the passive part.
        await response.prepare(request)
        await response.write_eof()
        if outcome.rest:
            self.late.send(outcome, outcome.texts[1:])
        return response

    def _signed(self, query: Any) -> bool:
        try:
            check_signature(self.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
        except InvalidSignatureException:
            return False
        return True

    def _open(self, query: Any, body: bytes, safe_mode: bool) -> bytes | str:
        """The message's XML, once its signature checked out."""
        if not safe_mode:
            if not self._signed(query):
                raise InvalidSignatureException()
            return body
        if self.crypto is None:
            log.error("WeChat sent an encrypted message: safe mode needs GONGJIAN_WECHAT_ENCODING_AES_KEY")
            raise BadRequest("encrypted, and no EncodingAESKey")
        return self.crypto.decrypt_message(body, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""))

    def _reply(self, message: BaseMessage, text: str, query: Any, safe_mode: bool) -> str:
        # Inside CDATA only "]]>" needs care: split it across two sections. wechatpy writes Content as is.
        xml = TextReply(message=message, content=text.replace("]]>", "]]]]><![CDATA[>")).render()
        if safe_mode and self.crypto is not None:  # answered as asked: encrypted in safe mode
            return self.crypto.encrypt_message(xml, query.get("nonce", ""), str(int(time.time())))
        return xml
