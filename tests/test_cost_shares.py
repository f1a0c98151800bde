"""Cost shares: exact to the fen, always adding up to the residents' part, ground floors free,
coefficients editable, households without an area reported; and `gongjian costs split`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot import cli
from bot.services.cost_shares import DEFAULT_COEFFICIENTS, HouseholdBasis, parse_coefficients, split
from bot.services.errors import DomainError


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
