"""A burst of votes: 10,000 residents press a vote's button at once, through the Bot API emulator.

    python bench/votes.py [--residents 10000] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Three processes on 127.0.0.1, as in bench/updates.py (whose pieces this reuses): this one seeds
the database and generates the load; the project's Bot API emulator serves both sides; the real
bot polls it, started as an operator starts it (`python -m bot.cli run`). The database holds one
compound of --residents / 2 households with two verified members each (so that every household's
two members press at the same moment: the race the unique (vote, household) constraint settles),
and an open decision vote over the compound. Each resident's chat holds the vote's ballot as the
bot sends it (its buttons' payloads are those of /vote); then every resident presses a choice:
all enqueued at once, or offered at --rate presses a second (a household's two members always
at the same moment). Latency runs from a press's enqueueing to the bot's answer to it
(answerCallbackQuery, sent once the vote is committed).

Afterwards the database is read: `lost` counts presses never answered plus households whose
members pressed but that have no ballot; `double_counted` counts ballots beyond one per household
plus choices beyond one per ballot. The last line is JSON: votes, votes_per_s, p50_ms, p99_ms,
lost, double_counted, households, bot_cpu_ms_per_vote (the bot's
CPU time over the burst per vote, which does not depend on what else the machine runs), database.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(SCRIPT.parent))
sys.path.insert(0, str(ROOT))

from updates import READY_TIMEOUT_S, cpu_seconds, percentile, serve_emulator, start_process, stop_process, throwaway_database  # noqa: E402

from bot.emulator.server import BotApiEmulator  # noqa: E402

FIRST_RESIDENT_ID = 200_000
MEMBERS_PER_HOUSEHOLD = 2
ROOMS_PER_UNIT = 50
UNITS_PER_BUILDING = 2


# --- the emulator's process -------------------------------------------------------------------


class VoteEmulator(BotApiEmulator):
    """The emulator plus what this benchmark needs: ballots placed in the residents' chats, a
    burst of presses enqueued at once, and when each press was enqueued and answered."""

    def __init__(self) -> None:
        super().__init__()
        self.enqueued_at: dict[str, float] = {}
        self.answered_at: dict[str, float] = {}
        self.app.router.add_post("/bench/ballots", self._ballots)
        self.app.router.add_post("/bench/press", self._press)
        self.app.router.add_post("/bench/timings", self._timings)

    async def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        answered = await super().api_answercallbackquery(params)
        self.answered_at.setdefault(str(params.get("callback_query_id")), time.monotonic())
        return answered

    async def _ballots(self, request: web.Request) -> web.Response:
        """Each resident's chat gets the ballot (text and buttons) the bot would send there."""
        body = await request.json()
        message_ids = {}
        for user_id, buttons in body["ballots"]:
            self.open_chat(user_id, f"住户{user_id}")
            keyboard = {"inline_keyboard": [[{"text": label, "callback_data": data} for label, data in buttons]]}
            message = await self.api_sendmessage({"chat_id": user_id, "text": body["text"], "reply_markup": keyboard})
            message_ids[user_id] = message["message_id"]
        return web.json_response({"message_ids": message_ids})

    async def _press(self, request: web.Request) -> web.Response:
        body = await request.json()
        query_ids = []
        for user_id, message_id, data in body["presses"]:
            enqueued = time.monotonic()
            _, query_id = await self.user_press(user_id, {"message_id": message_id, "data": data, "first_name": f"住户{user_id}"})
            self.enqueued_at[query_id] = enqueued
            query_ids.append(query_id)
        return web.json_response({"query_ids": query_ids})

    async def _timings(self, request: web.Request) -> web.Response:
        body = await request.json()
        ids = [str(i) for i in body["ids"]]
        deadline = time.monotonic() + float(body.get("wait", 0))
        while not all(i in self.answered_at for i in ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return web.json_response({"enqueued": [self.enqueued_at.get(i) for i in ids], "answered": [self.answered_at.get(i) for i in ids]})



# --- seeding and reading back -------------------------------------------------------------------


async def seed(database_url: str, residents: list[int]) -> tuple[int, dict[int, int], dict[str, int]]:
    """The compound, its members and the open vote: (vote id, household of each resident, option ids by choice)."""
    from sqlalchemy import insert, select

    from bot.services import audit, places, votes
    from bot.services.households_import import HouseholdRow
    from storage import migrate
    from storage.db import create_engine, create_sessionmaker
    from storage.models import ChannelIdentity, Household, Membership, Person, Place, PlaceKind, VoteKind, utcnow

    households = len(residents) // MEMBERS_PER_HOUSEHOLD
    rows = [
        HouseholdRow("冷水滩区", "梅湾街道", "通化街社区", "投票小区", f"{n // (ROOMS_PER_UNIT * UNITS_PER_BUILDING) + 1}栋",
                     f"{n // ROOMS_PER_UNIT % UNITS_PER_BUILDING + 1}单元", n % ROOMS_PER_UNIT // 2 + 1, f"{n % ROOMS_PER_UNIT + 101}", Decimal("45.00") + n % 90)
        for n in range(households)
    ]
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with create_sessionmaker(engine).begin() as session:
            await places.import_households(session, rows, actor=audit.COMMAND_LINE)
            homes = list(await session.scalars(select(Household.id).order_by(Household.id)))
            now = utcnow()
            people = list(await session.scalars(insert(Person).returning(Person.id), [{"display_name": f"住户{u}", "created_at": now} for u in residents]))
            await session.execute(insert(ChannelIdentity), [{"person_id": p, "channel": "telegram", "external_id": str(u), "created_at": now} for p, u in zip(people, residents)])
            home_of = {u: homes[i // MEMBERS_PER_HOUSEHOLD] for i, u in enumerate(residents)}
            await session.execute(
                insert(Membership),
                [{"person_id": p, "household_id": home_of[u], "verified": True, "represents": False, "created_at": now} for p, u in zip(people, residents)],
            )
            compound = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.compound))
            spec = votes.VoteSpec(VoteKind.decision, "加装电梯", compound or 0, now - timedelta(minutes=1), now + timedelta(days=7))
            vote = await votes.create(session, audit.COMMAND_LINE, spec)
            vote.opened_at = now  # announced already: the burst measures voting, not the announcement's delivery
            options = {str(o.choice): o.id for o in await votes.options_of(session, vote.id)}
        return vote.id, home_of, options
    finally:
        await engine.dispose()


async def read_back(database_url: str, vote_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import Ballot, BallotChoice

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            ballots = await connection.scalar(select(func.count()).select_from(Ballot).where(Ballot.vote_id == vote_id))
            households = await connection.scalar(select(func.count(func.distinct(Ballot.household_id))).where(Ballot.vote_id == vote_id))
            choices = await connection.scalar(select(func.count()).select_from(BallotChoice).join(Ballot, Ballot.id == BallotChoice.ballot_id).where(Ballot.vote_id == vote_id))
    finally:
        await engine.dispose()
    return {"ballots": ballots or 0, "households": households or 0, "choices": choices or 0}


# --- the benchmark ------------------------------------------------------------------------------


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    from bot.conversations.payloads import VoteCast

    residents = list(range(FIRST_RESIDENT_ID, FIRST_RESIDENT_ID + args.residents))
    with tempfile.TemporaryDirectory(prefix="gongjian-bench-votes-") as name:
        folder = Path(name)
        async with throwaway_database(folder, args.database_url) as database:
            started = time.monotonic()
            vote_id, home_of, options = await seed(database.url, residents)
            print(f"seeded {len(residents):,} residents in {len(set(home_of.values())):,} households in {time.monotonic() - started:.1f} s", flush=True)
            gc.freeze()
            emulator = await start_process([sys.executable, str(SCRIPT), "--emulator"], folder / "emulator.log", stdout=asyncio.subprocess.PIPE)
            bot = None
            try:
                assert emulator.stdout is not None
                where = json.loads(await asyncio.wait_for(emulator.stdout.readline(), READY_TIMEOUT_S))
                async with aiohttp.ClientSession() as http:
                    labels = (("同意", "agree"), ("不同意", "disagree"), ("弃权", "abstain"))
                    ballots = [[u, [[label, VoteCast(vote_id, home_of[u], options[choice]).pack()] for label, choice in labels]] for u in residents]
                    async with http.post(f"{where['url']}/bench/ballots", json={"text": "投票：加装电梯", "ballots": ballots}) as response:
                        message_ids = {int(k): v for k, v in (await response.json())["message_ids"].items()}
                    environment = {key: value for key, value in os.environ.items() if not key.startswith("GONGJIAN_")}
                    environment |= {"GONGJIAN_BOT_TOKEN": where["token"], "GONGJIAN_TELEGRAM_API_URL": where["url"], "GONGJIAN_DATABASE_URL": database.url,
                                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
                    bot = await start_process([sys.executable, "-m", "bot.cli", "run"], folder / "bot.log", cwd=folder, env=environment, stdout=asyncio.subprocess.DEVNULL)
                    await wait_ready(http, where["url"], residents[0], message_ids[residents[0]], ballots[0][1][0][1], folder / "bot.log")
                    await asyncio.sleep(2)  # the bot loads its routing model in the background after start
                    # Every household's two members press at once (adjacent in the burst); choices spread 6:1:1.
                    cpu_before = cpu_seconds(bot.pid)
                    presses = [[u, message_ids[u], ballots[i][1][0 if i % 8 < 6 else 1 + i % 2][1]] for i, u in enumerate(residents)]
                    query_ids = await offer(http, where["url"], presses, args.rate)
                    timeout = aiohttp.ClientTimeout(total=args.drain_timeout + 30)
                    body = {"ids": query_ids, "wait": args.drain_timeout}
                    async with http.post(f"{where['url']}/bench/timings", json=body, timeout=timeout) as response:
                        timings = await response.json()
                    bot_cpu_s = cpu_seconds(bot.pid) - cpu_before
            finally:
                if bot is not None:
                    await stop_process(bot)
                await stop_process(emulator)
            stored = await read_back(database.url, vote_id)
            if args.keep_log:
                args.keep_log.write_bytes((folder / "bot.log").read_bytes())
    enqueued, answered = timings["enqueued"], timings["answered"]
    done = [(e, a) for e, a in zip(enqueued, answered) if a is not None]
    latencies = sorted(1000 * (a - e) for e, a in done)
    pressing_households = len(set(home_of.values()))
    span = max(a for _, a in done) - min(enqueued) if done else float("nan")
    return {
        "votes": len(residents),
        "votes_per_s": round(len(done) / span, 1) if done else 0.0,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "lost": (len(residents) - len(done)) + (pressing_households - stored["households"]),
        "double_counted": (stored["ballots"] - stored["households"]) + (stored["choices"] - stored["ballots"]),
        "households": pressing_households,
        # The bot's own CPU per vote: what one uncontended core would allow, whatever else ran.
        "bot_cpu_ms_per_vote": round(1000 * bot_cpu_s / len(residents), 2),
        "database": database.kind,
        "rate": args.rate,
        "cores": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 1),
    }


async def offer(http: aiohttp.ClientSession, url: str, presses: list[list[Any]], rate: float) -> list[str]:
    """All presses at once (rate 0), or evenly at `rate` a second in small batches; a household's
    two members are adjacent, so they always press in the same batch, at the same moment."""
    if rate <= 0:
        batches = [presses]
    else:
        size = max(MEMBERS_PER_HOUSEHOLD, MEMBERS_PER_HOUSEHOLD * round(rate / 100 / MEMBERS_PER_HOUSEHOLD))
        batches = [presses[i : i + size] for i in range(0, len(presses), size)]
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent: list[asyncio.Task[list[str]]] = []
    done = 0
    for batch in batches:
        due = start + done / rate if rate > 0 else start
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        sent.append(asyncio.create_task(_press(http, url, batch)))
        done += len(batch)
    return [query_id for ids in await asyncio.gather(*sent) for query_id in ids]


async def _press(http: aiohttp.ClientSession, url: str, presses: list[list[Any]]) -> list[str]:
    async with http.post(f"{url}/bench/press", json={"presses": presses}) as response:
        return list((await response.json())["query_ids"])


async def wait_ready(http: aiohttp.ClientSession, url: str, user_id: int, message_id: int, data: str, log: Path) -> None:
    """One press answered: the bot has started and polls (that resident's vote is then cast again in the burst)."""
    async with http.post(f"{url}/bench/press", json={"presses": [[user_id, message_id, data]]}) as response:
        [query_id] = (await response.json())["query_ids"]
    async with http.post(f"{url}/bench/timings", json={"ids": [query_id], "wait": READY_TIMEOUT_S}) as response:
        if (await response.json())["answered"][0] is None:
            raise RuntimeError("the bot did not answer within the start timeout; its log ends:\n" + log.read_text(errors="replace")[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+asyncpg://...): a throw-away database is made there; default a throw-away SQLite file")
    parser.add_argument("--rate", type=float, default=0.0, help="presses offered per second; 0 (default): all enqueued at once")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for every press to be answered")
    parser.add_argument("--keep-log", type=Path, help="copy the bot's log here")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulator:
        asyncio.run(serve_emulator(VoteEmulator()))
        return
    print(json.dumps(asyncio.run(benchmark(args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
