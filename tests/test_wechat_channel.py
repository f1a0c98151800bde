"""WeChat's plumbing, over real HTTP: signatures and safe mode, the 5-second rule and WeChat's
retries, replies longer than one message, the shared access token and the API's errors, and
`gongjian run` serving WeChat alone."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import application
from bot.channels.wechat.api import InvalidAccessToken, OutsideReplyWindow, TooManyMessages, WeChatApi, open_api
from bot.channels.wechat.delivery import MAX_TEXT_BYTES
from bot.config import Settings
from bot.delivery import outbox
from bot.demo import run_demo, seed_sample, wechat_settings
from bot.emulator import WeChatClient, WeChatEmulator, WeChatUser
from bot.emulator.wechat_client import Seen
from bot.emulator.wechat_server import new_aes_key
from bot.replies import Reply
from bot.services import people, places
from storage.db import create_engine, create_sessionmaker
from storage.models import ChannelIdentity, ProcessedUpdate
from tests.conftest import REDIS_URL, RunningBot, redis_available
from tests.test_wechat_conversations import households_of, wechat

SLOW_FLOW_SECONDS = 0.8


async def wechat_rows(bot: RunningBot) -> tuple[int, int]:
    """WeChat's processed messages and identities in the database."""
    async with bot.sessionmaker() as session:
        updates = await session.scalar(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.channel == people.WECHAT))
        identities = await session.scalar(select(func.count()).select_from(ChannelIdentity).where(ChannelIdentity.channel == people.WECHAT))
        return updates or 0, identities or 0


async def seen_with(user: WeChatUser, kind: str, timeout: float = 5.0) -> list[Seen]:
    """What the person saw, once it includes a message of this kind."""
    deadline = time.monotonic() + timeout
    seen = await user.seen()
    while not any(s.kind == kind for s in seen) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        seen = await user.seen()
    return seen


async def test_the_server_check_and_forged_signatures_change_nothing(wechat_bot: RunningBot) -> None:
    client = wechat(wechat_bot)
    assert await client.verify("echo-4711") == (200, "echo-4711")
    assert (await client.verify("echo-4711", forge=True))[0] == 403
    forger = client.user("oForger000001")
    await forger.send("加入 " + wechat_bot.sample.household_code, forge=True)
    assert forger.last_push is not None and forger.last_push.status == 403
    assert await wechat_rows(wechat_bot) == (0, 0)
    assert await households_of(wechat_bot, people.WECHAT, "oForger000001") == []
    [joined] = await forger.send("加入 " + wechat_bot.sample.household_code)  # signed, it works
    assert "认证住户成员" in joined


async def test_safe_mode_decrypts_pushes_and_encrypts_replies(start_wechat_bot) -> None:  # type: ignore[no-untyped-def]
    async with start_wechat_bot(WeChatEmulator(encoding_aes_key=new_aes_key())) as bot:
        resident = wechat(bot).user("oSafeMode00001")
        await resident.send("加入 " + bot.sample.household_code, forge=True)  # a wrong msg_signature
        assert resident.last_push is not None and resident.last_push.status == 403
        assert await wechat_rows(bot) == (0, 0)
        [joined] = await resident.send("加入 " + bot.sample.household_code)
        assert "认证住户成员" in joined  # the emulator takes only an encrypted reply with a good signature
        [mine] = await resident.send("我的")
        assert "301室（已认证）" in mine


async def test_a_reply_later_than_the_budget_goes_through_the_customer_service_api(start_wechat_bot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    original = people.memberships_of

    async def slow(*args: object) -> list[people.MembershipView]:
        await asyncio.sleep(SLOW_FLOW_SECONDS)
        return await original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(people, "memberships_of", slow)
    async with start_wechat_bot(WeChatEmulator(reply_timeout=5), wechat_reply_seconds=0.3) as bot:
        resident = wechat(bot).user("oSlowReply0001")
        started = time.monotonic()
        assert await resident.send("我的") == []  # "success" at once: no passive reply
        assert time.monotonic() - started < SLOW_FLOW_SECONDS
        assert resident.last_push is not None and (resident.last_push.status, resident.last_push.tries) == (200, 1)
        [late] = await resident.seen(at_least=1)
        assert late.kind == "custom" and "您还没有加入住户" in late.text

        # The token WeChat gave is revoked meanwhile: refreshed, and the reply sent once more.
        await wechat(bot).invalidate_tokens()
        await resident.send("/me")
        [_, again] = await resident.seen(at_least=2)
        assert again.kind == "custom" and "您还没有加入住户" in again.text
        assert (await wechat(bot).state())["tokens_issued"] == 2
        assert (await wechat_rows(bot))[0] == 2


async def test_a_message_wechat_sends_again_is_handled_once(start_wechat_bot, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The bot is slower than WeChat waits: WeChat hangs up and pushes the same MsgId three more
    times while the first is still being handled. One join, one reply (through the API, since
    nobody waits for the passive one any more)."""
    joins: list[int] = []
    original = people.join_household

    async def slow(*args: object, **kwargs: object) -> people.JoinResult:
        joins.append(1)
        await asyncio.sleep(SLOW_FLOW_SECONDS)
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(people, "join_household", slow)
    async with start_wechat_bot(WeChatEmulator(reply_timeout=0.25), database_url=database_url, wechat_reply_seconds=4) as bot:
        resident = wechat(bot).user("oRetried00001")
        await resident.send("加入 " + bot.sample.household_code)
        assert resident.last_push is not None and (resident.last_push.tries, resident.last_push.passive) == (4, None)
        await seen_with(resident, "custom")
        await asyncio.sleep(0.2)  # nothing more is coming
        seen = await resident.seen()
        [reply] = [s.text for s in seen if s.kind == "custom"]
        assert "认证住户成员" in reply

        replayed = await wechat(bot).replay()  # and once more, long after success
        assert (replayed.status, replayed.passive) == (200, None)
        assert len(await resident.seen()) == len(seen)
        assert joins == [1]
        assert await households_of(bot, people.WECHAT, "oRetried00001") == [("301", True)]
        assert (await wechat_rows(bot))[0] == 1


async def test_a_long_reply_is_split_within_wechats_limit(wechat_bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    many = [
        people.MembershipView(places.HouseholdAddress(n, "西冲塘小区", f"{n}栋", "1单元", f"{n:03d}", 1), False, None, False) for n in range(1, 81)
    ]

    async def lots(*args: object) -> list[people.MembershipView]:
        return many

    monkeypatch.setattr(people, "memberships_of", lots)
    resident = wechat(wechat_bot).user("oLongReply0001")
    [passive] = await resident.send("我的")
    await resident.seen(at_least=3)
    await asyncio.sleep(0.2)  # nothing more is coming
    seen = await resident.seen()
    assert [s.kind for s in seen] == ["passive", "custom", "custom"] and seen[0].text == passive
    assert all(len(s.text.encode()) <= MAX_TEXT_BYTES for s in seen)
    text = "\n".join(s.text for s in seen)
    assert text.index(" 1栋") < text.index(" 40栋") < text.index(" 80栋") < text.index("绑定 ")


async def test_the_api_refreshes_a_rejected_token_once_and_raises_typed_errors(start_wechat_bot) -> None:  # type: ignore[no-untyped-def]
    async with start_wechat_bot(WeChatEmulator(customer_service_limit=2)) as bot:
        api = bot.app.wechat.api
        resident = wechat(bot).user("oApiErrors0001")
        await resident.follow()
        await api.send_text(resident.openid, "第一条")
        await wechat(bot).add_fault("message/custom/send", 40001, "invalid credential", times=2)
        with pytest.raises(InvalidAccessToken):
            await api.send_text(resident.openid, "两次都被拒绝")  # refreshed and tried once more: no more
        state = await wechat(bot).state()
        assert state["tokens_issued"] == 2
        assert [c["path"] for c in state["calls"]].count("message/custom/send") == 3
        await api.send_text(resident.openid, "第二条")
        with pytest.raises(TooManyMessages):
            await api.send_text(resident.openid, "第三条")
        await resident.age(hours=49)
        with pytest.raises(OutsideReplyWindow):
            await api.send_text(resident.openid, "太晚了")
        assert [s.text for s in await resident.seen() if s.kind == "custom"] == ["第一条", "第二条"]


@pytest.mark.parametrize("store", ["database", "redis"])
async def test_workers_share_one_access_token(store: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    if store == "redis" and not redis_available():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    emulator = WeChatEmulator(api_delay=0.2, app_id="wx" + uuid.uuid4().hex[:16])  # a fresh account: nothing in Redis yet
    await emulator.start()
    try:
        settings = Settings(_env_file=None, redis_url=REDIS_URL if store == "redis" else None, **wechat_settings(emulator))
        async with open_api(settings, sessionmaker) as first, open_api(settings, sessionmaker) as second:  # two workers
            tokens = await asyncio.gather(*(api.tokens.get() for api in (first, second) for _ in range(4)))
            assert len(set(tokens)) == 1 and emulator.tokens_issued == 1
            emulator.invalidate_tokens()
            await _refreshes_once(first, second, emulator)
    finally:
        await emulator.stop()


async def _refreshes_once(first: WeChatApi, second: WeChatApi, emulator: WeChatEmulator) -> None:
    """Both workers meet the revoked token: one fetches a new one, the other finds it stored."""
    emulator.follower("oShared000001").following = True
    emulator.follower("oShared000001").last_interaction = time.time()
    await asyncio.gather(first.send_text("oShared000001", "一"), second.send_text("oShared000001", "二"))
    assert emulator.tokens_issued == 2
    assert sorted(s.text for s in emulator.follower("oShared000001").seen) == ["一", "二"]


async def test_without_wechat_settings_the_channel_is_off_and_says_so(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, bot_token=SecretStr("123:TEST"), database_url=f"sqlite+aiosqlite:///{tmp_path / 'off.db'}")
    with caplog.at_level(logging.INFO, logger="bot.channels.wechat.channel"):
        async with application(settings) as app:
            assert app.wechat is None
    assert [r.getMessage() for r in caplog.records if "WeChat" in r.getMessage()] == [
        "WeChat channel off: set GONGJIAN_WECHAT_APP_ID, GONGJIAN_WECHAT_APP_SECRET, GONGJIAN_WECHAT_TOKEN to serve it"
    ]
    with pytest.raises(ValueError, match="GONGJIAN_WECHAT_TOKEN"):
        async with application(settings.model_copy(update={"wechat_app_id": "wx1", "wechat_app_secret": SecretStr("s")})):
            pass


async def test_gongjian_run_serves_wechat_alone(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    sample = await seed_sample(database_url)
    emulator = WeChatEmulator()
    await emulator.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_")},
        "GONGJIAN_DATABASE_URL": database_url, "GONGJIAN_WEBHOOK_HOST": "127.0.0.1", "GONGJIAN_WEBHOOK_PORT": str(port),
        "GONGJIAN_WECHAT_APP_ID": emulator.app_id, "GONGJIAN_WECHAT_APP_SECRET": emulator.app_secret,
        "GONGJIAN_WECHAT_TOKEN": emulator.token, "GONGJIAN_WECHAT_API_URL": emulator.base_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=environment, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    emulator.webhook_url = f"http://127.0.0.1:{port}/wechat"
    try:
        for _ in range(300):  # until the worker listens
            try:
                if (await emulator.verify("ready"))[0] == 200:
                    break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        async with WeChatClient(emulator.base_url) as client:
            resident = client.user("oRunAlone0001")
            [joined] = await resident.send("加入 " + sample.household_code)
            assert "认证住户成员" in joined
            # WeChat alone has the outbox's sender too: what the bot sends on its own arrives.
            engine = create_engine(database_url)
            async with create_sessionmaker(engine).begin() as session:
                person = await people.find_person(session, people.WECHAT, resident.openid)
                assert person is not None
                await outbox.enqueue(session, await outbox.recipients(session, [person.id]), Reply("周六上午停电检修"), source="notice:0")
            await engine.dispose()
            [_, notice] = await resident.seen(at_least=2)
            assert (notice.kind, notice.text) == ("custom", "周六上午停电检修")
    finally:
        process.terminate()
        _, stderr = await process.communicate()
        await emulator.stop()
    log = stderr.decode(errors="replace")
    assert "Telegram channel off" in log and "serving the WeChat webhook" in log
    assert "Traceback" not in log, log[-2000:]


async def test_the_demo_chats_as_a_wechat_user(capsys: pytest.CaptureFixture[str]) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    for line in (":scan", "1", "3", "我的", ":photo", ":click help", ":quit"):
        lines.put_nowait(line)
    await asyncio.wait_for(run_demo("zh_CN", lines, channel="wechat"), 30)
    out = capsys.readouterr().out
    assert ":scan" in out and "回复 1：1单元" in out
    assert "西冲塘小区 1栋 1单元 201室（未认证）" in out
    assert "只能识别文字消息" in out and "/bind 或 绑定" in out
