"""`gongjian run`, as an operator starts it, serves a resident through any compatible Bot API
server, whatever that server (or a proxy before it) answers to the optional calls at start."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import app as bot_app
from bot.demo import seed_sample
from bot.emulator import BotApiEmulator, EmulatorClient
from bot.emulator.server import Fault

OPTIONAL_CALLS = ("setMyCommands", "deleteWebhook")
PROXY_PAGE = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
# Each bad answer, for any method. `times` covers every call the bot might make to it.
BAD_ANSWERS: dict[str, Callable[[str], Fault]] = {
    "telegram_404": lambda method: Fault(method, 404, "Not Found: method not found", times=10),
    "not_telegram_json": lambda method: Fault(method, 404, body=json.dumps({"message": "not found"}), times=10),
    "proxy_html_page": lambda method: Fault(method, 502, body=PROXY_PAGE, content_type="text/html", times=10),
    "timeout": lambda method: Fault(method, delay=60, times=10),
    "reset_connection": lambda method: Fault(method, reset=True, times=10),
}
STARTS_WITHIN = 5.0  # seconds; aiogram's own request timeout would be 60
LOG_LINE_AT_MOST = 300  # characters: the start of a page that is not Telegram's JSON, never all of it


@pytest.mark.parametrize("method", OPTIONAL_CALLS)
@pytest.mark.parametrize("answer", BAD_ANSWERS)
async def test_a_bad_answer_to_an_optional_call_at_start_is_one_log_line(
    start_bot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, method: str, answer: str  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(bot_app, "OPTIONAL_CALL_TIMEOUT", 0.3)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        async with start_bot(before_start=lambda emulator: emulator.faults.append(BAD_ANSWERS[answer](method))) as bot:
            assert time.monotonic() - started < STARTS_WITHIN
            [help_] = await bot.client.user(3201).send("/help")
            assert "/me" in help_.text
            assert [call["method"] for call in await bot.client.calls()].count(method) == 1  # given up after one failure
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    line = warning.getMessage()
    assert method in line and "\n" not in line and len(line) <= LOG_LINE_AT_MOST, line


async def test_gongjian_run_serves_a_resident_despite_a_proxy_page_and_a_reset_at_start(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    sample = await seed_sample(database_url)
    emulator = BotApiEmulator()
    emulator.faults += [BAD_ANSWERS["proxy_html_page"]("setMyCommands"), BAD_ANSWERS["reset_connection"]("deleteWebhook")]
    base_url = await emulator.start()
    environment = {**os.environ, "GONGJIAN_BOT_TOKEN": emulator.token, "GONGJIAN_TELEGRAM_API_URL": base_url,
                   "GONGJIAN_DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=environment, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with EmulatorClient(base_url) as client:
            update = await emulator.user_message(3101, {"text": f"/start {sample.household_code}", "first_name": "周奶奶"})
            await client.wait_processed(update, timeout=60)  # the worker has taken it
            for _ in range(200):
                replies = [m.text for m in await client.messages(3101)]
                if replies:
                    break
                await asyncio.sleep(0.05)
        assert replies and "认证住户成员" in replies[0] and "301室" in replies[0]
    finally:
        process.terminate()
        _, stderr = await process.communicate()
        await emulator.stop()
    assert process.returncode is not None
    log = stderr.decode(errors="replace")
    assert "Traceback" not in log, log[-2000:]
    assert "nginx" not in log, log[-2000:]  # the proxy's page is not dumped into the log
    for method in OPTIONAL_CALLS:
        [line] = [line for line in log.splitlines() if method in line]
        assert len(line) <= 2 * LOG_LINE_AT_MOST, line  # the time and the logger's name come first
