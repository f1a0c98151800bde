"""`gongjian run`, as an operator starts it, serves a resident through any compatible Bot API server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.demo import seed_sample
from bot.emulator import BotApiEmulator, EmulatorClient
from bot.emulator.server import Fault


async def test_gongjian_run_serves_a_resident_who_sends_start_with_a_code(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    sample = await seed_sample(database_url)
    emulator = BotApiEmulator()
    # A server that knows no webhooks: the bot must go on polling.
    emulator.faults.append(Fault("deleteWebhook", 404, "Not Found: method not found", times=5))
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
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")[-2000:]
