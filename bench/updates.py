"""The per-update path: how many updates a second the real bot handles and how fast it answers,
against a bare aiogram echo bot on the same machine, emulator and load.

    python bench/updates.py [--residents 1000] [--rates 50,100,200,400] [--seconds 5] [--burst 3000] [--bursts 1] [--rounds 3]
    python bench/updates.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Each part runs in its own process, all on 127.0.0.1: this one generates the load; the project's
Bot API emulator (bot/emulator, unchanged, with a clock added by a subclass below) serves both
sides over HTTP; and one bot at a time polls it: first a bare aiogram echo bot, then the real bot
started as an operator starts it (`python -m bot.cli run` with GONGJIAN_BOT_TOKEN,
GONGJIAN_TELEGRAM_API_URL and GONGJIAN_DATABASE_URL).

The database holds the demo's sample community and N residents who have joined its households;
each sends /me, which reads their households and roles. Updates are offered evenly at each rate
for --seconds, each in its own request, then --burst updates are enqueued at once. Latency runs
from an update's enqueueing in the emulator to the bot's reply reaching it; saturation is the
burst's size over the time from its first enqueue to its last reply. Both bots get the same rates
and burst. Then, for --rounds in all, each bot again in turn for a burst alone: the machine's speed
drifts from one minute to the next (the echo bot alone saturated anywhere between 630 and 1,240
updates/s in one afternoon), so saturation and the ratio are the medians of the rounds', each
round's ratio from two bursts a few seconds apart.

With --database-url a throw-away database is made on that PostgreSQL server and dropped after;
otherwise a throw-away SQLite file is used. A line per phase comes first, with the CPU each process
used (% of one core; `other` is everything else on the machine, and a phase where it is high is
marked DISTURBED); the last line is JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import logging
import math
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator.server import BotApiEmulator  # noqa: E402

if TYPE_CHECKING:
    import asyncpg

FIRST_RESIDENT_ID = 100_000  # clear of the demo's personas (1001-1004)
COMMAND = "/me"
# What `gongjian run` logs with; the echo bot logs the same way so both pay for aiogram's per-update line.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
PR_SET_PDEATHSIG = 1
# More CPU than this (% of one core) used outside the bot, emulator and generator marks a phase's figures as disturbed.
DISTURBED_PCT = 25


def resident_name(user_id: int) -> str:
    """The name the resident is seeded with and sends with: equal, so /me never rewrites it."""
    return f"住户{user_id}"


# --- the emulator's process -------------------------------------------------------------------


class TimedEmulator(BotApiEmulator):
    """The project's emulator plus the clock this benchmark reads: when each update was enqueued
    and when the bot's reply to it arrived, in this process's monotonic time.

    Each resident talks in their own private chat, so the reply to an update is the first bot
    message stored in that chat after it; updates of one chat are answered oldest first.
    """

    def __init__(self) -> None:
        super().__init__()
        self.enqueued_at: dict[int, float] = {}
        self.replied_at: dict[int, float] = {}
        self.awaiting_reply: defaultdict[int, deque[int]] = defaultdict(deque)
        self.app.router.add_post("/bench/send", self._bench_send)
        self.app.router.add_get("/bench/timings", self._bench_timings)

    async def user_message(self, user_id: int, body: dict[str, Any]) -> int:
        enqueued = time.monotonic()
        update_id = await super().user_message(user_id, body)
        self.enqueued_at[update_id] = enqueued
        self.awaiting_reply[user_id].append(update_id)
        return update_id

    async def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await super().api_sendmessage(params)
        waiting = self.awaiting_reply.get(message["chat"]["id"])
        if waiting:
            self.replied_at[waiting.popleft()] = time.monotonic()
        return message

    async def _bench_send(self, request: web.Request) -> web.Response:
        """Each listed resident sends the text; all are enqueued before the bot can take any."""
        body = await request.json()
        text = str(body["text"])
        update_ids = [await self.user_message(user_id, {"text": text, "first_name": resident_name(user_id)}) for user_id in body["user_ids"]]
        return web.json_response({"update_ids": update_ids})

    async def _bench_timings(self, request: web.Request) -> web.Response:
        """Enqueue and reply times of updates first..last, once all are answered or `wait` seconds passed."""
        ids = range(int(request.query["first"]), int(request.query["last"]) + 1)
        deadline = time.monotonic() + float(request.query.get("wait", "0"))
        while not all(i in self.replied_at for i in ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return web.json_response({"enqueued": [self.enqueued_at.get(i) for i in ids], "replied": [self.replied_at.get(i) for i in ids]})


async def serve_emulator(emulator: BotApiEmulator) -> None:
    """Until SIGTERM; the first line on stdout tells the benchmark where and with which token.
    Each benchmark passes its own emulator (this one's TimedEmulator, the votes' and reports')."""
    url = await emulator.start()
    print(json.dumps({"url": url, "token": emulator.token}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await emulator.stop()


# --- the echo bot's process -------------------------------------------------------------------


async def echo_bot(api_url: str, token: str) -> None:
    """The baseline: a bare aiogram bot that answers the text back, polling as aiogram's examples
    do (stops on SIGTERM, as `gongjian run` does)."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    await dispatcher.start_polling(bot, handle_as_tasks=True)


# --- the database -----------------------------------------------------------------------------


async def seed_residents(database_url: str, user_ids: Sequence[int]) -> None:
    """The demo's sample community (72 households), and each user id a person who has joined one
    of its households, verified. The only place this benchmark uses the bot's services."""
    from bot.demo import seed_sample
    from bot.services import people, places
    from storage.db import create_engine, create_sessionmaker
    from storage.models import PlaceKind

    await seed_sample(database_url)
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            households = [node.id for node in await places.list_places(session) if node.kind is PlaceKind.household]
            for number, user_id in enumerate(user_ids):
                person = await people.get_or_create_person(session, people.TELEGRAM, str(user_id), resident_name(user_id))
                await people.join_household(session, person.id, households[number % len(households)], verified=True)
    finally:
        await engine.dispose()


@dataclass
class Database:
    url: str
    kind: str  # "sqlite" or "postgresql"
    # On PostgreSQL: a connection to the server, to find the server processes serving this database.
    admin: asyncpg.Connection | None = None
    name: str = ""

    async def server_pids(self) -> list[int]:
        if self.admin is None:
            return []
        return [row["pid"] for row in await self.admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", self.name)]


@asynccontextmanager
async def throwaway_database(folder: Path, postgres_url: str | None) -> AsyncIterator[Database]:
    """An SQLite file in `folder`, or a new database on the PostgreSQL server, dropped after."""
    if postgres_url is None:
        yield Database(f"sqlite+aiosqlite:///{folder / 'bench.db'}", "sqlite")
        return
    import asyncpg

    name = "gongjian_bench_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Database(postgres_url.rsplit("/", 1)[0] + "/" + name, "postgresql", admin, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# --- processes and what they cost ---------------------------------------------------------------


def _die_with_parent() -> None:
    # Runs in the child before exec: if the benchmark dies, the kernel stops the child, so no bot
    # or emulator is left running.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def start_process(arguments: Sequence[str], log: Path, **options: Any) -> asyncio.subprocess.Process:
    # Output goes to a file, not a pipe nobody reads, so logging can never block the process.
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            *arguments, stdin=asyncio.subprocess.DEVNULL, stderr=output, preexec_fn=_die_with_parent, **options
        )


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()


def bot_command(profile: str | None) -> list[str]:
    """`gongjian run` as an operator starts it; under cProfile, writing FILE when it stops, with --profile FILE."""
    return [sys.executable, *(["-m", "cProfile", "-o", os.path.abspath(profile)] if profile else []), "-m", "bot.cli", "run"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system time of all the process's threads (aiosqlite's included); 0 once it has exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idling."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSnapshot:
    wall: float
    machine: float
    processes: dict[str, float]
    server: dict[int, float]  # PostgreSQL server processes of the benchmark's database, by pid


@dataclass
class CpuMeter:
    """CPU used over a phase, in % of one core: by each process, by the PostgreSQL server for the
    benchmark's database, and by anything else on the machine (`other`: it should stay near 0)."""

    pids: dict[str, int]
    database: Database

    async def snapshot(self) -> CpuSnapshot:
        server = {pid: cpu_seconds(pid) for pid in await self.database.server_pids()}
        return CpuSnapshot(time.monotonic(), machine_busy_seconds(), {name: cpu_seconds(pid) for name, pid in self.pids.items()}, server)

    async def shares(self, before: CpuSnapshot) -> dict[str, int]:
        after = await self.snapshot()
        used = {name: after.processes[name] - before.processes[name] for name in self.pids}
        if self.database.admin is not None:
            # A server process that started during the phase spent all its time in it.
            used["postgresql"] = sum(seconds - before.server.get(pid, 0.0) for pid, seconds in after.server.items())
        # Per-process and machine-wide times are sampled in 10 ms ticks apart: never below zero.
        used["other"] = max(0.0, after.machine - before.machine - sum(used.values()))
        return {name: round(100 * seconds / (after.wall - before.wall)) for name, seconds in used.items()}


# --- the load generator (this process) --------------------------------------------------------


@dataclass
class Phase:
    name: str
    rate: float | None  # offered per second; None for the burst
    updates: int
    enqueue_span_s: float  # first to last enqueue
    replied: int
    handled_per_s: float  # replied updates over first enqueue → last reply
    p50_ms: float
    p99_ms: float
    generator_lag_ms: float  # how late the generator sent, at worst, against its schedule
    cpu: dict[str, int]

    @property
    def offered_per_s(self) -> float:
        """What the bot was really offered: evenly spaced updates over the span of their enqueue times."""
        return (self.updates - 1) / self.enqueue_span_s if self.enqueue_span_s > 0 else math.inf

    def line(self, bot: str) -> str:
        if self.rate is None:
            offered = f"enqueued within {1000 * self.enqueue_span_s:.0f} ms"
        else:
            offered = f"offered at {self.offered_per_s:.1f}/s (generator at most {self.generator_lag_ms:.1f} ms late)"
        cpu = " ".join(f"{name} {share}" for name, share in self.cpu.items())
        return (f"{bot:4} {self.name:>10}: {self.updates} updates {offered}, {self.replied} answered, {self.handled_per_s:.1f}/s, "
                f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms; CPU % of a core: {cpu}"
                + (" (DISTURBED: something else ran meanwhile)" if self.cpu["other"] > DISTURBED_PCT else ""))


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)]


class LoadGenerator:
    def __init__(self, http: aiohttp.ClientSession, emulator_url: str, token: str, residents: Sequence[int]) -> None:
        self.http = http
        self.emulator_url = emulator_url
        self.token = token
        self.residents = residents
        self.turn = 0
        self.last_update_id = 0

    def next_residents(self, count: int) -> list[int]:
        """Round robin: the same resident comes back only after all others have sent."""
        chosen = [self.residents[(self.turn + i) % len(self.residents)] for i in range(count)]
        self.turn += count
        return chosen

    async def send(self, user_ids: list[int]) -> list[int]:
        async with self.http.post(f"{self.emulator_url}/bench/send", json={"text": COMMAND, "user_ids": user_ids}) as response:
            response.raise_for_status()
            update_ids = list((await response.json())["update_ids"])
        self.last_update_id = max(self.last_update_id, *update_ids)
        return update_ids

    async def timings(self, update_ids: list[int], wait: float) -> tuple[list[float], list[float | None]]:
        first, last = min(update_ids), max(update_ids)
        if last - first + 1 != len(update_ids):
            raise RuntimeError("another client enqueued updates during the phase")
        query = {"first": first, "last": last, "wait": wait}
        async with self.http.get(f"{self.emulator_url}/bench/timings", params=query, timeout=aiohttp.ClientTimeout(total=wait + 30)) as response:
            body = await response.json()
        return body["enqueued"], body["replied"]

    async def offer(self, rate: float, seconds: float) -> tuple[list[int], float]:
        """Evenly spaced single updates, each its own request, sent without waiting for the
        previous one; returns their ids and how late, at worst, one was sent."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        sends: list[asyncio.Task[list[int]]] = []
        lag = 0.0
        for i in range(max(1, round(rate * seconds))):
            due = start + i / rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            lag = max(lag, loop.time() - due)
            sends.append(asyncio.create_task(self.send(self.next_residents(1))))
        return [update_id for ids in await asyncio.gather(*sends) for update_id in ids], lag

    async def phase(self, name: str, meter: CpuMeter, rate: float | None, seconds: float, burst: int, drain_timeout: float) -> Phase:
        before = await meter.snapshot()
        if rate is None:
            update_ids, lag = await self.send(self.next_residents(burst)), 0.0
        else:
            update_ids, lag = await self.offer(rate, seconds)
        enqueued, replied = await self.timings(update_ids, drain_timeout)
        cpu = await meter.shares(before)
        answered = [(e, r) for e, r in zip(enqueued, replied) if r is not None]
        latencies = sorted(1000 * (r - e) for e, r in answered)
        return Phase(
            name=name,
            rate=rate,
            updates=len(update_ids),
            enqueue_span_s=max(enqueued) - min(enqueued),
            replied=len(answered),
            handled_per_s=len(answered) / (max(r for _, r in answered) - min(enqueued)) if answered else 0.0,
            p50_ms=percentile(latencies, 50),
            p99_ms=percentile(latencies, 99),
            generator_lag_ms=1000 * lag,
            cpu=cpu,
        )

    async def wait_ready(self, process: asyncio.subprocess.Process, log: Path) -> None:
        """One update answered: the bot has started and polls."""
        update_ids = await self.send(self.next_residents(1))
        _, replied = await self.timings(update_ids, READY_TIMEOUT_S)
        if replied[0] is None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the bot (exit code {process.returncode}) did not answer within {READY_TIMEOUT_S:.0f} s; its log ends:\n{tail}")

    async def confirm_all(self) -> None:
        """Confirm every update so far, as a bot does with getUpdates(offset): a bot stopped
        mid-poll leaves its last batch unconfirmed, and the next bot must not get it again."""
        async with self.http.post(f"{self.emulator_url}/bot{self.token}/getUpdates", json={"offset": self.last_update_id + 1, "timeout": 0}) as response:
            response.raise_for_status()


@dataclass
class BotRun:
    phases: list[Phase]
    rss_start_mb: float
    rss_end_mb: float
    rss_after_bursts_mb: list[float]


@dataclass
class Bench:
    """What every phase of one benchmark run shares."""

    args: argparse.Namespace
    folder: Path
    database: Database
    emulator_pid: int
    load: LoadGenerator

    async def run_bot(self, label: str, arguments: Sequence[str], environment: dict[str, str], *, rates: Sequence[float], bursts: int) -> BotRun:
        """Start one bot, offer each rate and then the bursts, stop it."""
        log = self.folder / f"{label}.log"
        process = await start_process(arguments, log, cwd=self.folder, env=environment, stdout=asyncio.subprocess.DEVNULL)
        try:
            await self.load.wait_ready(process, log)
            await asyncio.sleep(2)  # the real bot loads its routing model in the background after start (well under a second)
            rss_start = rss_mb(process.pid)
            meter = CpuMeter({label: process.pid, "emulator": self.emulator_pid, "generator": os.getpid()}, self.database)
            phases = []
            for rate in rates:
                phases.append(await self.load.phase(f"{rate:g}/s", meter, rate, self.args.seconds, 0, drain_timeout=self.args.seconds + 60))
                print(phases[-1].line(label), flush=True)
            # Resident memory after each burst: growing burst after burst is a leak or an unbounded
            # cache; settling after the first is the allocator keeping its high-water mark.
            rss_after_bursts = []
            for number in range(1, bursts + 1):
                name = f"burst {self.args.burst}" + (f" #{number}" if number > 1 else "")
                phases.append(await self.load.phase(name, meter, None, 0, self.args.burst, drain_timeout=180))
                rss_after_bursts.append(rss_mb(process.pid))
                print(phases[-1].line(label) + f"; RSS {rss_after_bursts[-1]:.1f} MB", flush=True)
            return BotRun(phases, rss_start, rss_after_bursts[-1], rss_after_bursts)
        finally:
            await stop_process(process)
            await self.load.confirm_all()


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def at_rate(phases: list[Phase], rate: float) -> Phase | None:
    return next((phase for phase in phases if phase.name == f"{rate:g}/s"), None)


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    residents = list(range(FIRST_RESIDENT_ID, FIRST_RESIDENT_ID + args.residents))
    with tempfile.TemporaryDirectory(prefix="gongjian-bench-") as name:
        folder = Path(name)
        async with throwaway_database(folder, args.database_url) as database:
            started = time.monotonic()
            await seed_residents(database.url, residents)
            print(f"seeded {len(residents)} residents in {time.monotonic() - started:.1f} s", flush=True)
            # Seeding imported the bot (aiogram, SQLAlchemy: some 260k objects); a full collection
            # over them stalls this process for ~150 ms, so the generator would send late in bunches.
            gc.freeze()
            emulator = await start_process([sys.executable, str(SCRIPT), "--emulator"], folder / "emulator.log", stdout=asyncio.subprocess.PIPE)
            try:
                assert emulator.stdout is not None
                where = json.loads(await asyncio.wait_for(emulator.stdout.readline(), READY_TIMEOUT_S))
                print(f"{os.cpu_count()} cores shared by: one bot at a time (the echo bot, then the real bot), the emulator "
                      f"(pid {emulator.pid}), this load generator (pid {os.getpid()})"
                      + (", the PostgreSQL server processes of the benchmark's database" if database.admin else ""), flush=True)
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
                    load = LoadGenerator(http, where["url"], where["token"], residents)
                    bench = Bench(args, folder, database, emulator.pid, load)
                    environment = {key: value for key, value in os.environ.items() if not key.startswith("GONGJIAN_")}
                    echo_command = [sys.executable, str(SCRIPT), "--echo-bot", where["url"], where["token"]]
                    # As an operator runs it; PYTHONPATH so that this checkout's code runs even if not installed.
                    bot_environment = environment | {
                        "GONGJIAN_BOT_TOKEN": where["token"], "GONGJIAN_TELEGRAM_API_URL": where["url"], "GONGJIAN_DATABASE_URL": database.url,
                        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                    }
                    echo = await bench.run_bot("echo", echo_command, environment, rates=args.rates, bursts=1)
                    real = await bench.run_bot("bot", bot_command(args.profile), bot_environment, rates=args.rates, bursts=args.bursts)
                    # Saturation from each round's first burst; the first round's later bursts show memory over time.
                    rounds = [(echo.phases[len(args.rates)], real.phases[len(args.rates)])]
                    runs = [("echo", echo), ("bot", real)]
                    for _ in range(args.rounds - 1):
                        echo_again = await bench.run_bot("echo", echo_command, environment, rates=(), bursts=1)
                        real_again = await bench.run_bot("bot", bot_command(None), bot_environment, rates=(), bursts=1)
                        rounds.append((echo_again.phases[0], real_again.phases[0]))
                        runs += [("echo", echo_again), ("bot", real_again)]
            finally:
                await stop_process(emulator)
    burst = rounds[0][1]
    echo_100, bot_100 = at_rate(echo.phases, 100), at_rate(real.phases, 100)
    return {
        "echo_updates_per_s": round(median([echo_burst.handled_per_s for echo_burst, _ in rounds]), 1),
        "updates_per_s": round(median([bot_burst.handled_per_s for _, bot_burst in rounds]), 1),
        "ratio": round(median([bot_burst.handled_per_s / echo_burst.handled_per_s for echo_burst, bot_burst in rounds]), 3),
        "rounds": [[round(echo_burst.handled_per_s, 1), round(bot_burst.handled_per_s, 1)] for echo_burst, bot_burst in rounds],
        "p50_ms": round(bot_100.p50_ms, 1) if bot_100 else None,
        "p99_ms": round(bot_100.p99_ms, 1) if bot_100 else None,
        "rss_start_mb": round(real.rss_start_mb, 1),
        "rss_end_mb": round(real.rss_end_mb, 1),
        "rss_after_bursts_mb": [round(rss, 1) for rss in real.rss_after_bursts_mb],
        "database": database.kind,
        "echo_p50_ms": round(echo_100.p50_ms, 1) if echo_100 else None,
        "echo_p99_ms": round(echo_100.p99_ms, 1) if echo_100 else None,
        "by_rate": {f"{rate:g}": {key: round(getattr(phase, key), 1) for key in ("offered_per_s", "handled_per_s", "p50_ms", "p99_ms")}
                    for rate, phase in zip(args.rates, real.phases)},
        "unanswered": sum(phase.updates - phase.replied for _, run in runs for phase in run.phases),
        "residents": args.residents,
        "burst": args.burst,
        "bot_cpu_burst_pct": burst.cpu["bot"],
        "cores": os.cpu_count(),
        "disturbed": [f"{label} {phase.name}" for label, run in runs for phase in run.phases if phase.cpu["other"] > DISTURBED_PCT],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--residents", type=int, default=1000, help="joined residents; they send in turn")
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://user@host:port/db to connect to): "
                                               "a throw-away database is made there; default a throw-away SQLite file")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each rate is offered")
    parser.add_argument("--burst", type=int, default=3000, help="updates enqueued at once to measure saturation")
    parser.add_argument("--bursts", type=int, default=1, help="how many such bursts, one after another (memory over time)")
    parser.add_argument("--rates", type=lambda text: [float(r) for r in text.split(",")], default=[50.0, 100.0, 200.0, 400.0],
                        help="offered updates per second, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of a burst for each bot in turn; saturation and the ratio are their medians")
    parser.add_argument("--profile", metavar="FILE", help="run the real bot under cProfile and write its statistics to FILE (figures then count the profiler too)")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--echo-bot", nargs=2, metavar=("API_URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(serve_emulator(TimedEmulator()))
        return
    if args.echo_bot:
        asyncio.run(echo_bot(*args.echo_bot))
        return
    if args.database_url and not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url must be a postgresql+asyncpg:// URL")
    print(json.dumps(asyncio.run(benchmark(args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
