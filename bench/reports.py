"""The report flow under load: many residents report problems at once, through the Bot API
emulator over HTTP, to the real bot started as `gongjian run` starts it, against a bare aiogram
echo bot in the same run.

    python bench/reports.py [--residents 2000] [--compounds 100] [--rates 25,50,100] [--seconds 5] [--rounds 3]
    python bench/reports.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python bench/reports.py --kill
    python bench/reports.py --floor

The processes are bench/updates.py's (this script imports its pieces): the emulator in its own
process (here with a clock on every bot message to a resident), one bot at a time polling it,
and this process generating the load. The database holds --compounds compounds of the generated
city of bench/import_households.py, one grid worker per compound with a grant on each of its
buildings, and --residents residents spread over their households, joined and verified.

Each resident writes as a person does, one message after the answer to the previous one:
"/report <a real complaint>" (../shared/data/complaints_train.csv, the messages about compounds),
then the first proposed category's name; when the bot offers a similar open report, "提交新报告"
(new report); until "报告 #N 已受理". An update's latency runs from its enqueueing to the bot
message the resident acts on: the last message of a response of several (the duplicate offer),
so its first messages are never taken for the answer to the next update. Phases: new reports
started evenly at each of --rates a second for --seconds, then a burst of --burst residents at
once (saturation: updates answered over first enqueue to last answer). The echo bot gets the
same residents, texts and shapes of load; it answers every message, so each of its residents
sends two ("/report …", then a category's name). Then, for --rounds in all, each bot again in
turn for a burst alone; saturation and the ratio are the medians of the rounds' (the machine's
speed drifts from minute to minute: bench/updates.py).

--floor: each round also runs bench/report_floor.py's bot for a burst: the least a bot can do for
the same residents on the same stack (aiogram, the project's engine, sessions and tables, one
transaction per update; no routing engine, building, grid worker, duplicate check or audit), so
`floor_ratio` tells how much of the gap to the echo bot is the stack's and how much the features';
then the same floor with the routing engine proposing the categories (`floor_routing_ratio`):
what is left between it and 0.5 is what every other feature of the flow may cost.

--kill: only the real bot, only the burst; the bot is SIGKILLed when a third of the residents
have been told their report is saved, and started again. The emulator redelivers what the dead
bot had not confirmed; a resident who got no answer for --resend-after seconds sends the same
again, and one whose answer makes no sense any more (the report was saved but the answer lost)
looks at /myreports, as a person would. Every run then checks the database: each report a
resident was told of exists with its history (submitted, assigned) and its grid worker's
notification in the outbox (else `lost`), and no report, history entry or notification is there
twice (`doubled`). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPT.parent))

import updates as per_update  # noqa: E402  (bench/updates.py: processes, throw-away databases, CPU meter, echo bot)
from import_households import city_rows  # noqa: E402

from bot.emulator.server import BotApiEmulator  # noqa: E402
from bot.i18n import translate  # noqa: E402

FIRST_RESIDENT_ID = 200_000
FIRST_WORKER_ID = 900_000
LOCALE = "zh_CN"  # the residents' (Telegram sends no language): what they read and type
COMPLAINTS = ROOT.parent / "shared" / "data" / "complaints_train.csv"
SEED_EXAMPLES = ROOT / "bot" / "routing" / "data" / "seed_examples.csv"
# Messages about where people live, as the data's README suggests finding them; long letters left out.
COMPOUND_WORDS = ("小区", "物业", "楼道", "电梯", "下水道", "停车", "噪音", "业主", "楼栋", "垃圾", "漏水")
MAX_COMPLAINT_CHARS = 600
# What the bot says, as the residents read it.
NEW_REPORT = translate(LOCALE, "New report")


def _pattern(msgid: str, up_to: str) -> re.Pattern[str]:
    """The translated message up to the parameter `up_to`, its {id} read as digits."""
    before, after = translate(LOCALE, msgid).split("{id}")
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after.split(up_to)[0]))


SAVED = _pattern("Report #{id} is saved (受理): {category}.", "{category}")
# What the outbox tells a reporter (assigned): it may arrive at any moment, and is no answer to anything.
STATUS_NEWS = _pattern("Report #{id} ({summary}) is now: {status}.", "{summary}")
NOT_NOW = translate(LOCALE, "Reports cannot be taken right now. Your words are kept: please try /report again later.")
# handlers/errors.py: the update failed and was rolled back; "please try again in a moment".
APOLOGY = translate(LOCALE, "Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment.")
NO_REPORTS = translate(LOCALE, "You have no reports yet. Send /report to report a problem.")
# Answers that mean the resident's step is gone: their report was saved, but the answer was lost with a killed bot.
STEP_GONE = {
    translate(LOCALE, "This button is no longer valid. Send /help to start again."),
    translate(LOCALE, "Thank you for your message. To get started, send /help to see what you can do here."),
    translate(LOCALE, "This sounds like a problem in your compound. Shall I make it a report for your grid worker?"),
}
REPORT_ID = re.compile(r"#(\d+)")
ECHO_SECOND_TEXT = "其他"  # the echo bot's residents type a category's name too
RETRY_S = 2.0  # "try again later", "in a moment": a person tries again a moment later
KILL_AT_SHARE = 1 / 3


def complaint_texts() -> list[str]:
    if COMPLAINTS.exists():
        with COMPLAINTS.open(encoding="utf-8") as rows:
            texts = [row["text"] for row in csv.DictReader(rows)]
        return [t for t in texts if any(w in t for w in COMPOUND_WORDS) and len(t) <= MAX_COMPLAINT_CHARS]
    with SEED_EXAMPLES.open(encoding="utf-8") as rows:
        return [row["text"] for row in csv.DictReader(rows)]


# --- the emulator's process -------------------------------------------------------------------


class WatchingEmulator(BotApiEmulator):
    """The project's emulator, plus when each update was enqueued and every bot message to a
    watched chat (the residents') with its time and buttons, for the load generator to read."""

    def __init__(self) -> None:
        super().__init__()
        self.watched: set[int] = set()
        self.seen: list[tuple[int, float, str, list[str]]] = []  # chat, time, text, button labels
        self.seen_more = asyncio.Event()
        self.app.router.add_post("/bench/chats", self._bench_chats)
        self.app.router.add_post("/bench/send", self._bench_send)
        self.app.router.add_get("/bench/seen", self._bench_seen)

    async def _store(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = await super()._store(params, **content)
        chat_id = message["chat"]["id"]
        if chat_id in self.watched:
            labels = [button["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for button in row]
            self.seen.append((chat_id, time.monotonic(), str(message.get("text") or message.get("caption") or ""), labels))
            self.seen_more.set()
        return message

    async def _bench_chats(self, request: web.Request) -> web.Response:
        """Residents to watch; grid workers' chats opened, as if they had written, so the outbox can reach them."""
        body = await request.json()
        self.watched.update(body["residents"])
        for user_id in body["residents"]:  # named as seeded, so the bot never renames them
            self.open_chat(user_id, per_update.resident_name(user_id))
        for user_id in body["workers"]:
            self.open_chat(user_id)
        return web.json_response({})

    async def _bench_send(self, request: web.Request) -> web.Response:
        """[[user, text], ...] enqueued in order before the bot can take any; [[update id, time], ...]."""
        sent = []
        for user_id, text in (await request.json())["messages"]:
            update_id = await self.user_message(user_id, {"text": text})
            sent.append((update_id, time.monotonic()))
        return web.json_response({"sent": sent})

    async def _bench_seen(self, request: web.Request) -> web.Response:
        """Bot messages to watched chats from index `after` on, waiting up to `wait` s for one."""
        after = int(request.query["after"])
        if len(self.seen) <= after:
            self.seen_more.clear()
            try:
                await asyncio.wait_for(self.seen_more.wait(), float(request.query.get("wait", "1")))
            except TimeoutError:
                pass
        return web.json_response({"seen": self.seen[after:], "count": len(self.seen)})



# --- the database -----------------------------------------------------------------------------


@dataclass
class Seeded:
    residents: list[int]  # Telegram user ids
    workers: list[int]
    buildings: int
    households: int


async def seed(database_url: str, compounds: int, residents: int) -> Seeded:
    """The first `compounds` compounds of the generated city, a grid worker on every building of
    each, and the residents spread evenly over all households (so over all compounds)."""
    from sqlalchemy import select

    from bot.services import access, audit, people, places
    from bot.services.households_import import HouseholdRow
    from storage import migrate
    from storage.db import create_engine, create_sessionmaker
    from storage.models import Household, Place, PlaceKind, Role

    rows = []
    for row in city_rows():
        if int(row[3].removeprefix("第").removesuffix("小区")) > compounds:
            break
        rows.append(HouseholdRow(*row[:6], int(row[6]), row[7], Decimal(row[8])))
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as session:
            await places.import_households(session, rows, actor=audit.COMMAND_LINE)
        workers: list[int] = []
        async with sessions.begin() as session:
            buildings = list(await session.scalars(select(Place).where(Place.kind == PlaceKind.building).order_by(Place.id)))
            by_compound: dict[int | None, list[Place]] = {}
            for building in buildings:
                by_compound.setdefault(building.compound_id, []).append(building)
            for number, grid in enumerate(by_compound.values()):
                user_id = FIRST_WORKER_ID + number
                worker = await people.get_or_create_person(session, people.TELEGRAM, str(user_id), f"网格员{number + 1}")
                for building in grid:
                    await access.add_grant(session, worker.id, Role.grid_worker, building, actor=audit.COMMAND_LINE)
                workers.append(user_id)
        resident_ids = list(range(FIRST_RESIDENT_ID, FIRST_RESIDENT_ID + residents))
        async with sessions.begin() as session:
            households = list(await session.scalars(select(Household.id).order_by(Household.id)))
            stride = max(1, len(households) // residents)
            for number, user_id in enumerate(resident_ids):
                person = await people.get_or_create_person(session, people.TELEGRAM, str(user_id), per_update.resident_name(user_id))
                await people.join_household(session, person.id, households[(number * stride) % len(households)], verified=True)
        return Seeded(resident_ids, workers, len(buildings), len(households))
    finally:
        await engine.dispose()


async def audit_database(database_url: str, told: Sequence[int], residents: Sequence[int]) -> tuple[int, int, int]:
    """(reports in the database, lost, doubled). Lost: a report a resident was told of that is
    missing, or lacks its submitted or assigned entry, or its grid worker's notification.
    Doubled: a report no resident was told of (one attempt saved twice), or an entry or a
    notification that is there twice."""
    from sqlalchemy import func, select

    from bot.services import people
    from storage.db import create_engine, create_sessionmaker
    from storage.models import ChannelIdentity, OutboxDelivery, OutboxMessage, Report, ReportAction, ReportEvent

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            reporters = (
                select(ChannelIdentity.person_id)
                .where(ChannelIdentity.channel == people.TELEGRAM, ChannelIdentity.external_id.in_([str(r) for r in residents]))
            )
            reports = {report_id: handler for report_id, handler in await session.execute(
                select(Report.id, Report.handler_id).where(Report.reporter_id.in_(reporters)))}
            events = Counter(
                (report_id, action) for report_id, action in await session.execute(
                    select(ReportEvent.report_id, ReportEvent.action)
                    .where(ReportEvent.report_id.in_(select(Report.id).where(Report.reporter_id.in_(reporters))),
                           ReportEvent.action.in_([ReportAction.submitted, ReportAction.assigned])))
            )
            notified = Counter(
                (source, person_id) for source, person_id, in await session.execute(
                    select(OutboxMessage.source, OutboxDelivery.person_id).join(OutboxDelivery, OutboxDelivery.message_id == OutboxMessage.id)
                    .where(OutboxMessage.source.like("report:%"))
                )
            )
            counted = await session.scalar(select(func.count()).select_from(Report).where(Report.reporter_id.in_(reporters)))
            assert counted == len(reports)
    finally:
        await engine.dispose()
    told_ids = set(told)
    lost = 0
    for report_id in told_ids:
        handler = reports.get(report_id, None)
        complete = (
            report_id in reports and handler is not None
            and events[(report_id, ReportAction.submitted)] >= 1 and events[(report_id, ReportAction.assigned)] >= 1
            and notified[(f"report:{report_id}", handler)] >= 1
        )
        lost += not complete
    doubled = len(set(reports) - told_ids)
    doubled += sum(count - 1 for count in events.values() if count > 1)
    # The grid worker hears of a new report once (assigned); a resident's message may share the source.
    doubled += sum(count - 1 for (source, person), count in notified.items() if count > 1 and int(source.split(":")[1]) in reports
                   and person == reports[int(source.split(":")[1])])
    return len(reports), lost, doubled


# --- the residents (this process) -------------------------------------------------------------


WAIT_PROPOSAL, WAIT_OUTCOME, WAIT_LISTING, DONE = "proposal", "outcome", "listing", "done"


@dataclass
class Phase:
    name: str
    residents: int
    remaining: int
    offered_reports_per_s: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    first_enqueue: float = float("inf")
    last_answer: float = 0.0
    duplicate_offers: int = 0
    apologies: int = 0  # updates that failed in the bot ("sorry, something went wrong") and were sent again
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    cpu: dict[str, int] = field(default_factory=dict)

    @property
    def updates_per_s(self) -> float:
        span = self.last_answer - self.first_enqueue
        return len(self.latencies_ms) / span if span > 0 else 0.0

    def percentile(self, percent: float) -> float:
        return per_update.percentile(sorted(self.latencies_ms), percent)

    def line(self, bot: str) -> str:
        offered = f"{self.offered_reports_per_s:.1f} reports/s offered" if self.offered_reports_per_s else "all at once"
        cpu = " ".join(f"{name} {share}" for name, share in self.cpu.items())
        return (f"{bot:4} {self.name:>10}: {self.residents} residents, {offered}, {len(self.latencies_ms)} updates answered "
                f"({self.duplicate_offers} duplicate offers, {self.apologies} apologies), {self.updates_per_s:.1f} updates/s, p50 {self.percentile(50):.1f} ms, "
                f"p99 {self.percentile(99):.1f} ms; CPU % of a core: {cpu}"
                + (" (DISTURBED: something else ran meanwhile)" if self.cpu.get("other", 0) > per_update.DISTURBED_PCT else ""))


@dataclass
class Resident:
    user_id: int
    text: str = ""
    state: str = DONE
    phase: Phase | None = None
    last_sent: str = ""
    enqueued_at: float = 0.0  # the emulator's clock
    sent_at: float = 0.0  # this process's clock, for resending
    answered: bool = True


class Residents:
    """Every resident's side of the conversation: reads the bot's messages as they arrive in the
    emulator and answers them, one message after the answer to the previous one."""

    def __init__(self, http: aiohttp.ClientSession, url: str, user_ids: Sequence[int], texts: Sequence[str], *, echo: bool) -> None:
        self.http, self.url, self.echo = http, url, echo
        self.people = {user_id: Resident(user_id) for user_id in user_ids}
        self.order = list(user_ids)
        self.turn = 0
        self.texts, self.random = texts, random.Random(10)
        self.told: list[int] = []  # the ids of the reports residents were told are saved
        self.unexpected: Counter[str] = Counter()
        self.resent = 0  # messages sent again after --resend-after seconds of silence
        self.looked_up = 0  # residents who found their report in /myreports, its answer lost
        self.seen_index = 0
        self.outgoing: list[tuple[Resident, str]] = []

    def next_residents(self, count: int) -> list[Resident]:
        chosen = [self.people[self.order[(self.turn + i) % len(self.order)]] for i in range(count)]
        self.turn += count
        return chosen

    def begin(self, resident: Resident, phase: Phase) -> None:
        resident.text, resident.phase, resident.state = self.random.choice(self.texts), phase, WAIT_PROPOSAL
        self.say(resident, f"/report {resident.text}")

    def say(self, resident: Resident, text: str) -> None:
        resident.last_sent, resident.answered, resident.sent_at = text, False, time.monotonic()
        self.outgoing.append((resident, text))

    async def flush(self) -> None:
        if not self.outgoing:
            return
        batch, self.outgoing = self.outgoing, []
        async with self.http.post(f"{self.url}/bench/send", json={"messages": [[r.user_id, text] for r, text in batch]}) as response:
            response.raise_for_status()
            sent = (await response.json())["sent"]
        for (resident, _), (_, enqueued) in zip(batch, sent):
            resident.enqueued_at = enqueued
            if resident.phase is not None:
                resident.phase.first_enqueue = min(resident.phase.first_enqueue, enqueued)

    async def listening(self) -> asyncio.Task[None]:
        """Reading from now on (an earlier bot's messages left out), until the task is cancelled."""
        async with self.http.get(f"{self.url}/bench/seen", params={"after": 2**62, "wait": 0}) as response:
            self.seen_index = (await response.json())["count"]
        return asyncio.create_task(self.listen())

    async def listen(self) -> None:
        """The bot's messages to residents, in the order they reached the emulator."""
        while True:
            async with self.http.get(f"{self.url}/bench/seen", params={"after": self.seen_index, "wait": 1}) as response:
                seen = (await response.json())["seen"]
            self.seen_index += len(seen)
            for chat_id, at, text, labels in seen:
                self.read(self.people[chat_id], at, text, labels)
            await self.flush()

    def answered(self, resident: Resident, at: float) -> None:
        """The message the resident acts on: the answer to their last update."""
        phase = resident.phase
        assert phase is not None
        resident.answered = True
        phase.latencies_ms.append(1000 * (at - resident.enqueued_at))
        phase.last_answer = max(phase.last_answer, at)

    def finish(self, resident: Resident) -> None:
        resident.state = DONE
        assert resident.phase is not None
        resident.phase.remaining -= 1
        if resident.phase.remaining == 0:
            resident.phase.finished.set()

    def read(self, resident: Resident, at: float, text: str, labels: list[str]) -> None:
        if resident.state == DONE or resident.answered:
            return  # the outbox telling them "assigned", or a second answer to a resent message
        if self.echo:
            self.answered(resident, at)
            if resident.state == WAIT_PROPOSAL:
                resident.state = WAIT_OUTCOME
                self.say(resident, ECHO_SECOND_TEXT)
            else:
                self.finish(resident)
            return
        if NOT_NOW in text:  # the bot just started and has not loaded its routing model yet
            self.answered(resident, at)
            asyncio.get_running_loop().call_later(RETRY_S, self.say, resident, "/report")
            return
        if APOLOGY in text:  # an answer too, if a failure: timed as one, and counted
            self.answered(resident, at)
            assert resident.phase is not None
            resident.phase.apologies += 1
            asyncio.get_running_loop().call_later(RETRY_S, self.say, resident, resident.last_sent)
            return
        saved = SAVED.search(text)
        if resident.state == WAIT_PROPOSAL and labels:
            self.answered(resident, at)
            resident.state = WAIT_OUTCOME
            self.say(resident, labels[0])  # the first proposed category, typed as its name
        elif resident.state == WAIT_OUTCOME and saved and not labels:
            self.answered(resident, at)
            self.told.append(int(saved.group(1)))
            self.finish(resident)
        elif resident.state == WAIT_OUTCOME and NEW_REPORT in labels:  # the last message of the duplicate offer
            self.answered(resident, at)
            assert resident.phase is not None
            resident.phase.duplicate_offers += 1
            self.say(resident, NEW_REPORT)
        elif resident.state == WAIT_OUTCOME and any(gone in text for gone in STEP_GONE):
            self.answered(resident, at)
            resident.state = WAIT_LISTING
            self.say(resident, "/myreports")
        elif resident.state == WAIT_LISTING and NO_REPORTS in text:
            self.answered(resident, at)
            resident.state = WAIT_PROPOSAL
            self.say(resident, f"/report {resident.text}")
        elif resident.state == WAIT_LISTING and labels and (listed := set(map(int, REPORT_ID.findall(text))) - set(self.told)):
            self.answered(resident, at)  # the newest of their reports not told before is this attempt's
            self.looked_up += 1
            self.told.append(max(listed))
            self.finish(resident)
        elif STATUS_NEWS.search(text):
            pass
        elif resident.state == WAIT_OUTCOME and labels:
            pass  # the duplicate offer's similar reports, each with its +1 button
        elif resident.state == WAIT_OUTCOME and not labels and not REPORT_ID.search(text):
            pass  # the duplicate offer's first line ("已有邻居报告过类似的问题：")
        else:
            self.unexpected[text[:60]] += 1

    async def resend_unanswered(self, after_s: float) -> None:
        """Until cancelled: what a person does when the bot stays silent: sends the same again."""
        while True:
            await asyncio.sleep(1)
            now = time.monotonic()
            for resident in self.people.values():
                if resident.state != DONE and not resident.answered and now - resident.sent_at > after_s:
                    self.resent += 1
                    self.say(resident, resident.last_sent)
            await self.flush()


# --- phases and bots --------------------------------------------------------------------------


@dataclass
class Run:
    phases: list[Phase]
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    kill: dict[str, float] = field(default_factory=dict)


@dataclass
class Bench:
    args: argparse.Namespace
    folder: Path
    database: per_update.Database
    emulator_pid: int
    http: aiohttp.ClientSession
    url: str
    seeded: Seeded
    texts: list[str]

    async def offer(self, residents: Residents, phase: Phase, rate: float | None) -> None:
        """Start the phase's residents: evenly at `rate` a second, or all at once."""
        chosen = residents.next_residents(phase.residents)
        if rate is None:
            for resident in chosen:
                residents.begin(resident, phase)
            await residents.flush()
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, resident in enumerate(chosen):
            due = start + i / rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            residents.begin(resident, phase)
            await residents.flush()
        phase.offered_reports_per_s = (len(chosen) - 1) / (loop.time() - start) if len(chosen) > 1 else rate

    async def phase(self, residents: Residents, meter: per_update.CpuMeter, name: str, count: int, rate: float | None,
                    timeout: float, label: str) -> Phase:
        phase = Phase(name, count, count)
        before = await meter.snapshot()
        await self.offer(residents, phase, rate)
        try:
            await asyncio.wait_for(phase.finished.wait(), timeout)
        except TimeoutError:
            print(f"{label} {name}: {phase.remaining} residents unfinished after {timeout:.0f} s", flush=True)
        phase.cpu = await meter.shares(before)
        print(phase.line(label), flush=True)
        return phase

    async def start_bot(self, label: str, arguments: Sequence[str], environment: dict[str, str]) -> asyncio.subprocess.Process:
        return await per_update.start_process(arguments, self.folder / f"{label}.log", cwd=self.folder, env=environment,
                                              stdout=asyncio.subprocess.DEVNULL)

    async def run_bot(self, label: str, arguments: Sequence[str], environment: dict[str, str], *, echo: bool, rates: Sequence[float]) -> tuple[Run, Residents]:
        residents = Residents(self.http, self.url, self.seeded.residents, self.texts, echo=echo)
        listening = await residents.listening()
        process = await self.start_bot(label, arguments, environment)
        try:
            meter = per_update.CpuMeter({label: process.pid, "emulator": self.emulator_pid, "generator": os.getpid()}, self.database)
            warm = await self.phase(residents, meter, "warm-up", 5, None, per_update.READY_TIMEOUT_S, label)
            if warm.remaining:
                raise RuntimeError(f"{label} did not answer; its log ends:\n{(self.folder / f'{label}.log').read_text(errors='replace')[-3000:]}")
            await asyncio.sleep(2)  # the real bot loads its routing model in the background after start
            run = Run([], rss_start_mb=per_update.rss_mb(process.pid))
            for rate in rates:
                count = max(1, round(rate * self.args.seconds))
                run.phases.append(await self.phase(residents, meter, f"{rate:g}/s", count, rate, self.args.seconds + 120, label))
            run.phases.append(await self.phase(residents, meter, f"burst {self.args.burst}", self.args.burst, None, 600, label))
            run.rss_end_mb = per_update.rss_mb(process.pid)
            return run, residents
        finally:
            listening.cancel()
            await per_update.stop_process(process)

    async def run_with_kill(self, arguments: Sequence[str], environment: dict[str, str]) -> tuple[Run, Residents]:
        """The burst, with the bot SIGKILLed a third of the way through and started again."""
        residents = Residents(self.http, self.url, self.seeded.residents, self.texts, echo=False)
        listening = await residents.listening()
        resending = asyncio.create_task(residents.resend_unanswered(self.args.resend_after))
        process = await self.start_bot("bot", arguments, environment)
        run = Run([])
        try:
            meter = per_update.CpuMeter({"bot": process.pid, "emulator": self.emulator_pid, "generator": os.getpid()}, self.database)
            await self.phase(residents, meter, "warm-up", 5, None, per_update.READY_TIMEOUT_S, "bot")
            await asyncio.sleep(2)
            phase = Phase(f"burst {self.args.burst}", self.args.burst, self.args.burst)
            run.phases.append(phase)
            await self.offer(residents, phase, None)
            while phase.residents - phase.remaining < self.args.burst * KILL_AT_SHARE:
                await asyncio.sleep(0.05)
            process.kill()
            await process.wait()
            killed_at = time.monotonic()
            run.kill["told_saved_before_kill"] = len(residents.told) - 5
            print(f"bot SIGKILLed with {phase.remaining} of {phase.residents} residents unfinished", flush=True)
            process = await self.start_bot("bot-restarted", arguments, environment)
            await asyncio.wait_for(phase.finished.wait(), 900)
            run.kill["restart_to_last_answer_s"] = round(time.monotonic() - killed_at, 1)
            print(phase.line("bot"), flush=True)
            return run, residents
        finally:
            listening.cancel()
            resending.cancel()
            await per_update.stop_process(process)


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    texts = complaint_texts()
    with tempfile.TemporaryDirectory(prefix="gongjian-bench-reports-") as name:
        folder = Path(name)
        async with per_update.throwaway_database(folder, args.database_url) as database:
            started = time.monotonic()
            seeded = await seed(database.url, args.compounds, args.residents)
            print(f"seeded {args.compounds} compounds ({seeded.buildings} buildings, {seeded.households} households), "
                  f"{len(seeded.workers)} grid workers, {len(seeded.residents)} residents in {time.monotonic() - started:.1f} s; "
                  f"{len(texts)} complaint texts", flush=True)
            gc.freeze()  # as bench/updates.py: no full collection over the imported modules while generating load
            emulator = await per_update.start_process([sys.executable, str(SCRIPT), "--emulator"], folder / "emulator.log",
                                                      stdout=asyncio.subprocess.PIPE)
            try:
                assert emulator.stdout is not None
                where = json.loads(await asyncio.wait_for(emulator.stdout.readline(), per_update.READY_TIMEOUT_S))
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
                    async with http.post(f"{where['url']}/bench/chats", json={"residents": seeded.residents, "workers": seeded.workers}) as response:
                        response.raise_for_status()
                    bench = Bench(args, folder, database, emulator.pid, http, where["url"], seeded, texts)
                    environment = {key: value for key, value in os.environ.items() if not key.startswith("GONGJIAN_")}
                    bot_environment = environment | {
                        "GONGJIAN_BOT_TOKEN": where["token"], "GONGJIAN_TELEGRAM_API_URL": where["url"], "GONGJIAN_DATABASE_URL": database.url,
                        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                    }
                    bot_command = per_update.bot_command(args.profile)
                    echo_command = [sys.executable, str(per_update.SCRIPT), "--echo-bot", where["url"], where["token"]]
                    floor_command = [sys.executable, str(SCRIPT.parent / "report_floor.py"), where["url"], where["token"]]
                    floor_commands = {"floor": floor_command, "floor_routing": [*floor_command, "--routing"]}
                    echo: Run | None = None
                    rounds: list[tuple[Phase, Phase]] = []  # each round's bursts: the echo bot's, the real bot's
                    floors: dict[str, list[Phase]] = {label: [] for label in floor_commands}  # with --floor, each round's bursts of each floor
                    if args.kill:
                        real, residents = await bench.run_with_kill(bot_command, bot_environment)
                        all_residents = [residents]
                    else:
                        echo, _ = await bench.run_bot("echo", echo_command, environment, echo=True, rates=args.rates)
                        real, residents = await bench.run_bot("bot", bot_command, bot_environment, echo=False, rates=args.rates)
                        rounds.append((echo.phases[-1], real.phases[-1]))
                        all_residents = [residents]
                        for round_number in range(args.rounds):
                            if round_number:
                                echo_again, _ = await bench.run_bot("echo", echo_command, environment, echo=True, rates=())
                                real_again, residents_again = await bench.run_bot("bot", per_update.bot_command(None), bot_environment, echo=False, rates=())
                                rounds.append((echo_again.phases[-1], real_again.phases[-1]))
                                all_residents.append(residents_again)
                            for label, command in floor_commands.items() if args.floor else ():
                                floor, floor_residents = await bench.run_bot(label, command, bot_environment, echo=False, rates=())
                                floors[label].append(floor.phases[-1])
                                all_residents.append(floor_residents)
            finally:
                await per_update.stop_process(emulator)
            told = [report_id for each in all_residents for report_id in each.told]
            saved, lost, doubled = await audit_database(database.url, told, seeded.residents)
    burst = real.phases[-1]
    bot_phases = real.phases + [bot_burst for _, bot_burst in rounds[1:]]
    unexpected = sum((each.unexpected for each in all_residents), Counter())
    figures: dict[str, Any] = {
        "updates_per_s": round(per_update.median([bot_burst.updates_per_s for _, bot_burst in rounds] or [burst.updates_per_s]), 1),
        "p50_ms": None, "p99_ms": None,
        "echo_updates_per_s": None, "ratio": None,
        "reports_saved": saved,
        "told_saved": len(told),
        "lost": lost,
        "doubled": doubled,
        "database": database.kind,
        "unexpected_answers": sum(unexpected.values()),
        "duplicate_offers": sum(phase.duplicate_offers for phase in bot_phases),
        "apologies": sum(phase.apologies for phase in bot_phases),
        "residents": args.residents,
        "compounds": args.compounds,
        "buildings": seeded.buildings,
        "burst": args.burst,
        "bot_cpu_burst_pct": burst.cpu.get("bot"),
        "cores": os.cpu_count(),
    }
    if unexpected:
        print("unexpected answers:", dict(unexpected.most_common(5)), flush=True)
    if args.kill:
        figures |= {"kill": True, **real.kill, "resent": residents.resent, "looked_up_in_myreports": residents.looked_up}
        return figures
    assert echo is not None
    at_100 = next((phase for phase in real.phases if phase.name == "100/s"), None)
    echo_100 = next((phase for phase in echo.phases if phase.name == "100/s"), None)
    figures |= {
        "p50_ms": round(at_100.percentile(50), 1) if at_100 else None,
        "p99_ms": round(at_100.percentile(99), 1) if at_100 else None,
        "echo_updates_per_s": round(per_update.median([echo_burst.updates_per_s for echo_burst, _ in rounds]), 1),
        "ratio": round(per_update.median([bot_burst.updates_per_s / echo_burst.updates_per_s for echo_burst, bot_burst in rounds]), 3),
        "rounds": [[round(echo_burst.updates_per_s, 1), round(bot_burst.updates_per_s, 1)] for echo_burst, bot_burst in rounds],
        "echo_p50_ms": round(echo_100.percentile(50), 1) if echo_100 else None,
        "echo_p99_ms": round(echo_100.percentile(99), 1) if echo_100 else None,
        "by_rate": {phase.name: {"reports_per_s": round(phase.offered_reports_per_s or 0, 1), "updates_per_s": round(phase.updates_per_s, 1),
                                 "p50_ms": round(phase.percentile(50), 1), "p99_ms": round(phase.percentile(99), 1)} for phase in real.phases[:-1]},
        "rss_start_mb": round(real.rss_start_mb, 1), "rss_end_mb": round(real.rss_end_mb, 1),
        **{figure: value for label, bursts in floors.items() if bursts for figure, value in floor_figures(label, bursts, rounds).items()},
        "disturbed": [f"{label} {phase.name}" for label, run in (("echo", echo), ("bot", real)) for phase in run.phases
                      if phase.cpu.get("other", 0) > per_update.DISTURBED_PCT],
    }
    return figures


def floor_figures(label: str, bursts: Sequence[Phase], rounds: Sequence[tuple[Phase, Phase]]) -> dict[str, Any]:
    """A floor's saturation and ratio to the echo bot: medians of its rounds', as the real bot's."""
    return {
        f"{label}_updates_per_s": round(per_update.median([floor.updates_per_s for floor in bursts]), 1),
        f"{label}_ratio": round(per_update.median([floor.updates_per_s / echo_burst.updates_per_s for floor, (echo_burst, _) in zip(bursts, rounds)]), 3),
        f"{label}_rounds": [round(floor.updates_per_s, 1) for floor in bursts],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--residents", type=int, default=2000, help="joined residents, spread over the compounds' households")
    parser.add_argument("--compounds", type=int, default=100, help="compounds of the generated city (about 8.5 buildings, 105 households each)")
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://user@host:port/db to connect to): "
                                               "a throw-away database is made there; default a throw-away SQLite file")
    parser.add_argument("--rates", type=lambda text: [float(r) for r in text.split(",") if r], default=[25.0, 50.0, 100.0],
                        help="new reports offered per second, comma-separated (each report is two or three updates)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each rate is offered")
    parser.add_argument("--burst", type=int, help="residents who start a report at once to measure saturation (default: all)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of a burst for each bot in turn; saturation and the ratio are their medians")
    parser.add_argument("--floor", action="store_true", help="each round, bench/report_floor.py's burst too: the least a bot does for the same residents on the same stack")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the bot in the middle of the burst, restart it, check nothing is lost")
    parser.add_argument("--resend-after", type=float, default=60.0, help="with --kill: seconds a resident waits for an answer before sending again")
    parser.add_argument("--profile", metavar="FILE", help="run the real bot under cProfile and write its statistics to FILE (figures then count the profiler too)")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(per_update.serve_emulator(WatchingEmulator()))
        return
    args.burst = min(args.burst or args.residents, args.residents)
    if args.database_url and not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url must be a postgresql+asyncpg:// URL")
    print(json.dumps(asyncio.run(benchmark(args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
