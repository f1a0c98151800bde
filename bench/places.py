"""The two questions every feature asks of places, at a city's scale.

    python bench/places.py [--database-url URL]

Imports the generated city of bench/import_households.py (121,016 households) into a fresh
SQLite file (or an empty database named by --database-url), then times, each over many
places: "how many households lie within this compound / community / district" (one indexed
query: `places.within`), and "may this grid worker act at this household" (the permission
check: one row and one indexed lookup). It prints the query plans, so the indexes in use can be
seen, and as its last line one JSON object with the median milliseconds of each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from import_households import city_rows  # noqa: E402

from bot.services import access, audit, people, places  # noqa: E402
from bot.services.households_import import HouseholdRow  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.models import Household, Place, PlaceKind, Role  # noqa: E402

SAMPLES = 200


async def timed(work, samples: list[float]) -> object:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = await work
    samples.append((time.perf_counter() - started) * 1000)
    return result


async def benchmark(database_url: str) -> dict[str, object]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    sessions = create_sessionmaker(engine)
    rows = [HouseholdRow(*row[:6], int(row[6]), row[7], Decimal(row[8])) for row in city_rows()]
    async with sessions.begin() as session:
        await places.import_households(session, rows, actor=audit.COMMAND_LINE)
    figures: dict[str, object] = {"households": len(rows), "database": engine.dialect.name}
    async with sessions.begin() as session:
        for kind in (PlaceKind.compound, PlaceKind.community, PlaceKind.district):
            chosen = list(await session.scalars(select(Place).where(Place.kind == kind).order_by(Place.id).limit(SAMPLES)))
            samples: list[float] = []
            total = 0
            for place in chosen:
                total += await timed(session.scalar(select(func.count()).select_from(Household).where(places.within(place))), samples)  # type: ignore[operator]
            assert total > 0
            figures[f"within_{kind.value}_ms"] = round(statistics.median(samples), 3)
            print(f"households within a {kind.value}: median {statistics.median(samples):.3f} ms over {len(chosen)}", file=sys.stderr)
        community = await session.scalar(select(Place).where(Place.kind == PlaceKind.community).limit(1))
        assert community is not None
        worker = await people.get_or_create_person(session, "bench", "grid")
        await access.add_grant(session, worker.id, Role.grid_worker, community, actor=audit.COMMAND_LINE)
        actor = audit.Actor("bench", worker.id)
        households = list(await session.scalars(select(Household).order_by(func.random() if engine.dialect.name == "sqlite" else text("random()")).limit(SAMPLES)))
        samples = []
        allowed = 0
        for household in households:
            allowed += bool(await timed(access.is_allowed(session, actor, access.Permission.print_invites, household), samples))
        figures["permission_check_ms"] = round(statistics.median(samples), 3)
        print(f"permission check: median {statistics.median(samples):.3f} ms ({allowed} of {len(households)} allowed)", file=sys.stderr)
        compound = await session.scalar(select(Place).where(Place.kind == PlaceKind.compound).limit(1))
        assert compound is not None
        statement = select(func.count()).select_from(Household).where(places.within(compound))
        compiled = statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        plan = [" ".join(str(c) for c in row) for row in await session.execute(text(explain + str(compiled)))]
        print("plan of 'households within a compound':\n  " + "\n  ".join(plan), file=sys.stderr)
        figures["within_uses_index"] = any("ix_households_compound_id" in line for line in plan)
    await engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'city.db'}"
        print(json.dumps(asyncio.run(benchmark(url))))


if __name__ == "__main__":
    main()
