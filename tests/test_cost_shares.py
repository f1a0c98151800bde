"""Cost shares: exact to the fen, always adding up to the residents' part, ground floors free,
coefficients editable, households without an area reported; `gongjian costs split`; and
`gongjian import plan`, all or nothing."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot import cli
from bot.services.cost_shares import DEFAULT_COEFFICIENTS, HouseholdBasis, parse_coefficients, split
from bot.services.errors import DomainError
from storage.db import create_engine, create_sessionmaker
from storage.models import Plan, PlanItem, VoteOption


def unit(areas: tuple[str, str] = ("58.60", "72.35"), floors: range = range(1, 7)) -> list[HouseholdBasis]:
    """A six-storey unit, two flats a floor, keyed like 301 and 302."""
    return [HouseholdBasis(floor * 100 + flat, floor, Decimal(areas[flat - 1])) for floor in floors for flat in (1, 2)]


def test_shares_add_up_exactly_and_ground_floors_pay_nothing() -> None:
    result = split(unit(), total=Decimal("1000000"), subsidy=Decimal("333333.33"))
    assert result.residents_part == Decimal("666666.67")
    assert sum(s.amount for s in result.shares) == result.residents_part
    by_key = {s.key: s.amount for s in result.shares}
    assert by_key[101] == by_key[202] == Decimal("0.00")
    # Higher floors pay more, and a larger flat more than a smaller one on the same floor.
    assert by_key[301] < by_key[401] < by_key[501] < by_key[601]
    assert by_key[301] < by_key[302]
    assert all(s.amount == s.amount.quantize(Decimal("0.01")) for s in result.shares)


def test_each_share_is_coefficient_times_area_times_price_to_the_fen() -> None:
    result = split(unit(), total=Decimal("500000"))
    for share in result.shares:
        exact = share.coefficient * share.area * result.residents_part / sum(s.coefficient * s.area for s in result.shares)
        assert abs(share.amount - exact) < Decimal("0.01")


def test_the_remainder_goes_to_the_largest_remainders_then_the_lower_key() -> None:
    # Three equal households and 100.00: 33.33 each and one fen left, which the lowest key gets.
    equal = [HouseholdBasis(key, 3, Decimal("50")) for key in (7, 3, 5)]
    result = split(equal, total=Decimal("100"))
    assert {s.key: s.amount for s in result.shares} == {3: Decimal("33.34"), 5: Decimal("33.33"), 7: Decimal("33.33")}


def test_edited_coefficients_change_the_shares() -> None:
    flat = {floor: Decimal(1) for floor in range(1, 7)}  # everyone pays alike, by area only
    result = split(unit(areas=("50", "50")), total=Decimal("1200"), coefficients=flat)
    assert {s.amount for s in result.shares} == {Decimal("100.00")}
    assert parse_coefficients("1：0，2:0, 3:0.7") == {1: Decimal(0), 2: Decimal(0), 3: Decimal("0.7")}


def test_a_household_without_area_is_reported_and_left_out() -> None:
    households = [*unit(floors=range(1, 4)), HouseholdBasis(401, 4, None), HouseholdBasis(102, 1, None)]
    result = split(households, total=Decimal("10000"))
    assert result.without_area == [401]  # the ground floor pays nothing anyway
    assert sum(s.amount for s in result.shares) == Decimal("10000.00")
    assert 401 not in {s.key for s in result.shares}


@pytest.mark.parametrize(
    "households, total, subsidy, coefficients, words",
    [
        (unit(), "100.001", "0", DEFAULT_COEFFICIENTS, "is not an amount"),
        (unit(), "100", "200", DEFAULT_COEFFICIENTS, "are more than the total"),
        (unit(floors=range(1, 11)), "100", "0", DEFAULT_COEFFICIENTS, "no coefficient for floor 10"),
        (unit(floors=range(1, 3)), "100", "0", DEFAULT_COEFFICIENTS, "No household with a known area pays"),
    ],
)
def test_what_cannot_be_shared_is_refused(households: list[HouseholdBasis], total: str, subsidy: str, coefficients: dict[int, Decimal], words: str) -> None:
    with pytest.raises(DomainError) as refused:
        split(households, total=total, subsidy=subsidy, coefficients=coefficients)
    assert words in str(refused.value)


def test_the_command_prints_a_table_and_json_that_add_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "unit.csv"
    csv_file.write_text("household,floor,area\n101,1,58.60\n301,3,58.60\n302,3,72.35\n601,6,72.35\n602,6,\n", encoding="utf-8")
    status = cli.main(["costs", "split", str(csv_file), "--total", "300000", "--subsidy", "100000.50", "--coefficients", "1:0,3:0.7,6:1.0"])
    out = capsys.readouterr()
    assert status == 0, out.err
    last = json.loads(out.out.strip().splitlines()[-1])
    assert last["total_residents_part"] == "199999.50"
    assert set(last["shares"]) == {"101", "301", "302", "601"} and last["shares"]["101"] == "0.00"
    assert sum(Decimal(v) for v in last["shares"].values()) == Decimal("199999.50")
    assert last["without_area"] == ["602"]
    assert "301" in out.out and "0.7" in out.out  # the table shows how each share was made


def test_the_command_names_the_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "unit.csv"
    csv_file.write_text("household,floor,area\n301,3,58.60\n302,three,72.35\n", encoding="utf-8")
    assert cli.main(["costs", "split", str(csv_file), "--total", "1000"]) == 1
    err = capsys.readouterr().err.strip()
    assert "3" in err and "\n" not in err


def test_a_plan_is_imported_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "plans.db"
    monkeypatch.setenv("GONGJIAN_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert cli.main(["import", "households", str(write_csv(tmp_path / "households.csv", [[*PATH, "1栋", "1单元", "3", "301", "58.60"], [*PATH, "2栋", "1单元", "1", "101", "72.35"]], HOUSEHOLD_HEADER))]) == 0
    capsys.readouterr()
    assert cli.main(["places", "--json"]) == 0
    compound = next(p["id"] for p in json.loads(capsys.readouterr().out) if p["kind"] == "compound")
    header = ["分类", "类型", "项目", "内容", "政府", "管线单位", "居民", "其他", "楼栋", "开始", "结束"]
    rows: list[list[object]] = [
        ["基础类", "排水", "雨污分流", "更换排水管网", 300000, 50000, 0, 0, "全部", "2027-03-01", "2027-05-31"],
        ["完善类", "电梯", "加装电梯", "", 300000, 0, "240000.00", 60000, "1栋", "", ""],
    ]
    bad = write_workbook(tmp_path / "plan-bad.xlsx", [header, *rows, ["提升类", "养老", "老年活动室", "", 0, 0, 0, 0, "9栋", "", ""]])
    assert cli.main(["import", "plan", str(bad), "--compound", str(compound)]) == 1
    refused = capsys.readouterr().err.strip()
    assert "4" in refused and "9栋" in refused and "\n" not in refused
    good = write_workbook(tmp_path / "plan.xlsx", [header, *rows])
    assert cli.main(["import", "plan", str(good), "--compound", str(compound), "--title", "2027年改造方案"]) == 0
    assert "2 " in capsys.readouterr().out

    async def stored() -> list[tuple[str, Decimal, int]]:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        async with create_sessionmaker(engine)() as session:
            plan_rows = list(await session.scalars(select(Plan)))
            items = [(i.title, i.budget, len(i.buildings)) for i in await session.scalars(select(PlanItem).order_by(PlanItem.position))]
        await engine.dispose()
        assert [p.title for p in plan_rows] == ["2027年改造方案"]  # the bad file left nothing behind
        return items

    assert asyncio.run(stored()) == [("雨污分流", Decimal("350000.00"), 2), ("加装电梯", Decimal("600000.00"), 1)]

    # The plan's items put to the compound as a consultation: their titles are its items.
    vote_file = tmp_path / "vote.yaml"
    vote_file.write_text(f"kind: consultation\ntitle: 先改哪一项\nscope: compound:{compound}\ncloses: 2099-01-01 18:00\nplan_items: [2, 1]\n", encoding="utf-8")
    assert cli.main(["vote", "create", str(vote_file)]) == 0
    capsys.readouterr()

    async def vote_items() -> list[str]:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        async with create_sessionmaker(engine)() as session:
            labels = list(await session.scalars(select(VoteOption.label).order_by(VoteOption.position)))
        await engine.dispose()
        return labels

    assert asyncio.run(vote_items()) == ["加装电梯", "雨污分流"]
    vote_file.write_text(f"kind: consultation\ntitle: x\nscope: compound:{compound}\ncloses: 2099-01-01 18:00\nplan_items: [1, 99]\n", encoding="utf-8")
    assert cli.main(["vote", "create", str(vote_file)]) == 1
    assert "99" in capsys.readouterr().err


def write_csv(path: Path, rows: list[list[str]], header: list[str]) -> Path:
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    return path


def write_workbook(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


HOUSEHOLD_HEADER = ["district", "street", "community", "compound", "building", "unit", "floor", "room", "area"]
PATH = ["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区"]
