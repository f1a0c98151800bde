"""Webhook mode checks Telegram's secret token; a conversation survives a restart with several
workers; the offline demo lets a resident join and see the household."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.app import Application, application, webhook_app
from bot.demo import offline_bot, run_demo
from bot.emulator import BotApiEmulator
from tests.conftest import REDIS_URL, RunningBot, redis_available


async def test_webhook_accepts_only_telegrams_secret(bot: RunningBot) -> None:
    # A second worker of the same deployment, served by webhook instead of polling.
    settings = bot.settings.model_copy(update={"webhook_secret": SecretStr("s3cret-token")})
    async with application(settings) as webhook_worker:
        await _post_updates_to_webhook(bot, webhook_worker)


async def _post_updates_to_webhook(bot: RunningBot, webhook_worker: Application) -> None:
    runner = web.AppRunner(webhook_app(webhook_worker))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}{webhook_worker.settings.webhook_path}"
    await bot.client.user(5001).send("/start")  # the chat exists; polling takes this one
    update = {
        "update_id": 900001,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 5001, "type": "private"}, "from": {"id": 5001, "is_bot": False, "first_name": "W"}, "text": "/help"},
    }
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as refused:
                assert refused.status == 401
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as accepted:
                assert accepted.status == 200
        for _ in range(100):
            texts = [m.text for m in await bot.client.messages(5001)]
            if any("/me" in t for t in texts):
                break
            await asyncio.sleep(0.05)
        assert sum("/me" in t for t in texts) == 1  # the refused post was not handled
    finally:
        await runner.cleanup()


@pytest.mark.skipif(not redis_available(), reason=f"Redis does not answer at {REDIS_URL}")
async def test_with_redis_a_conversation_goes_on_after_a_restart(tmp_path: Path) -> None:
    """Several workers: Redis takes turns per chat, the database keeps the step. A worker that
    starts afresh on the same database continues where the person was."""
    emulator = BotApiEmulator()
    database = tmp_path / "bot.db"
    async with offline_bot(f"sqlite+aiosqlite:///{database}", emulator, redis_url=REDIS_URL) as first:
        resident = first.client.user(5002)
        await resident.send("/start")
        [question] = await resident.send(first.sample.building_code)
        assert question.button_texts == ["1单元", "2单元"]
    async with offline_bot(f"sqlite+aiosqlite:///{database}", emulator, redis_url=REDIS_URL) as second:
        [rooms] = await second.client.user(5002).send("2单元")  # typed, to the restarted worker
        assert "101" in rooms.button_texts
        [joined] = await second.client.user(5002).send("301")
        assert "2单元 301室" in joined.text


async def test_the_demo_lets_a_resident_join_and_see_the_household(capsys: pytest.CaptureFixture[str]) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    task = asyncio.create_task(run_demo("zh_CN", lines))
    intro = ""
    for _ in range(200):
        intro += capsys.readouterr().out
        if "/start " in intro:
            break
        await asyncio.sleep(0.05)
    code = intro.split("/start ")[1].split("（")[0]
    for line in (f"/start {code}", "1", "3", "/me", ":as admin", "/help", ":quit"):
        lines.put_nowait(line)
    await asyncio.wait_for(task, 30)
    out = capsys.readouterr().out
    assert "[1] 1单元" in out and "[2] 2单元" in out
    assert "西冲塘小区 1栋 1单元 201室（未认证）" in out.replace(" (", "（").replace(")", "）")
    assert "您现在是陈主任" in out and "社区管理员" in out
