"""Sharing a residents' part exactly, at the scale of a city's yearly plan.

    python bench/cost_shares.py [--households N] [--repeat R]

Splits one amount over N households (default 22,978: Yongzhou's 2020 renovation plan) on
floors 1 to 9 with the default coefficients, R times, and checks that the shares add up to the
fen. The split is pure Python with exact fractions, so this is its whole cost; the bot adds one
query for the households and one insert. Prints, as its last line, one JSON object with the
median milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.cost_shares import HouseholdBasis, split  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=22_978)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(13)
    households = [HouseholdBasis(n, rng.randint(1, 9), Decimal(rng.randint(4000, 12000)) / 100) for n in range(args.households)]
    total, subsidy = Decimal("98765432.10"), Decimal("12345678.91")
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = split(households, total=total, subsidy=subsidy)
        timings.append((time.perf_counter() - started) * 1000)
        assert sum(s.amount for s in result.shares) == total - subsidy
    print(json.dumps({"households": args.households, "median_ms": round(statistics.median(timings), 1), "exact": True}))


if __name__ == "__main__":
    main()
