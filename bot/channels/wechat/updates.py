"""From a message WeChat pushed to what the bot answers, in one transaction.

As for Telegram (handlers/middlewares.py): the message's key is claimed in processed_updates,
the person found, the flow run and the options remembered, what waited for the person outside
WeChat's 48-hour window released, and a reply later than WeChat waits put in the outbox; then
the transaction commits, and only then is anything said. WeChat sends a message again when it
had no answer within 5 seconds, so a key already claimed is answered with nothing, and a crash
before the commit leaves it unclaimed for the next try.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy.events import BaseEvent, ClickEvent, ScanEvent, SubscribeEvent, SubscribeScanEvent
from wechatpy.messages import BaseMessage, ImageMessage, LocationMessage, TextMessage

from bot.channels.wechat import CHANNEL, TRAITS
from bot.channels.wechat.delivery import photos_of, queue_late_reply, texts_for
from bot.config import Settings
from bot.conversations import dispatch
from bot.conversations.turn import Turn
from bot.delivery import outbox
from bot.i18n import translate
from bot.replies import WECHAT_FILE_PREFIX, Attachment, Response
from bot.routing import RoutingEngine
from bot.services import people
from handlers.errors import APOLOGY
from storage.db import again_if_disconnected, update_sessions
from storage.models import Person, ProcessedUpdate, utcnow

log = logging.getLogger(__name__)
Action = Callable[[Turn], Awaitable[Response]]
# Time kept for the commit when deciding whether a reply can still be the passive one.
COMMIT_MARGIN_SECONDS = 0.2


@dataclass(frozen=True)
class Outcome:
    openid: str
    person_id: int | None  # None when the message failed before the person was known
    texts: list[str]  # the first is the passive reply; the others follow it through the outbox
    photos: list[Attachment] = field(default_factory=list)  # they follow the texts
    queued: bool = False  # too late for the passive reply: all of it is in the outbox already

    @property
    def rest(self) -> bool:
        """Something follows the passive reply."""
        return len(self.texts) > 1 or bool(self.photos)


def action_for(message: BaseMessage) -> Action | None:
    """What a message asks of the conversation; None for what needs no answer (a menu link
    opened, an unfollow, a template delivery receipt)."""
    if isinstance(message, TextMessage):
        return lambda turn: dispatch.on_text(turn, message.content or "")
    if isinstance(message, ImageMessage):
        # A photo step (a notice's picture) keeps the MediaId, which WeChat lets the bot send
        # again (for three days); marked as WeChat's, so Telegram is never handed it.
        return lambda turn: dispatch.on_photo(turn, WECHAT_FILE_PREFIX + str(message.media_id), "")
    if isinstance(message, (SubscribeScanEvent, ScanEvent)):
        # The stairwell's QR code carries the building's invite code: joining as by "/start CODE".
        return lambda turn: dispatch.on_text(turn, "/start " + (message.scene_id or ""))
    if isinstance(message, SubscribeEvent):
        return lambda turn: dispatch.on_text(turn, "/start")  # followed without a code: the welcome
    if isinstance(message, ClickEvent):
        # The custom menu's keys are command names (bot/channels/wechat/menu.py).
        return lambda turn: dispatch.on_text(turn, "/" + (message.key or ""))
    if isinstance(message, LocationMessage):
        return lambda turn: dispatch.on_location(turn, float(message.location_x or 0), float(message.location_y or 0), message.label or "")
    if isinstance(message, BaseEvent):
        return None
    return _unreadable  # a voice message, a video, a link ...


async def _unreadable(turn: Turn) -> Response:
    return dispatch.on_unreadable()


def update_key(message: BaseMessage) -> str:
    """Messages carry a MsgId; events do not, and are told apart by sender and time (and, so
    that two menu buttons clicked within a second both count, by what the event names)."""
    if message.id:
        return str(message.id)
    if isinstance(message, BaseEvent):
        detail = getattr(message, "key", None) or getattr(message, "scene_id", None) or ""
        return f"{message.source}:{message.time}:{message.event}:{detail}"[:100]
    return f"{message.source}:{message.time}:{message.type}"[:100]


class UpdateHandler:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, routing: RoutingEngine | None = None
    ) -> None:
        self.sessionmaker = update_sessions(sessionmaker)
        self.settings = settings
        self.default_locale = settings.default_locale
        self.routing = routing

    async def handle(self, message: BaseMessage, action: Action, deadline: float | None = None) -> Outcome | None:
        """What to answer with, after the commit; None when the message was handled before.
        Past `deadline` (the event loop's clock), WeChat no longer waits for the passive reply:
        the reply goes into the outbox in this same transaction."""
        key = update_key(message)
        locale = self.default_locale

        async def transaction() -> Outcome | None:
            nonlocal locale
            async with self.sessionmaker() as session:
                try:
                    await session.execute(insert(ProcessedUpdate).values(channel=CHANNEL, update_key=key, processed_at=utcnow()))
                except IntegrityError:
                    log.info("WeChat message %s was handled before; skipped", key)
                    return None
                turn = await self._turn(session, message.source)
                locale = turn.locale
                response = await action(turn)
                await turn.save(response)
                await outbox.release_waiting(session, turn.person.id, CHANNEL, message.source)
                outcome = Outcome(message.source, turn.person.id, texts_for(response, turn.locale), photos_of(response))
                if deadline is not None and asyncio.get_running_loop().time() >= deadline - COMMIT_MARGIN_SECONDS:
                    await queue_late_reply(session, outcome.openid, outcome.person_id, outcome.texts, outcome.photos)
                    outcome = Outcome(outcome.openid, outcome.person_id, [], queued=True)
                await session.commit()
            return outcome

        try:
            return await again_if_disconnected(transaction)
        except Exception:
            # Rolled back, claim included: nothing half-done was saved. Apologise, never stay silent.
            log.exception("WeChat message %s failed", key)
            return Outcome(message.source, None, [translate(locale, APOLOGY)])

    async def _turn(self, session: AsyncSession, openid: str) -> Turn:
        # WeChat says nothing of the person's language: their own choice, else the deployment's.
        person = await people.get_or_create_person(session, CHANNEL, openid)
        # One message of a person at a time, on every worker: a second waits for the first's commit
        # (PostgreSQL; SQLite admits one writer anyway).
        await session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
        return Turn(session, person, TRAITS, openid, person.reading_locale(self.default_locale), timezone=self.settings.timezone, routing=self.routing, settings=self.settings)
