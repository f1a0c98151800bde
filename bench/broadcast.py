"""Broadcast: one notice to N recipients through the outbox and the sender, over HTTP to the Bot
API emulator, which enforces R messages a second overall and one a second per chat.

    python bench/broadcast.py --recipients 121016 --rate 1000
    python bench/broadcast.py --recipients 300 --rate 30

Three processes, as in a deployment: this one seeds the database (SQLite by default, or
--database-url) with N people, queues the notice the way a feature would (outbox.recipients
and outbox.enqueue in one transaction) and watches; the emulator runs in a process of its own,
so that it does not share the sender's core; the sender is `bot.delivery.sender.Sender` in a
process of its own, configured as GONGJIAN_DELIVERY_RATE would configure it: --sender-rate,
by default 2 % under the limit (the emulator counts arrivals, which jitter; a deployment keeps
the same kind of margin, 25 for Telegram's 30). The notice goes out twice: straight through (rate, losses, duplicates,
the sender's memory), then again with the sender killed (SIGKILL) half-way and a new one
started, which takes back the killed one's rows when their lease (--lease) runs out.

The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from bot.delivery import outbox  # noqa: E402
from bot.delivery.limits import create_limiter  # noqa: E402
from bot.delivery.sender import Sender  # noqa: E402
from bot.delivery.telegram import TelegramSender, delivery_bot  # noqa: E402
from bot.emulator import BotApiEmulator  # noqa: E402
from bot.i18n import load_catalogues  # noqa: E402
from bot.replies import L, Lines, Option, Reply  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.models import ChannelIdentity, DeliveryStatus, OutboxDelivery, Person, utcnow  # noqa: E402

TOKEN = "123456:BENCH-TOKEN"
FIRST_CHAT = 10_000_000
SEED_CHUNK = 10_000
SENDER_SHARE = 0.98  # the sender's default rate, as a share of the limit
# The emulator stands for Telegram's servers, which do not share the sender's two cores: the
# sender runs at a lower priority, so that the emulator is not kept waiting for a core. A
# stalled emulator counts the requests that queued meanwhile as arriving at once, and its own
# rate limit then refuses some.
SENDER_NICENESS = 10
NOTICE = Reply(
    Lines((L("You are already a member of the household {address}.", address="西冲塘小区 1栋 301"), "6月3日8:00至18:00停水，请提前储水。")),
    title=L("Your households"),
    options=(Option(L("verified"), "ack:1"),),
)


def memory_mb(field: str, pid: str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the emulator's process ---------------------------------------------------------------------


async def serve_emulator(recipients: int, rate: int) -> None:
    emulator = BotApiEmulator(TOKEN, global_rate=rate, per_chat_rate=1)
    for chat in range(FIRST_CHAT, FIRST_CHAT + recipients):  # all of them wrote to the bot once
        emulator.open_chat(chat, "住户")
    # The emulator keeps every message it receives. Python's full collections over them stall
    # it for 100-200 ms, and the requests that queued meanwhile are then counted at once and
    # trip its own rate limit: a stall of the test harness, not of the sender (Telegram counts
    # requests as they come). Reference counting still frees what it drops.
    gc.disable()
    print(await emulator.start(), flush=True)
    await asyncio.Event().wait()


# --- the sender's process -----------------------------------------------------------------------


async def run_sender(args: argparse.Namespace) -> None:
    """Send until nothing is left to send; print the memory used, sampled each second."""
    load_catalogues()
    engine = create_engine(args.database_url)
    sessionmaker = create_sessionmaker(engine)
    bot = delivery_bot(TOKEN, args.api_url)
    limiter = create_limiter("telegram", args.sender_rate, args.chat_interval, args.redis_url)
    sender = Sender(sessionmaker, TelegramSender(bot), limiter, rate=args.sender_rate, default_locale="zh_CN", lease=args.lease)
    task = asyncio.create_task(sender.run())
    samples = []
    while True:
        await asyncio.sleep(1)
        samples.append(round(memory_mb("VmRSS"), 1))
        async with sessionmaker() as session:
            left = await session.scalar(
                select(OutboxDelivery.id).where(OutboxDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.sending))).limit(1)
            )
        if left is None:
            break
    sender.stop()
    await task
    await limiter.close()
    await bot.session.close()
    await engine.dispose()
    print(json.dumps({"peak_rss_mb": round(memory_mb("VmHWM"), 1), "rss_mb": samples}), flush=True)


# --- the benchmark ------------------------------------------------------------------------------


async def seed(sessionmaker: async_sessionmaker[AsyncSession], recipients: int) -> None:
    """N people who wrote to the bot, one in ten with an English client."""
    now = utcnow()
    async with sessionmaker.begin() as session:
        for start in range(0, recipients, SEED_CHUNK):
            chunk = range(start, min(recipients, start + SEED_CHUNK))
            people = [{"display_name": f"住户{i}", "client_locale": "en" if i % 10 == 0 else "zh_CN", "created_at": now} for i in chunk]
            ids = (await session.execute(insert(Person).returning(Person.id, sort_by_parameter_order=True), people)).scalars().all()
            identities = [{"person_id": p, "channel": "telegram", "external_id": str(FIRST_CHAT + i), "created_at": now} for p, i in zip(ids, chunk)]
            await session.execute(insert(ChannelIdentity), identities)


class Emulator:
    """The emulator's process and its statistics over HTTP."""

    def __init__(self, process: asyncio.subprocess.Process, url: str, http: aiohttp.ClientSession) -> None:
        self.process, self.url, self.http = process, url, http

    async def stats(self, since: int = 0, chats: bool = False) -> dict[str, Any]:
        query = f"?since={since}" + ("&chats=1" if chats else "")
        async with self.http.get(self.url + "/emulator/stats" + query) as response:
            return dict(await response.json())


async def start_sender(args: argparse.Namespace, database_url: str, api_url: str) -> asyncio.subprocess.Process:
    command = [
        sys.executable, __file__, "--sender", "--database-url", database_url, "--api-url", api_url, "--sender-rate", str(args.sender_rate),
        "--chat-interval", str(args.chat_interval), "--lease", str(args.lease), *(["--redis-url", args.redis_url] if args.redis_url else []),
    ]
    return await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)


async def sender_report(process: asyncio.subprocess.Process) -> dict[str, Any]:
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the sender exited with {process.returncode}")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def broadcast(args: argparse.Namespace, database_url: str, sessionmaker: async_sessionmaker[AsyncSession], emulator: Emulator, *, source: str, kill: bool) -> dict[str, Any]:
    started = time.perf_counter()
    async with sessionmaker.begin() as session:
        await outbox.enqueue(session, await outbox.recipients(session, select(Person.id)), NOTICE, source=source)
    enqueue_seconds = time.perf_counter() - started
    since = (await emulator.stats())["sent"]
    sender = await start_sender(args, database_url, emulator.url)
    result: dict[str, Any] = {"enqueue_s": round(enqueue_seconds, 2)}
    if kill:
        while (await emulator.stats(since))["sent"] < args.recipients // 2:
            await asyncio.sleep(0.05)
        sender.send_signal(signal.SIGKILL)
        await sender.wait()
        async with sessionmaker() as session:
            result["in_flight"] = (await outbox.progress(session, source)).sending
        sender = await start_sender(args, database_url, emulator.url)
    result["sender"] = await sender_report(sender)
    stats = await emulator.stats(since, chats=True)
    copies = {int(k): v for k, v in stats["chats_by_copies"].items()}
    result.update(
        sent=stats["sent"],
        seconds=round(stats["seconds"], 2),
        lost=args.recipients - sum(copies.values()),
        duplicates=sum((k - 1) * chats for k, chats in copies.items()),
    )
    async with sessionmaker() as session:
        result["progress"] = {k: v for k, v in vars(await outbox.progress(session, source)).items() if v}
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gongjian-broadcast-") as folder:
        database_url = args.database_url or f"sqlite+aiosqlite:///{folder}/broadcast.db"
        engine = create_engine(database_url)
        await migrate.upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        started = time.perf_counter()
        await seed(sessionmaker, args.recipients)
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Person)) == args.recipients, "use an empty database"
        seed_seconds = time.perf_counter() - started
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--emulator", "--recipients", str(args.recipients), "--rate", str(args.rate), stdout=asyncio.subprocess.PIPE
        )
        assert process.stdout is not None
        url = (await process.stdout.readline()).decode().strip()
        os.nice(SENDER_NICENESS)  # this process and the senders it starts; not the emulator
        try:
            async with aiohttp.ClientSession() as http:
                emulator = Emulator(process, url, http)
                straight = await broadcast(args, database_url, sessionmaker, emulator, source="notice:1", kill=False)
                resumed = await broadcast(args, database_url, sessionmaker, emulator, source="notice:2", kill=True)
                rate_limited = (await emulator.stats())["rate_limited"]
        finally:
            process.kill()
            await process.wait()
            await engine.dispose()
    achieved = (straight["sent"] - 1) / straight["seconds"] if straight["seconds"] else 0.0
    return {
        "recipients": args.recipients,
        "rate_limit": args.rate,
        "sender_rate": args.sender_rate,
        "database": database_url.split(":", 1)[0],
        "achieved_per_s": round(achieved, 1),
        "ratio": round(achieved / args.rate, 4),
        "lost": straight["lost"],
        "duplicates": straight["duplicates"],
        "resume_lost": resumed["lost"],
        "resume_duplicates": resumed["duplicates"],
        "resume_in_flight": resumed["in_flight"],
        "rate_limited_429": rate_limited,
        "sender_peak_rss_mb": straight["sender"]["peak_rss_mb"],
        "sender_rss_mb_first_last": [straight["sender"]["rss_mb"][0], straight["sender"]["rss_mb"][-1]],
        "seed_s": round(seed_seconds, 1),
        "enqueue_s": straight["enqueue_s"],
        "send_s": straight["seconds"],
        "resume_send_s": resumed["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--rate", type=int, default=30, help="the emulator's global limit, messages a second")
    parser.add_argument("--sender-rate", type=float, help="the sender's rate (GONGJIAN_DELIVERY_RATE); 98 %% of the limit by default")
    parser.add_argument("--chat-interval", type=float, default=1.1, help="GONGJIAN_DELIVERY_CHAT_INTERVAL")
    parser.add_argument("--lease", type=float, default=3.0, help="seconds before a dead sender's rows go out again (60 in the bot)")
    parser.add_argument("--database-url", help="an empty database; a temporary SQLite file by default")
    parser.add_argument("--redis-url", help="share the sender's limits through Redis")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(serve_emulator(args.recipients, args.rate))
        return
    if args.sender:
        asyncio.run(run_sender(args))
        return
    args.sender_rate = args.sender_rate or SENDER_SHARE * args.rate
    result = asyncio.run(run(args))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
