"""What the sender needs from a channel: render a reply in a language, send it to a chat, and
say in the sender's terms what went wrong. Telegram's adapter is bot/delivery/telegram.py,
WeChat's bot/delivery/wechat.py."""

from __future__ import annotations

from typing import Protocol, TypeVar

from bot.replies import Reply

Rendered = TypeVar("Rendered")


class ChannelSender(Protocol[Rendered]):
    # The channel's name, as in outbox_deliveries.channel and channel_identities.channel.
    channel: str
    # Options are numbered lines there (WeChat): the menu of a delivered message is remembered
    # in the person's conversation, so that replying "1" chooses from it as from any answer.
    numbered_options: bool

    def render(self, reply: Reply, locale: str, source: str) -> Rendered:
        """The reply as the channel sends it in one language; the sender renders a message once
        per language and sends the result to every reader of that language. `source` is the
        outbox message's ("notice:17"): its kind may choose a form (WeChat's templates)."""
        ...

    async def send(self, chat_id: str, rendered: Rendered) -> None: ...


class DeliveryError(Exception):
    """Why a message was not delivered; the message is kept (shortened) in the row's `error`."""


class RateLimited(DeliveryError):
    """Too many requests: everybody waits `retry_after` seconds, then the message goes again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The person blocked the bot (or left the chat): nothing more is sent to them."""


class Rejected(DeliveryError):
    """The channel refused this message (a bad request): sending it again would not help."""


class Temporary(DeliveryError):
    """A network error or a server error: try again later."""


class OutsideWindow(DeliveryError):
    """The channel lets the bot write to this person only after they write again (WeChat: 48
    hours after their last message): the message waits, marked `waiting`, until they do."""
