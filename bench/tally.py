"""The tally of one vote over a city's 121,016 households with 80 % turnout, as the bot stores it.

    python bench/tally.py [--database-url URL] [--turnout 0.8] [--runs 5]

The generated city of bench/import_households.py is imported as one compound (a vote's scope is
a compound, a building or a unit; this makes every household of the city one vote's), into a
fresh SQLite file or the empty database --database-url names. A decision vote is saved through
the votes service and 80 % of the households get a ballot with one choice, written in bulk as
`votes.cast` writes them (ballots, ballot_choices). The seeding runs in a process of its own, so
that this process's peak memory is the tally's. On PostgreSQL the seeding ends with ANALYZE, as autovacuum would
after such a bulk load. The tally is `votes.result`: turnout and the
per-option households and area, summed in SQL (GROUP BY), then the verdict under the Civil
Code in exact fractions; it runs --runs times, and the median is reported. The last line is
JSON: households, ballots, tally_s (median), tally_first_s, peak_rss_mb, passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from import_households import city_rows  # noqa: E402

from bot.services import audit, places, votes  # noqa: E402
from bot.services.households_import import HouseholdRow  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.models import Ballot, BallotChannel, BallotChoice, Household, Place, PlaceKind, Vote, VoteKind, utcnow  # noqa: E402

CITY = ("冷水滩区", "梅湾街道", "通化街社区", "全市")  # the whole city as one compound
CHUNK = 10_000


def city_as_one_compound() -> list[HouseholdRow]:
    return [HouseholdRow(*CITY, f"{compound}{building}", unit, int(floor), room, Decimal(area)) for _, _, _, compound, building, unit, floor, room, area in city_rows()]


async def seed(database_url: str, turnout: float) -> None:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    sessions = create_sessionmaker(engine)
    started = time.perf_counter()
    async with sessions.begin() as session:
        await places.import_households(session, city_as_one_compound(), actor=audit.COMMAND_LINE)
    async with sessions.begin() as session:
        compound = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.compound))
        now = utcnow()
        vote = await votes.create(session, audit.COMMAND_LINE, votes.VoteSpec(VoteKind.decision, "全市加装电梯", compound or 0, now, now + timedelta(days=7)))
        options = [o.id for o in await votes.options_of(session, vote.id)]
        households = list(await session.scalars(select(Household.id).order_by(Household.id)))
        # Every fifth household stays away (80 %); of the others, 3 in 4 agree, then disagree, abstain.
        voting = [h for index, h in enumerate(households) if index % 100 < turnout * 100]
        for start in range(0, len(voting), CHUNK):
            chunk = voting[start : start + CHUNK]
            ids = list(
                await session.scalars(
                    insert(Ballot).returning(Ballot.id),
                    [{"vote_id": vote.id, "household_id": h, "channel": BallotChannel.online, "cast_at": now} for h in chunk],
                )
            )
            await session.execute(insert(BallotChoice), [{"ballot_id": b, "option_id": options[0 if i % 8 < 6 else 1 + i % 2]} for i, b in enumerate(ids)])
    if engine.dialect.name == "postgresql":
        # What autovacuum does within a minute of such a bulk load; without statistics the
        # planner takes the new tables for empty and joins them row by row.
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
    print(f"seeded {len(households):,} households, {len(voting):,} ballots in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    await engine.dispose()


def seed_in_process(database_url: str, turnout: float) -> None:
    asyncio.run(seed(database_url, turnout))


async def tally(database_url: str, runs: int) -> dict[str, object]:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    seconds: list[float] = []
    async with sessions() as session:
        vote = await session.scalar(select(Vote))
        assert vote is not None
        for _ in range(runs):
            started = time.perf_counter()
            result = await votes.result(session, vote)
            seconds.append(time.perf_counter() - started)
    await engine.dispose()
    assert result.decision is not None
    return {
        "database": engine.dialect.name,
        "households": result.turnout.eligible.households,
        "ballots": result.turnout.voted.households,
        "tally_s": round(statistics.median(seconds), 3),
        "tally_first_s": round(seconds[0], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "passed": result.decision.passed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--turnout", type=float, default=0.8)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'tally.db'}"
        seeding = multiprocessing.get_context("spawn").Process(target=seed_in_process, args=(url, args.turnout))
        seeding.start()
        seeding.join()
        if seeding.exitcode != 0:
            sys.exit("seeding failed")
        print(json.dumps(asyncio.run(tally(url, args.runs))))


if __name__ == "__main__":
    main()
