"""What WeChat shows of a response: plain texts with numbered options, each within WeChat's size
limit; and the one way a reply goes out after the passive answer, `send_late_reply`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.channels.text import render_response
from bot.channels.wechat.api import WeChatApi, WeChatApiError
from bot.replies import Response

log = logging.getLogger(__name__)
# WeChat shows "该公众号暂时无法提供服务" for a longer passive reply and refuses a longer
# customer-service text (45002).
MAX_TEXT_BYTES = 2048
PARAGRAPH = "\n\n"


def texts_for(response: Response, locale: str) -> list[str]:
    """A passive reply carries one message, so the replies are joined into one text; only what
    does not fit WeChat's limit becomes further texts, which go out after it."""
    return split_bytes(PARAGRAPH.join(render_response(response, locale)), MAX_TEXT_BYTES)


def split_bytes(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, split at line breaks where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line.encode()) > limit:  # one line too long: cut it at a character boundary
            head = line.encode()[:limit].decode(errors="ignore")
            parts += [current, head]
            current, line = "", line[len(head) :]
        joined = current + "\n" + line if current else line
        if len(joined.encode()) > limit:
            parts.append(current)
            joined = line
        current = joined
    parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


async def send_late_reply(api: WeChatApi, openid: str, texts: Sequence[str]) -> None:
    """Send, through the customer-service API, what missed the passive reply: a reply that took
    longer than WeChat waits, or the parts of a long one after the first.

    For now a direct call, once, after the update's transaction committed. The durable outbox
    will take this over (retries, the 48-hour window, waiting rows); its sender calls
    `WeChatApi.send_text`, which raises the typed errors it needs."""
    for text in texts:
        try:
            await api.send_text(openid, text)
        except WeChatApiError as error:
            log.warning("a late reply to %s was not delivered: %s", openid, error)
            return
