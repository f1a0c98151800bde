"""Conversations as people hold them: by typed words as well as buttons, on a channel with
numbered options, with input from a Chinese input method, and with transactions a person can
trust (nothing said before it is saved, nothing lost in a crash, no transaction held open
while Telegram makes the bot wait)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pytest
from aiogram.types import Update
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import text as text_channel
from bot.conversations import dispatch
from bot.conversations.turn import ChannelTraits, Turn
from bot.demo import sample_households
from bot.replies import L, Option, Reply, Response
from bot.services import audit, invites, people, places
from storage.db import create_engine, create_sessionmaker
from storage.models import AuditEntry, Conversation, FailedCodeAttempt, Membership, Person, ProcessedUpdate
from tests.conftest import RunningBot
from tests.test_onboarding import memberships_of

TEXT_CHANNEL = ChannelTraits("text", numbered_options=True)


async def test_every_flow_by_chinese_words_and_typed_labels(bot: RunningBot) -> None:
    resident = bot.client.user(6001, "王阿姨")
    [question] = await resident.send(f"加入 {bot.sample.building_code}")
    assert question.button_texts == ["1单元", "2单元"]
    [rooms] = await resident.send("2单元")  # the button's words, typed
    assert "301" in rooms.button_texts
    [joined] = await resident.send("３０１")  # full-width digits from a Chinese input method
    assert "2单元 301室" in joined.text
    [mine] = await resident.send("我的")
    assert "西冲塘小区 1栋 2单元 301室（未认证）" in mine.text
    [languages] = await resident.send("语言")
    assert languages.button_texts == ["中文", "English"]
    assert [len(row) for row in languages.buttons] == [2]  # side by side: the reply asks for two columns
    [switched] = await resident.send("english")
    assert switched.text == "Language set to English."
    [help_] = await resident.send("帮助")
    assert help_.text.startswith("What you can do") and "/me or 我的" in help_.text
    [stopped] = await resident.send("取消")
    assert "Stopped" in stopped.text


async def test_an_invite_code_typed_with_a_chinese_input_method(bot: RunningBot) -> None:
    full_width = bot.sample.household_code.lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    typed = full_width[:4] + "\u200b " + full_width[4:] + "\u3000"
    [joined] = await bot.client.user(6002).send("/start " + typed)
    assert "认证住户成员" in joined.text
    assert [verified for _, verified in await memberships_of(bot, 6002)] == [True]


async def test_ids_beyond_the_databases_range_are_refused_politely(bot: RunningBot) -> None:
    resident = bot.client.user(6003)
    [question] = await resident.send(f"/start {bot.sample.building_code}")
    for forged in ("room:99999999999999999999", "unit:-1", "rooms:1:0", "unit:２", "lang:xx"):
        assert await resident.press_data(question.message_id, forged) == []
        answer = await bot.client.callback_answer(resident.last_callback_id or "")
        assert answer is not None and answer["show_alert"] and "失效" in answer["text"]
    assert await memberships_of(bot, 6003) == []


async def test_pressing_the_same_button_twice_is_no_error(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    resident = bot.client.user(6004)
    [menu] = await resident.send("/lang")
    with caplog.at_level(logging.WARNING):
        await resident.press("English", menu)
        again = await resident.press_data(menu.message_id, menu.button("English").callback_data or "")
    assert again == []  # the message already says it: nothing new, and no apology
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [m.text for m in await resident.messages()][-1] == "Language set to English."


async def test_wrong_codes_are_counted_and_slowed_down(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    resident = bot.client.user(6005)
    for attempt in range(invites.MAX_FAILED_ATTEMPTS):
        [refused] = await resident.send(f"/start WRONG{attempt:03d}")
        assert "无效" in refused.text
    with caplog.at_level(logging.WARNING):
        [wait] = await resident.send(f"/start {bot.sample.building_code}")  # even a good code waits now
    assert "10 分钟" in wait.text
    assert any("wrong invite codes" in r.getMessage() for r in caplog.records)
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FailedCodeAttempt)) == invites.MAX_FAILED_ATTEMPTS


async def test_a_crash_mid_update_loses_nothing_and_success_is_not_repeated(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    resident = bot.client.user(6006)
    original = people.join_household
    failures = iter([True])

    async def crash_once(*args: object, **kwargs: object) -> people.JoinResult:
        result = await original(*args, **kwargs)  # type: ignore[arg-type]
        if next(failures, False):
            raise RuntimeError("the process died here")
        return result

    monkeypatch.setattr(people, "join_household", crash_once)
    [apology] = await resident.send(f"/start {bot.sample.household_code}")
    assert "抱歉" in apology.text
    assert await memberships_of(bot, 6006) == []  # the half-done join was rolled back
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_key == "1")) == 0

    update = Update.model_validate(bot.emulator.updates_seen[0], context={"bot": bot.app.bot})
    await bot.app.dispatcher.feed_update(bot.app.bot, update)  # Telegram delivers it again
    assert [verified for _, verified in await memberships_of(bot, 6006)] == [True]
    answers = len(await resident.messages())
    await bot.app.dispatcher.feed_update(bot.app.bot, update)  # and once more, after success
    assert len(await resident.messages()) == answers


async def test_a_flood_wait_holds_no_transaction(bot: RunningBot) -> None:
    waiting, other = bot.client.user(6007), bot.client.user(6008)
    await other.send("/help")
    await bot.client.add_fault("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2, chat_id=6007)
    slow = asyncio.create_task(waiting.send("/help"))
    await asyncio.sleep(0.5)  # the bot is now waiting out the flood limit
    started = time.monotonic()
    async with bot.sessionmaker.begin() as session:  # the bot's own connection: free
        session.add(AuditEntry(actor_channel="test", action="probe", target="-", details={}))
    engine = create_engine(bot.settings.database_url)  # another process, like the command line
    try:
        async with create_sessionmaker(engine).begin() as session:
            session.add(AuditEntry(actor_channel="test", action="probe", target="-", details={}))
    finally:
        await engine.dispose()
    assert time.monotonic() - started < 1.0
    assert not slow.done()
    [help_] = await slow
    assert "/me" in help_.text


async def text_chat(sessionmaker: async_sessionmaker[AsyncSession], phone: str) -> Callable[[AsyncSession], Awaitable[Turn]]:
    """A person on the text channel, and how to make their turn in a session (one per message)."""
    async with sessionmaker.begin() as session:
        person_id = (await people.get_or_create_person(session, "text", phone)).id

    async def turn_in(session: AsyncSession) -> Turn:
        person = await session.get(Person, person_id)
        assert person is not None
        return Turn(session, person, TEXT_CHANNEL, phone, "zh_CN")

    return turn_in


async def test_where_a_person_is_is_written_once_at_the_end_and_a_menu_on_the_way_keeps_the_step(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    turn_in = await text_chat(sessionmaker, "13800000001")

    async with sessionmaker.begin() as session:  # a report being written
        turn = await turn_in(session)
        await turn.set_step("reports.describe", text="电梯坏了")
        await turn.update_data(photos=["p1"])
        await turn.save(None)

    statements: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    async with sessionmaker.begin() as session:  # /lang on the way: a menu, and nothing read
        turn = await turn_in(session)
        event.listen(session.bind.sync_engine, "before_cursor_execute", record)
        try:
            await turn.save(Response.of(Reply(L("Choose your language:"), options=(Option("中文", "lang:zh_CN"), Option("English", "lang:en")))))
        finally:
            event.remove(session.bind.sync_engine, "before_cursor_execute", record)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT"), statements

    async with sessionmaker.begin() as session:
        turn = await turn_in(session)
        assert await turn.step() == ("reports.describe", {"text": "电梯坏了", "photos": ["p1"]})
        assert await turn.chosen_payload("2") == "lang:en"
        await turn.clear()
        await turn.save(None)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_a_step_taken_while_the_sender_delivers_a_menu_keeps_that_menu(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """On PostgreSQL an update and the sender may write the same person's row at once: the
    update writes only what it changed (the step), so the menu just delivered stays."""
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite admits one writer at a time: the two cannot interleave")
    turn_in = await text_chat(sessionmaker, "13800000002")

    async with sessionmaker.begin() as session:
        await (await turn_in(session)).save(Response.of(Reply(L("Choose your language:"), options=(Option("旧", "old:1"),))))
    async with sessionmaker.begin() as session:
        turn = await turn_in(session)
        assert await turn.chosen_payload("1") == "old:1"  # read: the old menu
        async with sessionmaker.begin() as sender:  # meanwhile the sender delivers a notice's menu
            await (await turn_in(sender)).save(Response.of(Reply(L("Choose your language:"), options=(Option("收到", "ack:7"),))))
        await turn.set_step("reports.describe", text="电梯坏了")
        await turn.save(None)
    async with sessionmaker.begin() as session:
        turn = await turn_in(session)
        assert await turn.step() == ("reports.describe", {"text": "电梯坏了"})
        assert await turn.chosen_payload("1") == "ack:7"


async def test_options_are_numbered_lines_on_a_text_channel(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The same flow, driven by text alone on a channel without buttons, state kept between
    turns in the database (each turn is a fresh transaction, as each message would be)."""
    async with sessionmaker.begin() as session:
        await places.import_households(session, sample_households(), actor=audit.COMMAND_LINE)
        nodes = await places.list_places(session)
        building = next(n for n in nodes if n.kind.value == "building")
        code = await invites.building_code(session, building.id, actor=audit.COMMAND_LINE)
        person_id = (await people.get_or_create_person(session, "text", "13800000000")).id

    async def say(text: str) -> list[str]:
        async with sessionmaker.begin() as session:
            person = await session.get(Person, person_id)
            assert person is not None
            turn = Turn(session, person, TEXT_CHANNEL, "13800000000", "zh_CN")
            response = await dispatch.on_text(turn, text)
            await turn.save(response)
        return text_channel.render_response(response, "zh_CN")

    [units] = await say(f"加入 {code}")
    assert "回复 1：1单元" in units and "回复 2：2单元" in units
    [rooms] = await say("２")  # the second option, typed full-width
    assert "回复 5：301" in rooms
    [joined] = await say("5")
    assert "2单元 301室" in joined
    [nothing] = await say("5")  # the menu is gone with the step it belonged to
    assert "/help" in nothing
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1
