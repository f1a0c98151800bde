"""The delivery path: the outbox written with the change that causes it, and senders that
deliver it over real HTTP to the Bot API emulator within its rate limits, through flood
waits, blocked users, network errors, crashes and a second worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import claims, outbox
from bot.delivery.limits import create_limiter
from bot.delivery.outbox import Recipient
from bot.delivery.sender import Sender
from bot.delivery.telegram import TelegramSender, delivery_bot
from bot.emulator import BotApiEmulator
from bot.emulator.server import Fault
from bot.replies import Attachment, L, Lines, Lplural, Option, Reply, render_text, reply_from_json, reply_to_json
from bot.scheduling import run_sweeps
from bot.services import people
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import ChannelIdentity, DeliveryPriority, DeliveryStatus, OutboxDelivery, OutboxMessage, Person, utcnow
from tests.conftest import POSTGRES_URL, REDIS_URL, RunningBot, redis_available

Sessions = async_sessionmaker[AsyncSession]
NOTICE = Reply(
    L("You are already a member of the household {address}.", address="西冲塘小区 1栋 301"),
    title=L("Your households"),
    options=(Option(L("verified"), "ack:1"),),
)


@asynccontextmanager
async def emulator_running(**limits: Any) -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(**limits)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@asynccontextmanager
async def sender_running(
    sessionmaker: Sessions, emulator: BotApiEmulator, *, rate: float = 200, chat_interval: float = 0, redis_url: str | None = None, **options: Any
) -> AsyncIterator[Sender]:
    """A Telegram sender at work until the block ends, then stopped as the bot stops it."""
    bot = delivery_bot(emulator.token, emulator.base_url)
    limiter = create_limiter("telegram", rate, chat_interval, redis_url)
    options = {"idle_poll": 0.05, "record_every": 0.05, "first_retry": 0.05, **options}
    sender = Sender(sessionmaker, TelegramSender(bot), limiter, rate=rate, default_locale="zh_CN", **options)
    task = asyncio.create_task(sender.run())
    try:
        yield sender
    finally:
        sender.stop()
        await task
        await limiter.close()
        await bot.session.close()


async def residents(sessionmaker: Sessions, emulator: BotApiEmulator, chats: range | list[int], locale: str | None = None) -> list[int]:
    """People who have written to the bot (so Telegram lets it write to them); their ids."""
    ids = []
    async with sessionmaker.begin() as session:
        for chat in chats:
            person = await people.get_or_create_person(session, people.TELEGRAM, str(chat), f"住户{chat}", client_locale=locale)
            ids.append(person.id)
            emulator.open_chat(chat, f"住户{chat}")
    return ids


async def notify(sessionmaker: Sessions, person_ids: list[int], reply: Reply = NOTICE, source: str = "notice:1", **options: Any) -> None:
    async with sessionmaker.begin() as session:
        await outbox.enqueue(session, await outbox.recipients(session, person_ids), reply, source=source, **options)


async def finished(sessionmaker: Sessions, source: str = "notice:1", timeout: float = 15) -> outbox.Progress:
    deadline = time.monotonic() + timeout
    while True:
        async with sessionmaker() as session:
            progress = await outbox.progress(session, source)
        if progress.finished or time.monotonic() > deadline:
            return progress
        await asyncio.sleep(0.05)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Sessions]:
    """A SQLite database, for tests whose subject is the sender rather than the database."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


def copies(emulator: BotApiEmulator, chat: int) -> list[dict[str, Any]]:
    return emulator.messages.get(chat, [])


async def test_every_recipient_gets_one_copy_in_their_own_language(sessionmaker: Sessions) -> None:
    async with emulator_running() as emulator:
        english_client = await residents(sessionmaker, emulator, [7001], locale="en")
        chinese_client = await residents(sessionmaker, emulator, [7002], locale="zh_CN")
        chose_english = await residents(sessionmaker, emulator, [7003], locale="zh_CN")
        others = await residents(sessionmaker, emulator, range(7010, 7040))
        async with sessionmaker.begin() as session:
            (await session.get_one(Person, chose_english[0])).locale = "en"
        group = Recipient("telegram", "-1007", None)
        emulator.open_chat(7001, chat={"id": -1007, "type": "supergroup", "title": "1栋业主群"})
        async with sessionmaker.begin() as session:
            recipients = await outbox.recipients(session, english_client + chinese_client + chose_english + others)
            await outbox.enqueue(session, [*recipients, group], NOTICE, source="notice:1")

        async with sender_running(sessionmaker, emulator):
            progress = await finished(sessionmaker)

    assert progress == outbox.Progress(sent=34)
    english = "Your households\nYou are already a member of the household 西冲塘小区 1栋 301."
    chinese = "您的住户\n您已经是 西冲塘小区 1栋 301 的住户成员。"
    assert [m["text"] for m in copies(emulator, 7001)] == [english]
    assert [m["text"] for m in copies(emulator, 7003)] == [english]
    assert [m["text"] for m in copies(emulator, 7002)] == [chinese]
    assert [m["text"] for m in copies(emulator, -1007)] == [chinese]  # a group reads the default language
    assert copies(emulator, 7001)[0]["reply_markup"]["inline_keyboard"] == [[{"text": "verified", "callback_data": "ack:1"}]]
    assert copies(emulator, 7002)[0]["reply_markup"]["inline_keyboard"] == [[{"text": "已认证", "callback_data": "ack:1"}]]
    assert all(len(copies(emulator, chat)) == 1 for chat in range(7010, 7040))


async def test_the_outbox_row_is_written_with_the_change_or_not_at_all(sessionmaker: Sessions) -> None:
    async with emulator_running() as emulator:
        [person_id] = await residents(sessionmaker, emulator, [7101])

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with sessionmaker.begin() as session:
            (await session.get_one(Person, person_id)).display_name = "改过的名字"
            await outbox.enqueue(session, await outbox.recipients(session, [person_id]), NOTICE, source="report:1")
            raise Abandoned  # the change fails after the message was queued: neither is kept
    async with sessionmaker() as session:
        assert (await session.get_one(Person, person_id)).display_name == "住户7101"
        assert await session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    async with sessionmaker.begin() as session:
        (await session.get_one(Person, person_id)).display_name = "改过的名字"
        await outbox.enqueue(session, await outbox.recipients(session, [person_id]), NOTICE, source="report:1")
    async with sessionmaker() as session:
        assert (await session.get_one(Person, person_id)).display_name == "改过的名字"
        assert await outbox.progress(session, "report:1") == outbox.Progress(pending=1)


async def test_a_flood_limit_makes_everyone_wait_and_loses_no_one(sqlite: Sessions) -> None:
    sessionmaker = sqlite
    async with emulator_running() as emulator:
        ids = await residents(sessionmaker, emulator, range(7201, 7221))
        await notify(sessionmaker, ids)
        emulator.faults.append(Fault("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1))
        async with sender_running(sessionmaker, emulator):
            progress = await finished(sessionmaker)

    assert progress == outbox.Progress(sent=20)
    assert all(len(copies(emulator, chat)) == 1 for chat in range(7201, 7221))
    # 20 messages at 200/s take a tenth of a second; the refusal of the first stopped everyone
    # (but the few already on their way) for the second it asked for.
    times = [t for t, _ in emulator.sent_log]
    assert max(b - a for a, b in zip(times, times[1:])) >= 0.95


async def test_a_person_who_blocked_the_bot_is_marked_unreachable_and_the_rest_get_theirs(sqlite: Sessions) -> None:
    sessionmaker = sqlite
    async with emulator_running() as emulator:
        ids = await residents(sessionmaker, emulator, [7301, 7302, 7303])
        emulator.blocked.add(7302)
        await notify(sessionmaker, ids)
        # A later message to the same person, not yet due when the first is refused.
        await notify(sessionmaker, [ids[1]], source="notice:2", not_before=utcnow() + timedelta(hours=1))
        async with sender_running(sessionmaker, emulator):
            progress = await finished(sessionmaker)
            later = await finished(sessionmaker, "notice:2")

        assert progress == outbox.Progress(sent=2, failed=1)
        assert later == outbox.Progress(failed=1)  # failed without being tried
        assert [len(copies(emulator, chat)) for chat in (7301, 7302, 7303)] == [1, 0, 1]
        assert sum(1 for _, params in emulator.calls if params.get("chat_id") == "7302") == 1  # tried once
        async with sessionmaker() as session:
            assert (await session.scalar(select(ChannelIdentity.unreachable_at).where(ChannelIdentity.external_id == "7302"))) is not None
            assert [r.chat_id for r in await outbox.recipients(session, ids)] == ["7301", "7303"]
        async with sessionmaker.begin() as session:  # the person writes to the bot again
            await people.get_or_create_person(session, people.TELEGRAM, "7302")
        async with sessionmaker() as session:
            assert [r.chat_id for r in await outbox.recipients(session, ids)] == ["7301", "7302", "7303"]


async def test_a_crashed_sender_resumes_and_repeats_at_most_what_was_in_flight(database_url: str) -> None:
    engine, crashing_engine = create_engine(database_url), create_engine(database_url)
    await migrate.upgrade(engine)
    sessionmaker, crashing_sessionmaker = create_sessionmaker(engine), create_sessionmaker(crashing_engine)
    try:
        async with emulator_running() as emulator:
            chats = range(7401, 7461)
            await notify(sessionmaker, await residents(sessionmaker, emulator, chats))
            bot = delivery_bot(emulator.token, emulator.base_url)
            crashing = Sender(crashing_sessionmaker, TelegramSender(bot), create_limiter("telegram", 60, 0, None), rate=60, default_locale="zh_CN", record_every=0.05)
            task = asyncio.create_task(crashing.run())
            while len(emulator.sent_log) < 15:
                await asyncio.sleep(0.01)
            task.cancel()  # dies mid-broadcast: nothing is recorded or given back
            with pytest.raises(asyncio.CancelledError):
                await task
            await bot.session.close()
            async with sessionmaker() as session:
                in_flight = (await outbox.progress(session, "notice:1")).sending
            assert in_flight > 0

            async with sender_running(sessionmaker, emulator, lease=0.3):
                progress = await finished(sessionmaker)

        assert progress == outbox.Progress(sent=60)
        received = [len(copies(emulator, chat)) for chat in chats]
        assert min(received) == 1  # nobody lost
        assert sum(received) - len(chats) <= in_flight
    finally:
        await crashing_engine.dispose()
        await engine.dispose()


async def test_cancelling_stops_what_is_not_yet_sent(sqlite: Sessions) -> None:
    sessionmaker = sqlite
    async with emulator_running() as emulator:
        await notify(sessionmaker, await residents(sessionmaker, emulator, range(7501, 7541)))
        async with sender_running(sessionmaker, emulator, rate=20):
            while len(emulator.sent_log) < 5:
                await asyncio.sleep(0.01)
            async with sessionmaker.begin() as session:
                cancelled = await outbox.cancel(session, "notice:1")
            progress = await finished(sessionmaker)
            await asyncio.sleep(0.3)  # and nothing more goes out afterwards

    assert cancelled >= 20 and progress.cancelled == cancelled
    assert progress.sent + progress.cancelled == 40
    assert len(emulator.sent_log) == progress.sent


async def test_the_global_and_per_chat_rates_are_respected(sqlite: Sessions) -> None:
    sessionmaker = sqlite
    async with emulator_running(global_rate=20, per_chat_rate=1) as emulator:
        ids = await residents(sessionmaker, emulator, range(7601, 7631))
        await notify(sessionmaker, ids)
        for n in range(2):  # two updates more to one person, queued at once
            await notify(sessionmaker, [ids[0]], Reply(f"第{n + 1}条"), source="notice:1")
        async with sender_running(sessionmaker, emulator, rate=18, chat_interval=1.1):
            progress = await finished(sessionmaker)

    assert progress == outbox.Progress(sent=32)
    assert emulator.rate_limited == 0
    times = [t for t, _ in emulator.sent_log]
    assert times[-1] - times[0] >= (32 - 2) / 18  # no faster than the rate (allowing its catch-up of one)
    to_first = [t for t, chat in emulator.sent_log if chat == 7601]
    assert len(to_first) == 3 and all(b - a >= 1.0 for a, b in zip(to_first, to_first[1:]))
    assert [m["text"] for m in copies(emulator, 7601)][1:] == ["第1条", "第2条"]


async def test_messages_waiting_for_their_chat_wait_in_order_without_going_back_to_the_database(
    sessionmaker: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five people with six messages each, queued at once: each chat's arrive in the order they
    were queued, never faster than the chat's rate (the emulator answers 429 to a fourth in a
    second), and none of them is written back to wait in the database (doing so had them claimed
    again and again, 8 rows put back for every row sent under load)."""
    written_back: list[int] = []
    record = claims.record

    async def counting(session: AsyncSession, channel: str, worker: str, outcomes: claims.Outcomes, now: Any) -> None:
        written_back.extend(row_id for row_id, _ in outcomes.later)
        await record(session, channel, worker, outcomes, now)

    monkeypatch.setattr(claims, "record", counting)
    async with emulator_running(global_rate=100, per_chat_rate=3) as emulator:
        ids = await residents(sessionmaker, emulator, range(7651, 7656))
        for n in range(6):
            await notify(sessionmaker, ids, Reply(f"第{n + 1}条"))
        async with sender_running(sessionmaker, emulator, rate=50, chat_interval=0.35):
            progress = await finished(sessionmaker)

    assert progress == outbox.Progress(sent=30) and emulator.rate_limited == 0
    assert written_back == []
    for chat in range(7651, 7656):
        assert [m["text"] for m in copies(emulator, chat)] == [f"第{n + 1}条" for n in range(6)]


async def test_a_personal_message_does_not_queue_behind_a_notice(sqlite: Sessions) -> None:
    sessionmaker = sqlite
    async with emulator_running() as emulator:
        ids = await residents(sessionmaker, emulator, range(7701, 7741))
        await notify(sessionmaker, ids[1:])
        await notify(sessionmaker, ids[:1], Reply("您的报修已派单"), source="report:9", priority=DeliveryPriority.personal)
        async with sender_running(sessionmaker, emulator):
            await finished(sessionmaker)
            await finished(sessionmaker, "report:9")
    assert emulator.sent_log[0][1] == 7701


async def test_network_errors_are_retried_and_bad_requests_are_not(sqlite: Sessions) -> None:
    sessionmaker = sqlite
    async with emulator_running() as emulator:
        ids = await residents(sessionmaker, emulator, [7801, 7802, 7803])
        emulator.faults += [
            Fault("sendMessage", 502, "Bad Gateway", chat_id=7801, times=2),
            Fault("sendMessage", 400, "Bad Request: message text is empty", chat_id=7802),
            Fault("sendMessage", 500, "Internal Server Error", chat_id=7803, times=10),
        ]
        await notify(sessionmaker, ids)
        async with sender_running(sessionmaker, emulator, max_attempts=3):
            progress = await finished(sessionmaker)
        async with sessionmaker() as session:
            rows = {r.chat_id: r for r in await session.scalars(select(OutboxDelivery))}

    assert progress == outbox.Progress(sent=1, failed=2)
    assert len(copies(emulator, 7801)) == 1
    assert (rows["7801"].status, rows["7801"].attempts) == (DeliveryStatus.sent, 3)
    assert (rows["7802"].status, rows["7802"].attempts) == (DeliveryStatus.failed, 1)
    assert (rows["7803"].status, rows["7803"].attempts) == (DeliveryStatus.failed, 3)
    assert "message text is empty" in (rows["7802"].error or "") and "Internal Server Error" in (rows["7803"].error or "")


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL not configured: set GONGJIAN_TEST_DATABASE_URL")
@pytest.mark.skipif(not redis_available(), reason=f"Redis does not answer at {REDIS_URL}")
async def test_two_workers_on_postgresql_never_send_the_same_row_and_share_the_rate() -> None:
    from redis.asyncio import Redis

    from tests.conftest import fresh_postgres_database

    async with fresh_postgres_database() as url:
        engines = [create_engine(url), create_engine(url)]
        await migrate.upgrade(engines[0])
        first, second = (create_sessionmaker(engine) for engine in engines)
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
        try:
            # Each worker alone would go at 100/s, both at 200/s, over the emulator's 110:
            # only a rate shared through Redis keeps the emulator from refusing.
            async with emulator_running(global_rate=110) as emulator:
                chats = range(8001, 8201)
                await notify(first, await residents(first, emulator, chats))
                async with sender_running(first, emulator, rate=100, redis_url=REDIS_URL), sender_running(second, emulator, rate=100, redis_url=REDIS_URL):
                    progress = await finished(first)
            async with first() as session:
                workers = set(await session.scalars(select(OutboxDelivery.claimed_by)))
        finally:
            for engine in engines:
                await engine.dispose()

    assert progress == outbox.Progress(sent=200)
    assert [len(copies(emulator, chat)) for chat in chats] == [1] * 200
    assert len(workers) == 2  # both took part
    assert emulator.rate_limited == 0


async def test_the_running_bot_delivers_what_is_queued(bot: RunningBot) -> None:
    resident = bot.client.user(8301, language_code="en")
    await resident.send("/help")
    async with bot.sessionmaker.begin() as session:
        person = await people.find_person(session, people.TELEGRAM, "8301")
        assert person is not None
        await outbox.enqueue(session, await outbox.recipients(session, [person.id]), NOTICE, source="notice:1")
    progress = await finished(bot.sessionmaker)
    assert progress == outbox.Progress(sent=1)
    assert (await resident.last()).text.startswith("Your households\nYou are already a member")


def test_replies_wait_in_the_outbox_as_json_and_render_alike() -> None:
    reply = Reply(
        Lines((L("{n} of {total}", n=Lplural("one household", "{n} households", 3), total=Decimal("12.50")), "原文"), separator=L(", ")),
        title=L("Your households"),
        options=(Option(L("verified"), "ack:1"),),
        attachment=Attachment("photo", file_id="AgAD-photo"),
    )
    restored = reply_from_json(reply_to_json(reply))
    for locale in ("zh_CN", "en"):
        assert render_text(restored.text, locale) == render_text(reply.text, locale)
        assert render_text(restored.options[0].label, locale) == render_text(reply.options[0].label, locale)
    assert restored.attachment == reply.attachment
    with pytest.raises(ValueError, match="file id"):
        reply_to_json(Reply("照片", attachment=Attachment("photo", content=b"\xff" * 1_000_001)))
    with pytest.raises(TypeError):
        reply_to_json(Reply(L("{when}", when=object())))


async def test_delivery_records_are_forgotten_after_90_days_unless_something_is_left_to_send(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        person = await people.get_or_create_person(session, people.TELEGRAM, "9101", "王阿姨")
        to = [Recipient(people.TELEGRAM, "9101", person.id)]
        done = await outbox.enqueue(session, to, NOTICE, source="notice:1")
        waiting = await outbox.enqueue(session, to, NOTICE, source="notice:2")
        await session.execute(update(OutboxDelivery).where(OutboxDelivery.message_id == done).values(status=DeliveryStatus.sent))
        await session.execute(update(OutboxDelivery).where(OutboxDelivery.message_id == waiting).values(status=DeliveryStatus.waiting))
    settings = Settings(_env_file=None)
    assert (await run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=89)))["outbox-retention"] == 0
    assert (await run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=91)))["outbox-retention"] == 1
    async with sessionmaker() as session:
        assert list(await session.scalars(select(OutboxMessage.id))) == [waiting]  # still to be sent when the person writes
        assert await session.scalar(select(func.count()).select_from(OutboxDelivery)) == 1


async def test_people_are_queued_on_their_newest_reachable_channel_in_one_statement(sessionmaker: Sessions) -> None:
    """enqueue_to_people writes what recipients() chooses, as an INSERT … SELECT; for nobody
    reachable it leaves nothing behind, not even the message."""
    async with sessionmaker.begin() as session:
        both = await people.get_or_create_person(session, people.TELEGRAM, "8401", "两个渠道")
        session.add(ChannelIdentity(person_id=both.id, channel="wechat", external_id="oBoth8401"))  # came to WeChat later
        blocked = await people.get_or_create_person(session, people.TELEGRAM, "8402", "拉黑了")
        plain = await people.get_or_create_person(session, people.TELEGRAM, "8403", "普通")
        await session.flush()
        await session.execute(update(ChannelIdentity).where(ChannelIdentity.external_id == "8402").values(unreachable_at=utcnow()))
        ids = [both.id, blocked.id, plain.id]
        queued = await outbox.enqueue_to_people(session, ids, NOTICE, source="notice:41", priority=DeliveryPriority.personal)
        nobody = await outbox.enqueue_to_people(session, select(Person.id).where(Person.id == blocked.id), NOTICE, source="notice:42")
    assert (queued, nobody) == (2, 0)
    async with sessionmaker() as session:
        rows = (await session.execute(
            select(OutboxDelivery.channel, OutboxDelivery.chat_id, OutboxDelivery.priority, OutboxDelivery.status, OutboxMessage.source)
            .join(OutboxMessage, OutboxMessage.id == OutboxDelivery.message_id).order_by(OutboxDelivery.person_id)
        )).all()
        assert rows == [
            ("wechat", "oBoth8401", int(DeliveryPriority.personal), DeliveryStatus.pending, "notice:41"),
            ("telegram", "8403", int(DeliveryPriority.personal), DeliveryStatus.pending, "notice:41"),
        ]
        assert await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.source == "notice:42")) == 0
