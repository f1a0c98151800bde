"""A whole city's households through `gongjian import households`, then the same file again.

    python bench/import_households.py [--database-url URL] [--keep FILE.csv]

The file is generated, the same every time, at the size of Yongzhou's old compounds (11
districts and counties, 1,163 compounds, 9,830 buildings, 121,016 households), as a CSV with
Chinese headers. Both imports run as the operator runs them, in a process of their own, on a
fresh SQLite file unless --database-url names another database (which must be empty). The
last line is JSON: rows, import_s, reimport_s, peak_rss_mb (the larger of the two processes).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DISTRICTS = ("零陵区", "冷水滩区", "祁阳市", "东安县", "双牌县", "道县", "江永县", "宁远县", "蓝山县", "新田县", "江华瑶族自治县")
STREETS_PER_DISTRICT = 4
COMMUNITIES_PER_STREET = 4
COMPOUNDS = 1_163
BUILDINGS = 9_830
HOUSEHOLDS = 121_016
UNITS_PER_BUILDING = 2
FLATS_PER_FLOOR = 2
HEADER = ("区县", "街道", "社区", "小区", "楼栋", "单元", "楼层", "房号", "面积")


def spread(total: int, parts: int) -> list[int]:
    """`total` split into `parts` whole numbers that differ by at most one."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def city_rows() -> list[tuple[str, ...]]:
    communities = [
        (district, f"{district[:2]}第{street + 1}街道", f"{district[:2]}{street + 1}-{community + 1}社区")
        for district in DISTRICTS
        for street in range(STREETS_PER_DISTRICT)
        for community in range(COMMUNITIES_PER_STREET)
    ]
    households_per_building = iter(spread(HOUSEHOLDS, BUILDINGS))
    rows: list[tuple[str, ...]] = []
    for compound, buildings in enumerate(spread(BUILDINGS, COMPOUNDS)):
        place = communities[compound % len(communities)]
        for building in range(buildings):
            for unit, flats in enumerate(spread(next(households_per_building), UNITS_PER_BUILDING)):
                for flat in range(flats):
                    floor, door = divmod(flat, FLATS_PER_FLOOR)
                    area = 45 + (len(rows) * 37 % 9_000) / 100  # 45.00 to 134.99 m², spread evenly
                    rows.append((*place, f"第{compound + 1}小区", f"{building + 1}栋", f"{unit + 1}单元", str(floor + 1), f"{floor + 1}0{door + 1}", f"{area:.2f}"))
    return rows


def write_city(path: Path) -> int:
    rows = city_rows()
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows([HEADER, *rows])
    return len(rows)


def timed_import(path: Path, database_url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", "households", str(path)],
        check=True, env={**os.environ, "GONGJIAN_DATABASE_URL": database_url}, cwd=Path(__file__).resolve().parent.parent,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database; a fresh SQLite file when not given")
    parser.add_argument("--keep", type=Path, help="also write the generated CSV here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = args.keep or Path(folder) / "yongzhou.csv"
        rows = write_city(csv_path)
        database_url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        import_s = timed_import(csv_path, database_url)
        reimport_s = timed_import(csv_path, database_url)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"rows": rows, "import_s": round(import_s, 2), "reimport_s": round(reimport_s, 2), "peak_rss_mb": round(peak_rss_mb, 1)}))


if __name__ == "__main__":
    main()
