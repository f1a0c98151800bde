"""What the bot keeps per update: bursts of /me from joined residents, a tracemalloc snapshot
after each, and the allocation sites that grew from one burst to the next.

    python bench/memory_growth.py [--residents 500] [--bursts 6]

In one process, the real bot (bot.demo.offline_bot: the assembled application polling the Bot
API emulator, one update at a time) on a throw-away SQLite file. The emulator keeps every
message by design; what its own code allocates is left out, but sites in libraries it shares
with the bot (aiohttp's server side, yarl) still show: read them with a deeper traceback
(`tracemalloc.start(12)`) before blaming the bot. A cache with a bound stops growing once full;
a site that grows by the same amount every burst keeps something per update. The last line is
JSON: the sites that grew in every burst, with bytes kept per update.
"""

from __future__ import annotations

import argparse
import asyncio
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


def site(statistic: tracemalloc.StatisticDiff) -> str:
    frame = statistic.traceback[0]
    return f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"


async def measure(residents: int, bursts: int) -> dict[str, float]:
    user_ids = list(range(FIRST_RESIDENT_ID, FIRST_RESIDENT_ID + residents))
    with tempfile.TemporaryDirectory(prefix="gongjian-memory-") as folder:
        async with offline_bot(f"sqlite+aiosqlite:///{folder}/bot.db") as bot:
            await join_residents(bot, user_ids)
            await burst(bot, user_ids)  # link codes issued, statements cached, models built
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
    return {name: round(sum(sizes) / len(sizes) / residents, 1) for name, sizes in sorted(every_burst.items(), key=lambda item: -sum(item[1]))[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--residents", type=int, default=500, help="joined residents; a burst is one /me from each")
    parser.add_argument("--bursts", type=int, default=6)
    args = parser.parse_args()
    print(json.dumps({"bytes_per_update_by_site": asyncio.run(measure(args.residents, args.bursts))}))


if __name__ == "__main__":
    main()
