"""What the bot keeps per update: bursts of /me from joined residents, and between bursts
(1) the containers that grew in length, with who holds them, and (2) the allocation sites
(tracemalloc) that grew.

    python bench/memory_growth.py [--residents 500] [--bursts 6]

In one process, the real bot (bot.demo.offline_bot: the assembled application polling the Bot
API emulator, one update at a time) on a throw-away SQLite file. The start-up heap is not frozen
here (gc.freeze is switched off), so that the collector can list every container, those made
at start included. The emulator keeps a log of every call and update by design; it shows up
in both lists (tracemalloc attributes some of what it keeps to the bot's lines that made the
call). A cache with a bound stops growing once full; a container that gains an entry per
update, held by the bot, is a leak. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.updates import FIRST_RESIDENT_ID, resident_name  # noqa: E402
from bot.demo import OfflineBot, offline_bot  # noqa: E402
from bot.services import people, places  # noqa: E402
from storage.models import PlaceKind  # noqa: E402

EMULATOR = "*/bot/emulator/*"
CONTAINERS = (list, dict, set, collections.deque)


async def join_residents(bot: OfflineBot, user_ids: list[int]) -> None:
    async with bot.sessionmaker.begin() as session:
        households = [node.id for node in await places.list_places(session) if node.kind is PlaceKind.household]
        for number, user_id in enumerate(user_ids):
            person = await people.get_or_create_person(session, people.TELEGRAM, str(user_id), resident_name(user_id))
            await people.join_household(session, person.id, households[number % len(households)], verified=True)


def answers(bot: OfflineBot) -> int:
    return sum(1 for messages in bot.emulator.messages.values() for message in messages if not message.get("from_user"))


async def burst(bot: OfflineBot, user_ids: list[int]) -> None:
    """Every resident sends /me; returns once every one is answered."""
    expected = answers(bot) + len(user_ids)
    for user_id in user_ids:
        await bot.emulator.user_message(user_id, {"text": "/me", "first_name": resident_name(user_id)})
    while answers(bot) < expected:
        await asyncio.sleep(0.05)


def container_lengths() -> dict[int, tuple[int, object]]:
    gc.collect()
    return {id(o): (len(o), o) for o in gc.get_objects() if isinstance(o, CONTAINERS)}


def holder(container: object) -> str:
    """Who holds a container: the types of the objects that refer to it, tuples and frames aside."""
    names = {type(r).__module__ + "." + type(r).__qualname__ for r in gc.get_referrers(container)}
    return ", ".join(sorted(n for n in names if n not in ("builtins.tuple", "builtins.frame", "builtins.list"))) or "?"


def site(statistic: tracemalloc.StatisticDiff) -> str:
    frame = statistic.traceback[0]
    return f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"


async def measure(residents: int, bursts: int) -> dict[str, object]:
    user_ids = list(range(FIRST_RESIDENT_ID, FIRST_RESIDENT_ID + residents))
    with tempfile.TemporaryDirectory(prefix="gongjian-memory-") as folder:
        async with offline_bot(f"sqlite+aiosqlite:///{folder}/bot.db") as bot:
            await join_residents(bot, user_ids)
            await burst(bot, user_ids)  # link codes issued, statements cached, models built
            before = container_lengths()
            await burst(bot, user_ids)
            after = container_lengths()
            grew = sorted(((after[k][0] - before[k][0], k) for k in after if k in before and after[k][0] > before[k][0]), reverse=True)
            containers = [f"{type(after[k][1]).__name__} +{delta} held by {holder(after[k][1])}" for delta, k in grew[:8] if delta >= residents // 2]
            for line in containers:
                print("container", line, flush=True)
            del before, after, grew
            tracemalloc.start(1)
            growth: dict[str, list[int]] = {}
            previous = None
            for number in range(1, bursts + 1):
                await burst(bot, user_ids)
                gc.collect()
                snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, EMULATOR), tracemalloc.Filter(False, tracemalloc.__file__)])
                if previous is not None:
                    grown = [s for s in snapshot.compare_to(previous, "lineno") if s.size_diff > 0]
                    for statistic in grown:
                        growth.setdefault(site(statistic), []).append(statistic.size_diff)
                    print(f"burst {number}: " + ", ".join(f"{site(s)} +{s.size_diff / 1000:.0f} kB" for s in grown[:4]), flush=True)
                previous = snapshot
    every_burst = {name: sizes for name, sizes in growth.items() if len(sizes) == bursts - 1}
    by_site = {name: round(sum(sizes) / len(sizes) / residents, 1) for name, sizes in sorted(every_burst.items(), key=lambda item: -sum(item[1]))[:5]}
    return {"containers_growing_per_update": containers, "bytes_per_update_by_site": by_site}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--residents", type=int, default=500, help="joined residents; a burst is one /me from each")
    parser.add_argument("--bursts", type=int, default=6)
    args = parser.parse_args()
    gc.freeze = lambda: None  # see above: every container stays listable
    print(json.dumps(asyncio.run(measure(args.residents, args.bursts)), ensure_ascii=False))


if __name__ == "__main__":
    main()
