"""The delivery rows' way through a sender, in short transactions that never wait on the network:
claim (pending → sending, under a lease), renew the lease, take back expired leases, and
record many outcomes at once.

Claiming is safe with several workers: on PostgreSQL the due rows are selected FOR UPDATE SKIP
LOCKED and marked in the same transaction, so a row locked by one worker is skipped by the
others; SQLite's transactions begin IMMEDIATE (storage/db.py), so claims simply take turns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.replies import Reply, render_text, reply_from_json
from storage.db import upsert_insert
from storage.models import ChannelIdentity, Conversation, DeliveryPriority, DeliveryStatus, OutboxDelivery, OutboxMessage, Person, reading_locale

deliveries = OutboxDelivery.__table__
ERROR_LENGTH = 200
IDS_PER_STATEMENT = 500  # well under any database's limit on bound parameters


@dataclass(frozen=True)
class Claimed:
    """A row this sender holds, ready to send: the reply decoded, the reader's language chosen."""

    id: int
    message_id: int
    chat_id: str
    person_id: int | None
    attempts: int
    locale: str
    reply: Reply
    source: str  # the outbox message's, e.g. "notice:17"


@dataclass
class Outcomes:
    """What happened to claimed rows since the last write, recorded in one transaction."""

    sent: list[int] = field(default_factory=list)
    # Not tried (the chat had a message just now): pending again from a time, not an attempt.
    later: list[tuple[int, datetime]] = field(default_factory=list)
    # A failed attempt to try again from a time.
    retry: list[tuple[int, datetime, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    # Refused because the person blocked the bot (or removed it from the group).
    unreachable: list[tuple[Claimed, str]] = field(default_factory=list)
    # Outside the channel's window: waits until the person writes (outbox.release_waiting).
    waiting: list[tuple[int, str]] = field(default_factory=list)
    # Sent with numbered options, whose menu the person's conversation keeps (not an outcome of
    # its own: a row here is in `sent` too).
    menus: list[Claimed] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sent) + len(self.later) + len(self.retry) + len(self.failed) + len(self.unreachable) + len(self.waiting)

    def add(self, other: Outcomes) -> None:
        self.sent += other.sent
        self.later += other.later
        self.retry += other.retry
        self.failed += other.failed
        self.unreachable += other.unreachable
        self.menus += other.menus
        self.waiting += other.waiting


async def claim(session: AsyncSession, channel: str, worker: str, limit: int, default_locale: str, now: datetime) -> list[Claimed]:
    """Up to `limit` due rows of the channel, most urgent priority first, oldest first."""
    rows: list[Any] = []
    for priority in DeliveryPriority:
        if len(rows) >= limit:
            break
        rows += (
            await session.execute(
                select(
                    deliveries.c.id, deliveries.c.message_id, deliveries.c.chat_id, deliveries.c.person_id,
                    deliveries.c.attempts, Person.locale, Person.client_locale,
                )
                .select_from(deliveries.outerjoin(Person, Person.id == deliveries.c.person_id))
                .where(
                    deliveries.c.status == DeliveryStatus.pending, deliveries.c.channel == channel,
                    deliveries.c.priority == int(priority), deliveries.c.not_before <= now,
                )
                .order_by(deliveries.c.not_before, deliveries.c.id)
                .limit(limit - len(rows))
                .with_for_update(of=deliveries, skip_locked=True)
            )
        ).all()
    if not rows:
        return []
    for ids in _chunks([row.id for row in rows]):
        await session.execute(
            update(deliveries).where(deliveries.c.id.in_(ids)).values(status=DeliveryStatus.sending, claimed_by=worker, claimed_at=now)
        )
    messages = {
        message_id: (reply_from_json(data), source)
        for message_id, data, source in await session.execute(
            select(OutboxMessage.id, OutboxMessage.reply, OutboxMessage.source).where(OutboxMessage.id.in_({row.message_id for row in rows}))
        )
    }
    return [
        Claimed(
            row.id, row.message_id, row.chat_id, row.person_id, row.attempts,
            reading_locale(row.locale, row.client_locale, default_locale), *messages[row.message_id],
        )
        for row in rows
    ]


async def renew(session: AsyncSession, channel: str, worker: str, now: datetime) -> None:
    """This sender is alive: its rows keep their lease."""
    await session.execute(
        update(deliveries)
        .where(deliveries.c.status == DeliveryStatus.sending, deliveries.c.channel == channel, deliveries.c.claimed_by == worker)
        .values(claimed_at=now)
    )


async def take_back_expired(session: AsyncSession, channel: str, lease: timedelta, now: datetime) -> int:
    """Rows whose sender stopped renewing its lease (it crashed) are pending again. A row that
    was on its way when the sender died may now be sent twice; no other row can be."""
    result = await session.execute(
        update(deliveries)
        .where(deliveries.c.status == DeliveryStatus.sending, deliveries.c.channel == channel, deliveries.c.claimed_at < now - lease)
        .values(status=DeliveryStatus.pending, claimed_by=None, claimed_at=None)
    )
    return result.rowcount or 0


async def release(session: AsyncSession, worker: str, ids: Sequence[int]) -> None:
    """Rows this sender claimed and will not send (it is stopping): pending again, at once."""
    for chunk in _chunks(ids):
        await session.execute(_held(worker).where(deliveries.c.id.in_(chunk)).values(status=DeliveryStatus.pending, claimed_by=None, claimed_at=None))


async def record(session: AsyncSession, channel: str, worker: str, outcomes: Outcomes, now: datetime) -> None:
    """Write the outcomes, each only to a row this sender still holds."""
    for ids in _chunks(outcomes.sent):
        await session.execute(
            _held(worker).where(deliveries.c.id.in_(ids)).values(status=DeliveryStatus.sent, sent_at=now, attempts=deliveries.c.attempts + 1, error=None)
        )
    row = _held(worker).where(deliveries.c.id == bindparam("b_id"))
    pending_again = {"status": DeliveryStatus.pending, "claimed_by": None, "claimed_at": None, "not_before": bindparam("b_due")}
    if outcomes.later:
        await session.execute(row.values(pending_again), [{"b_id": i, "b_due": due} for i, due in outcomes.later])
    if outcomes.retry:
        await session.execute(
            row.values({**pending_again, "attempts": deliveries.c.attempts + 1, "error": bindparam("b_error")}),
            [{"b_id": i, "b_due": due, "b_error": error[:ERROR_LENGTH]} for i, due, error in outcomes.retry],
        )
    if outcomes.waiting:
        await session.execute(
            row.values(status=DeliveryStatus.waiting, claimed_by=None, claimed_at=None, error=bindparam("b_error")),
            [{"b_id": i, "b_error": error[:ERROR_LENGTH]} for i, error in outcomes.waiting],
        )
    failed = outcomes.failed + [(held.id, error) for held, error in outcomes.unreachable]
    if failed:
        await session.execute(
            row.values(status=DeliveryStatus.failed, attempts=deliveries.c.attempts + 1, error=bindparam("b_error")),
            [{"b_id": i, "b_error": error[:ERROR_LENGTH]} for i, error in failed],
        )
    people = [held for held, _ in outcomes.unreachable if held.person_id is not None]
    for start in range(0, len(people), IDS_PER_STATEMENT):
        await _mark_unreachable(session, channel, people[start : start + IDS_PER_STATEMENT], now)
    if outcomes.menus:
        await _remember_menus(session, channel, outcomes.menus, now)


async def _remember_menus(session: AsyncSession, channel: str, sent: Sequence[Claimed], now: datetime) -> None:
    """The newest menu each person was sent, as they read it; their step and its data stay."""
    insert = upsert_insert(session)
    rows = {
        (held.chat_id, held.person_id): [[render_text(option.label, held.locale), option.payload] for option in held.reply.options]
        for held in sent
    }
    statement = insert(Conversation).values(
        channel=channel, chat_id=bindparam("b_chat"), person_id=bindparam("b_person"), data={}, options=bindparam("b_options"), updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["channel", "chat_id", "person_id"], set_={"options": statement.excluded.options, "updated_at": now}
    )
    await session.execute(statement, [{"b_chat": chat, "b_person": person, "b_options": options} for (chat, person), options in rows.items()])


async def _mark_unreachable(session: AsyncSession, channel: str, people: Sequence[Claimed], now: datetime) -> None:
    """These people blocked the bot: their identity on the channel is marked (recipients() leaves
    it out until they write again), and their other messages waiting there fail untried."""
    chats = [held.chat_id for held in people]
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id.in_(chats), ChannelIdentity.unreachable_at.is_(None))
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(deliveries)
        .where(
            # person_id is indexed; the chat narrows it to the blocked identity.
            deliveries.c.person_id.in_([held.person_id for held in people]), deliveries.c.channel == channel, deliveries.c.chat_id.in_(chats),
            deliveries.c.status.in_((DeliveryStatus.pending, DeliveryStatus.waiting)),
        )
        .values(status=DeliveryStatus.failed, error="unreachable: the person blocked the bot")
    )


def _held(worker: str) -> Any:
    return update(deliveries).where(deliveries.c.status == DeliveryStatus.sending, deliveries.c.claimed_by == worker)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        yield ids[start : start + IDS_PER_STATEMENT]
