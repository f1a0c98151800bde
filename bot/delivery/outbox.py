"""The outbox: everything the bot sends on its own is written here, in the transaction of the
change that causes it (a report moved, a vote opened), so the change is never saved without
its messages nor the other way round. The sender (bot/delivery/sender.py) delivers it.

    await outbox.enqueue_to_people(session, person_ids, reply, source=f"report:{report.id}")
    await outbox.enqueue(session, [outbox.Recipient("telegram", group_chat_id)], reply, source=f"vote:{vote.id}:open")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Insert, Select, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.replies import Reply, reply_to_json
from storage.models import ChannelIdentity, DeliveryPriority, DeliveryStatus, OutboxDelivery, OutboxMessage, utcnow

INSERT_CHUNK = 5000  # rows per INSERT, so that a city-wide notice never sits in memory whole
# On the table, built once: most updates that change something queue a message.
_MESSAGE = insert(OutboxMessage.__table__)
_DELIVERIES = insert(OutboxDelivery.__table__)


@dataclass(frozen=True)
class Recipient:
    """A chat on a channel: a person's private chat, or a group (person_id None, read in the
    deployment's default language)."""

    channel: str
    chat_id: str
    person_id: int | None = None


async def recipients(session: AsyncSession, person_ids: Iterable[int] | Select[tuple[int]]) -> list[Recipient]:
    """Each person once, on the channel they came to last (their newest identity), leaving out
    identities that blocked the bot. `person_ids` may be a query, so it can stay in SQL."""
    if isinstance(person_ids, Select):
        rows = await session.execute(_newest_identities(person_ids))
    else:
        rows = await session.execute(_NEWEST_IDENTITIES_OF_LISTED, {"person_ids": list(person_ids)})
    return [Recipient(channel, chat_id, person_id) for channel, chat_id, person_id in rows]


def _newest_identities(person_ids: Any, *leading: Any) -> Select[Any]:
    """Each person's newest reachable identity: (*leading, channel, chat id, person id)."""
    newest = (
        select(func.max(ChannelIdentity.id))
        .where(ChannelIdentity.person_id.in_(person_ids), ChannelIdentity.unreachable_at.is_(None))
        .group_by(ChannelIdentity.person_id)
    )
    return (
        select(*leading, ChannelIdentity.channel, ChannelIdentity.external_id, ChannelIdentity.person_id)
        .where(ChannelIdentity.id.in_(newest))
        .order_by(ChannelIdentity.person_id)
    )


def _deliveries_to_newest_identities(person_ids: Any) -> Insert:
    """INSERT … SELECT of a delivery per person, on their newest identity: the recipients never
    leave the database (a city-wide notice's are 121,016), and it is one statement."""
    deliveries = OutboxDelivery.__table__.c
    same_for_all = (deliveries.message_id, deliveries.priority, deliveries.status, deliveries.attempts, deliveries.not_before)
    return insert(OutboxDelivery.__table__).from_select(
        [*same_for_all, deliveries.channel, deliveries.chat_id, deliveries.person_id],
        _newest_identities(person_ids, *(bindparam(f"new_{column.key}", type_=column.type) for column in same_for_all)),
    )


# Built once: a report's change, a reminder, an answer each tell a few people by their ids.
_NEWEST_IDENTITIES_OF_LISTED = _newest_identities(bindparam("person_ids", expanding=True))
_DELIVERIES_TO_LISTED = _deliveries_to_newest_identities(bindparam("person_ids", expanding=True))
# Most such messages are for one person (a report's handler, its reporter): an expanding list is
# rendered anew at every execution, which cost more than the rest of the statement's run.
_DELIVERIES_TO_ONE = _deliveries_to_newest_identities([bindparam("person_id")])


async def enqueue(
    session: AsyncSession,
    to: Iterable[Recipient],
    reply: Reply,
    *,
    source: str,
    priority: DeliveryPriority = DeliveryPriority.bulk,
    not_before: datetime | None = None,
) -> int:
    """Queue `reply` for every recipient, in the caller's transaction; nothing is sent before it
    commits. `source` names what caused it ("notice:17", "report:5"), for progress and
    cancellation; `not_before` schedules it. Returns the message's id."""
    written = await session.execute(_MESSAGE, {"source": source, "reply": reply_to_json(reply)})
    message_id = written.inserted_primary_key[0]
    due = not_before or utcnow()
    remaining = iter(to)
    while chunk := list(islice(remaining, INSERT_CHUNK)):
        await session.execute(
            _DELIVERIES,
            [
                {
                    "message_id": message_id, "channel": r.channel, "chat_id": r.chat_id, "person_id": r.person_id,
                    "priority": int(priority), "status": DeliveryStatus.pending, "attempts": 0, "not_before": due,
                }
                for r in chunk
            ],
        )
    return message_id


async def enqueue_to_people(
    session: AsyncSession,
    person_ids: Iterable[int] | Select[tuple[int]],
    reply: Reply,
    *,
    source: str,
    priority: DeliveryPriority = DeliveryPriority.bulk,
) -> int:
    """Queue `reply` for each person once, on the channel they came to last (as recipients()
    chooses), in the caller's transaction, with one INSERT … SELECT however many they are.
    `person_ids` may be a query. Nothing stays written when no one can be reached. Returns how
    many deliveries were queued."""
    written = await session.execute(_MESSAGE, {"source": source, "reply": reply_to_json(reply)})
    message_id = written.inserted_primary_key[0]
    constants = {"new_message_id": message_id, "new_priority": int(priority), "new_status": DeliveryStatus.pending, "new_attempts": 0, "new_not_before": utcnow()}
    if isinstance(person_ids, Select):
        queued = await session.execute(_deliveries_to_newest_identities(person_ids), constants)
    elif len(listed := list(person_ids)) == 1:
        queued = await session.execute(_DELIVERIES_TO_ONE, constants | {"person_id": listed[0]})
    else:
        queued = await session.execute(_DELIVERIES_TO_LISTED, constants | {"person_ids": listed})
    count = queued.rowcount or 0
    if not count:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id))
    return count


@dataclass(frozen=True)
class Progress:
    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    waiting: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    @property
    def finished(self) -> bool:
        """Nothing is left to send (or to wait for)."""
        return self.pending == self.sending == self.waiting == 0


def _of_source(source: str) -> Select[tuple[int]]:
    return select(OutboxMessage.id).where(OutboxMessage.source == source)


async def progress(session: AsyncSession, source: str) -> Progress:
    """How many of the source's deliveries are in each state."""
    rows = await session.execute(
        select(OutboxDelivery.status, func.count())
        .where(OutboxDelivery.message_id.in_(_of_source(source)))
        .group_by(OutboxDelivery.status)
    )
    return Progress(**{status.value: count for status, count in rows})


async def cancel(session: AsyncSession, source: str) -> int:
    """Stop what is not yet sent; messages a sender holds already (a fraction of a second's
    worth) still go. Returns how many were cancelled."""
    result = await session.execute(
        update(OutboxDelivery)
        .where(
            OutboxDelivery.message_id.in_(_of_source(source)),
            OutboxDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.waiting)),
        )
        .values(status=DeliveryStatus.cancelled)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def release_waiting(session: AsyncSession, person_id: int, channel: str, chat_id: str) -> int:
    """The person wrote on this channel: what waited for them (outside WeChat's 48-hour window)
    is pending again, to go at once. In the transaction of their message, so a message handled
    is never without its release. Returns how many were released."""
    result = await session.execute(
        update(OutboxDelivery)
        .where(
            OutboxDelivery.person_id == person_id,  # indexed; the channel and chat narrow it to this identity
            OutboxDelivery.channel == channel,
            OutboxDelivery.chat_id == chat_id,
            OutboxDelivery.status == DeliveryStatus.waiting,
        )
        .values(status=DeliveryStatus.pending, not_before=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# Delivery records are kept this long (a notice's /notices figures read them), then swept away:
# a city-wide notice alone leaves 121,016 rows.
KEPT_DAYS = 90
MESSAGES_FORGOTTEN_AT_ONCE = 100


async def forget_old(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """A sweep: messages older than KEPT_DAYS with nothing left to send, with their deliveries.
    Returns how many messages went."""
    unfinished = exists().where(
        OutboxDelivery.message_id == OutboxMessage.id,
        OutboxDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.sending, DeliveryStatus.waiting)),
    )
    old = list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.created_at < now - timedelta(days=KEPT_DAYS), ~unfinished)
            .order_by(OutboxMessage.id)
            .limit(MESSAGES_FORGOTTEN_AT_ONCE)
        )
    )
    if old:
        await session.execute(delete(OutboxDelivery).where(OutboxDelivery.message_id.in_(old)))
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(old)))
    return len(old)
