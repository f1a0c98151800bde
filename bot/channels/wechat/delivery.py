"""What WeChat shows of a response: plain texts with numbered options, each within WeChat's size
limit, and its photos; and the one way anything goes out after the passive answer: the outbox
(`queue_late_reply`), whose WeChat sender keeps to the 48-hour window, the limits and retries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.text import render_response
from bot.channels.wechat import CHANNEL
from bot.delivery import outbox
from bot.replies import Attachment, Reply, Response
from storage.models import DeliveryPriority

# WeChat shows "该公众号暂时无法提供服务" for a longer passive reply and refuses a longer
# customer-service text (45002).
MAX_TEXT_BYTES = 2048
PARAGRAPH = "\n\n"


def texts_for(response: Response, locale: str) -> list[str]:
    """A passive reply carries one message, so the replies are joined into one text; only what
    does not fit WeChat's limit becomes further texts, which go out after it."""
    return split_bytes(PARAGRAPH.join(render_response(response, locale)), MAX_TEXT_BYTES)


def photos_of(response: Response) -> list[Attachment]:
    """The response's photos: they follow the text through the outbox, whose WeChat sender
    uploads them (or says in a note that a photo came, when it cannot have it)."""
    return [reply.attachment for reply in response.replies if reply.attachment is not None and reply.attachment.kind == "photo"]


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


async def queue_late_reply(
    session: AsyncSession, openid: str, person_id: int | None, texts: Sequence[str], photos: Sequence[Attachment]
) -> None:
    """What missed the passive reply (a reply later than WeChat waits, the parts of a long one
    after the first, its photos), through the outbox ahead of bulk messages. The texts, already
    in the person's language, go as one message so that they arrive in order; each further photo
    is a message of its own."""
    if not texts and not photos:
        return
    first, others = (photos[0], photos[1:]) if photos else (None, ())
    to = [outbox.Recipient(CHANNEL, openid, person_id)]
    for reply in [Reply(PARAGRAPH.join(texts), attachment=first), *(Reply("", attachment=photo) for photo in others)]:
        await outbox.enqueue(session, to, reply, source=f"reply:{openid}", priority=DeliveryPriority.personal)
