"""WeChat for the sender: customer-service messages (客服消息) while the person's 48-hour window
is open, a template message (模板消息) outside it where the deployment configured one for the
kind of message, and otherwise the row waits until the person writes again.

WeChat does not say when a person last wrote, so each message is tried as a customer-service
message first; 45015 (outside the window) and 45047 (the messages allowed since the person
last wrote are used up: more come only when they write) lead to the template, or to waiting.
`outbox.release_waiting` makes waiting rows pending again when the person writes.

Template data fields, for the template a deployment picks in the Official Account's console
(GONGJIAN_WECHAT_TEMPLATES='{"notice": "<template id>"}', one per kind: the outbox source's
prefix, "notice" for "notice:17"):
    title    the reply's title, else its first line (at most 20 characters)
    content  the reply's text without its options (at most 200 characters)
    time     when it was sent, in the deployment's time zone ("2026-11-25 20:15")
So the template's body reads {{title.DATA}} {{content.DATA}} {{time.DATA}}. A template message
carries no numbered options: the person writes to the account to answer, which also releases
anything else waiting for them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels.text import render
from bot.channels.wechat import CHANNEL
from bot.channels.wechat.api import (
    SYSTEM_BUSY,
    InvalidAccessToken,
    NotFollowing,
    OutsideReplyWindow,
    TooManyMessages,
    WeChatApi,
    WeChatApiError,
)
from bot.channels.wechat.delivery import MAX_TEXT_BYTES, split_bytes
from bot.delivery.channels import DeliveryError, OutsideWindow, RateLimited, Rejected, Temporary, Unreachable
from bot.replies import WECHAT_FILE_PREFIX, Attachment, Reply, render_text, shown_on

log = logging.getLogger(__name__)
TITLE_CHARACTERS = 20  # WeChat's limit for a template's short fields
CONTENT_CHARACTERS = 200
# WeChat keeps temporary media three days; an upload is used again for two, then made anew.
UPLOAD_KEPT_SECONDS = 2 * 24 * 3600
UPLOADS_KEPT = 64
INVALID_OPENID = 40003
# 45009: the day's quota of API calls is used up; 45011: calls too frequent. Everybody waits.
RATE_LIMITS = {45009: 600.0, 45011: 60.0}


@dataclass(frozen=True)
class WeChatMessage:
    texts: list[str]  # customer-service texts, each within WeChat's size limit
    image: Attachment | None  # bytes to upload, or a WeChat file id (an image a person sent)
    template: tuple[str, dict[str, str]] | None  # the template id and data, when this kind has one


class WeChatSender:
    channel = CHANNEL

    def __init__(self, api: WeChatApi, templates: Mapping[str, str], timezone: str) -> None:
        self.api = api
        self.templates = templates
        self.timezone = ZoneInfo(timezone)
        self._uploads: dict[str, tuple[str, float]] = {}  # sha1 of the bytes → media_id, uploaded at

    def render(self, reply: Reply, locale: str, source: str) -> WeChatMessage:
        reply = shown_on(reply, self.channel)
        image = reply.attachment if reply.attachment is not None and reply.attachment.kind == "photo" else None
        template_id = self.templates.get(source.split(":", 1)[0])
        template = (template_id, self._template_data(reply, locale)) if template_id else None
        return WeChatMessage(split_bytes(render(reply, locale), MAX_TEXT_BYTES), image, template)

    def _template_data(self, reply: Reply, locale: str) -> dict[str, str]:
        text = render_text(reply.text, locale)
        title = render_text(reply.title, locale) if reply.title is not None else text.split("\n", 1)[0]
        now = datetime.now(self.timezone).strftime("%Y-%m-%d %H:%M")
        return {"title": _cut(title, TITLE_CHARACTERS), "content": _cut(text, CONTENT_CHARACTERS), "time": now}

    async def send(self, chat_id: str, rendered: WeChatMessage) -> None:
        try:
            try:
                await self._customer_service(chat_id, rendered)
            except (OutsideReplyWindow, TooManyMessages) as error:
                if rendered.template is None:
                    raise OutsideWindow(str(error)) from error
                await self.api.send_template(chat_id, *rendered.template)
        except WeChatApiError as error:
            raise delivery_error(error) from error

    async def _customer_service(self, openid: str, rendered: WeChatMessage) -> None:
        """The texts, then the picture. A message of several parts that fails after the first is
        sent whole again later: the person may read the first part twice, never miss one."""
        for text in rendered.texts:
            await self.api.send_text(openid, text)
        if rendered.image is not None:
            await self.api.send_image(openid, await self._media_id(rendered.image))

    async def _media_id(self, image: Attachment) -> str:
        if image.file_id is not None:  # shown_on let only WeChat's own file ids through
            return image.file_id.removeprefix(WECHAT_FILE_PREFIX)
        content = image.content or b""
        key = hashlib.sha1(content).hexdigest()
        kept = self._uploads.get(key)
        if kept is not None and time.time() - kept[1] < UPLOAD_KEPT_SECONDS:
            return kept[0]
        media_id = await self.api.upload_image(content, image.filename)
        if len(self._uploads) >= UPLOADS_KEPT:
            del self._uploads[next(iter(self._uploads))]
        self._uploads[key] = (media_id, time.time())
        return media_id


def delivery_error(error: WeChatApiError) -> DeliveryError:
    """WeChat's error in the sender's terms."""
    if error.errcode in RATE_LIMITS:
        return RateLimited(str(error), RATE_LIMITS[error.errcode])
    if isinstance(error, NotFollowing) or error.errcode == INVALID_OPENID:
        return Unreachable(str(error))  # unfollowed: nothing reaches them until they follow again
    if isinstance(error, InvalidAccessToken) or error.errcode == SYSTEM_BUSY:
        return Temporary(str(error))  # the token was refreshed once already; the network, WeChat busy
    return Rejected(str(error))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
