"""Questions to grid workers: how long the FAQ match takes, and how fast workers drain a queue.

    python bench/questions.py [--database-url URL] [--questions N] [--workers K]

1. The match: a community's full candidate set (300 FAQ entries and 300 answered questions, the
   bounds of bot/services/questions.py), made of generated resident questions; the median and
   p99 milliseconds of `similarity.closest` for 200 new questions.
2. The queue: N waiting questions in one grid, K grid workers each on its own connection (as
   separate bot processes) taking the next until none is left; claims a second, and whether any
   question was given twice (must be 0) or left (must be 0).
Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.demo import sample_households  # noqa: E402
from bot.services import access, audit, people, places, questions  # noqa: E402
from bot.services.similarity import Candidate, closest  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.models import Household, Place, PlaceKind, Role  # noqa: E402

TOPICS = ["加装电梯", "楼道灯", "水管漏水", "停车位", "垃圾分类", "外墙脱落", "下水道堵塞", "快递柜", "充电桩", "绿化", "路灯", "门禁", "监控", "屋顶漏水", "燃气管道"]
ASKING = ["{t}什么时候弄？", "{t}要交多少钱？", "{t}找谁办？", "我家楼下的{t}坏了怎么办", "{t}能不能快点处理", "请问{t}归谁管", "{t}的事情有进展吗"]


def generated_question(rng: random.Random) -> str:
    return rng.choice(ASKING).format(t=rng.choice(TOPICS))


def bench_match(rng: random.Random) -> dict[str, float]:
    candidates = [Candidate("faq" if i < 300 else "answer", i, generated_question(rng), "答复") for i in range(600)]
    closest("预热", candidates)  # the dictionary is built once per process
    timings = []
    for _ in range(200):
        query = generated_question(rng)
        started = time.perf_counter()
        closest(query, candidates)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"match_median_ms": round(statistics.median(timings), 2), "match_p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2)}


async def bench_queue(database_url: str, count: int, workers: int) -> dict[str, float]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        await places.import_households(session, sample_households(), actor=audit.COMMAND_LINE)
        community = await session.scalar(select(Place).where(Place.kind == PlaceKind.community))
        assert community is not None
        actors = []
        for number in range(workers):
            worker = await people.get_or_create_person(session, people.TELEGRAM, str(900_000 + number), f"网格员{number}")
            await access.grant_role(session, worker.id, Role.grid_worker, access.Scope(PlaceKind.community, community.id), actor=audit.COMMAND_LINE)
            actors.append(audit.Actor(people.TELEGRAM, worker.id))
        household_ids = list(await session.scalars(select(Household.id)))
        for number in range(count):  # one open question per person: a person per question
            resident = await people.get_or_create_person(session, people.TELEGRAM, str(100_000 + number), f"居民{number}")
            await people.join_household(session, resident.id, household_ids[number % len(household_ids)], verified=False)
            await questions.ask(session, resident.id, f"问题 {number}")
    await engine.dispose()

    engines = [create_engine(database_url) for _ in actors]

    async def drain(actor: audit.Actor, own_engine) -> list[int]:  # type: ignore[no-untyped-def]
        own = create_sessionmaker(own_engine)
        taken = []
        while True:
            async with own.begin() as session:
                question = await questions.take_next(session, actor)
            if question is None:
                return taken
            taken.append(question.id)

    started = time.perf_counter()
    results = await asyncio.gather(*(drain(actor, own_engine) for actor, own_engine in zip(actors, engines)))
    elapsed = time.perf_counter() - started
    for own_engine in engines:
        await own_engine.dispose()
    every = [question_id for taken in results for question_id in taken]
    return {
        "claims_per_second": round(len(every) / elapsed, 1),
        "given_twice": len(every) - len(set(every)),
        "left_waiting": count - len(set(every)),
        "per_worker_min": min(len(taken) for taken in results),
        "per_worker_max": max(len(taken) for taken in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    options = parser.parse_args()
    rng = random.Random(12)
    figures: dict[str, object] = bench_match(rng)
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        figures |= asyncio.run(bench_queue(url, options.questions, options.workers))
        figures |= {"database": url.split(":", 1)[0], "questions": options.questions, "workers": options.workers}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
