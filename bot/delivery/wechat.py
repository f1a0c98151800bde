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

Photos go as image messages after the text: bytes (a chart) are uploaded as temporary media, an
image a person sent on WeChat is sent by its MediaId, and a photo taken on Telegram is fetched
from Telegram and uploaded where the deployment runs Telegram too; otherwise the text carries a
note that a photo came with it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
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


FetchFile = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class WeChatMessage:
    texts: list[str]  # customer-service texts, each within WeChat's size limit
    image: Attachment | None  # bytes to upload, WeChat's file id (an image a person sent), or Telegram's
    # The texts with a note that a photo came with them, for when the photo cannot be had.
    noted_texts: list[str]
    template: tuple[str, dict[str, str]] | None  # the template id and data, when this kind has one


class WeChatSender:
    """`telegram_file` fetches a Telegram file's bytes (where Telegram is configured too), so that
    a photo taken on Telegram (a grid worker's answer) reaches a WeChat resident as a picture;
    without it, or when the fetch fails, they get the text with a note."""

    channel = CHANNEL
    numbered_options = True

    def __init__(self, api: WeChatApi, templates: Mapping[str, str], timezone: str, telegram_file: FetchFile | None = None) -> None:
        self.api = api
        self.templates = templates
        self.timezone = ZoneInfo(timezone)
        self.telegram_file = telegram_file
        self._uploads: dict[str, tuple[str, float]] = {}  # the picture's key → media_id, uploaded at

    def render(self, reply: Reply, locale: str, source: str) -> WeChatMessage:
        noted = shown_on(reply, self.channel)  # another channel's photo as a note
        image = reply.attachment if reply.attachment is not None and reply.attachment.kind == "photo" else None
        if image is not None and not self._can_send(image):
            reply, image = noted, None
        template_id = self.templates.get(source.split(":", 1)[0])
        template = (template_id, self._template_data(noted, locale)) if template_id else None
        return WeChatMessage(_texts(reply, locale), image, _texts(noted, locale), template)

    def _can_send(self, image: Attachment) -> bool:
        """Bytes and WeChat's own file ids always; Telegram's when they can be fetched."""
        return image.file_channel in (None, self.channel) or (image.file_channel == "telegram" and self.telegram_file is not None)

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
        """The picture is made ready first (uploaded, or fetched from Telegram and uploaded), then
        the texts go, then the picture. A message of several parts that fails after the first is
        sent whole again later: the person may read the first part twice, never miss one."""
        media_id = await self._media_id(rendered.image) if rendered.image is not None else None
        for text in rendered.texts if media_id is not None or rendered.image is None else rendered.noted_texts:
            await self.api.send_text(openid, text)
        if media_id is not None:
            await self.api.send_image(openid, media_id)

    async def _media_id(self, image: Attachment) -> str | None:
        """WeChat's id of the picture; None when a Telegram photo could not be fetched."""
        if image.file_channel == self.channel:
            return (image.file_id or "").removeprefix(WECHAT_FILE_PREFIX)
        key = "telegram:" + image.file_id if image.file_id is not None else hashlib.sha1(image.content or b"").hexdigest()
        kept = self._uploads.get(key)
        if kept is not None and time.time() - kept[1] < UPLOAD_KEPT_SECONDS:
            return kept[0]
        content = image.content
        if image.file_id is not None:
            content = await self._from_telegram(image.file_id)
            if content is None:
                return None
        media_id = await self.api.upload_image(content or b"", "photo.jpg" if image.file_id else image.filename)
        if len(self._uploads) >= UPLOADS_KEPT:
            del self._uploads[next(iter(self._uploads))]
        self._uploads[key] = (media_id, time.time())
        return media_id

    async def _from_telegram(self, file_id: str) -> bytes | None:
        assert self.telegram_file is not None  # render() kept Telegram's photos only with a way to fetch them
        try:
            return await self.telegram_file(file_id)
        except Exception as error:  # noqa: BLE001 - whatever Telegram answers, the person still gets the text
            log.warning("the Telegram photo %s could not be fetched for WeChat: %s", file_id, error)
            return None


def delivery_error(error: WeChatApiError) -> DeliveryError:
    """WeChat's error in the sender's terms."""
    if error.errcode in RATE_LIMITS:
        return RateLimited(str(error), RATE_LIMITS[error.errcode])
    if isinstance(error, NotFollowing) or error.errcode == INVALID_OPENID:
        return Unreachable(str(error))  # unfollowed: nothing reaches them until they follow again
    if isinstance(error, InvalidAccessToken) or error.errcode == SYSTEM_BUSY:
        return Temporary(str(error))  # the token was refreshed once already; the network, WeChat busy
    return Rejected(str(error))


def _texts(reply: Reply, locale: str) -> list[str]:
    return split_bytes(render(reply, locale), MAX_TEXT_BYTES)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
