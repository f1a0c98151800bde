"""What happens when things go wrong: repeated updates, failing or refusing Bot API calls,
blocked users, flood limits, replies too long for one message."""

from __future__ import annotations

import logging

import pytest
from aiogram.types import Update
from sqlalchemy import func, select

from bot.emulator.server import Fault
from storage.models import ProcessedUpdate
from tests.conftest import RunningBot


async def test_an_update_seen_before_is_not_handled_again(bot: RunningBot) -> None:
    resident = bot.client.user(3001)
    await resident.send("/help")
    [first] = [u for u in bot.emulator.updates_seen if "message" in u]
    before = len(await resident.messages())
    await bot.app.dispatcher.feed_update(bot.app.bot, Update.model_validate(first, context={"bot": bot.app.bot}))
    assert len(await resident.messages()) == before
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


async def test_a_failing_handler_apologises_and_logs_the_update(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    resident = bot.client.user(3002)
    await bot.client.add_fault("sendMessage", 500, "Internal Server Error: database is on fire", chat_id=3002)
    with caplog.at_level(logging.ERROR):
        [apology] = await resident.send("/help")
    assert "抱歉" in apology.text and "没有丢失" in apology.text
    assert any("update" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)
    [help_] = await resident.send("/help")  # and the bot goes on
    assert "/me" in help_.text


async def test_a_flood_limit_delays_the_reply_but_does_not_lose_it(bot: RunningBot) -> None:
    resident = bot.client.user(3003)
    await bot.client.add_fault("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=3003)
    [help_] = await resident.send("/help")
    assert "/me" in help_.text


async def test_a_user_who_blocked_the_bot_does_not_stop_it(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    blocked, other = bot.client.user(3004), bot.client.user(3005)
    await bot.client.set_blocked(3004)
    with caplog.at_level(logging.WARNING):
        assert await blocked.send("/help") == []
    assert any("blocked" in r.getMessage() for r in caplog.records)
    [help_] = await other.send("/help")
    assert "/me" in help_.text


async def test_long_replies_are_split_and_respect_the_per_chat_limit(start_bot) -> None:  # type: ignore[no-untyped-def]
    async with start_bot(per_chat_rate=1) as bot:
        resident = bot.client.user(3006)
        await resident.send("/help")  # the chat exists once the person wrote
        lines = [f"第{i}行：" + "楼道灯不亮" * 20 for i in range(100)]
        await bot.app.bot.send_message(3006, "\n".join(lines), parse_mode=None)
        parts = (await resident.messages())[1:]
        assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
        assert "\n".join(p.text for p in parts) == "\n".join(lines)


async def test_a_refused_command_menu_does_not_stop_the_bot(start_bot) -> None:  # type: ignore[no-untyped-def]
    refuse = Fault("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID", times=10)
    async with start_bot(before_start=lambda emulator: emulator.faults.append(refuse)) as bot:
        [help_] = await bot.client.user(3007).send("/help")
        assert "/me" in help_.text
