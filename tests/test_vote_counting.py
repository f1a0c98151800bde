"""Counting as the Civil Code counts: exact thresholds at their edges, by head and by area, and
`gongjian vote tally` on rolls an office would write."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from bot.cli import main
from bot.services.errors import DomainError
from bot.services.vote_counting import RULES, Choice, RollEntry, Threshold, decide, rule_named, tally_roll

MAJOR, ORDINARY = RULES["civil-code-major"], RULES["civil-code-ordinary"]


def roll(*choices: Choice | None, area: str = "100.00") -> list[RollEntry]:
    return [RollEntry(f"h{index}", Decimal(area), choice) for index, choice in enumerate(choices)]


A, D, X, N = Choice.agree, Choice.disagree, Choice.abstain, None


def test_exactly_two_thirds_taking_part_is_enough_and_one_less_is_not() -> None:
    exactly = decide(tally_roll(roll(A, A, N)), MAJOR)  # 2 of 3, by head and by area
    assert exactly.participation_households_met and exactly.participation_area_met and exactly.passed
    short = decide(tally_roll(roll(A, A, N, N)), MAJOR)  # 2 of 4
    assert not short.participation_met and not short.passed


def test_exactly_three_quarters_consent_passes_a_major_matter() -> None:
    result = decide(tally_roll(roll(A, A, A, D)), MAJOR)
    assert result.consent_households_met and result.consent_area_met and result.passed
    assert not decide(tally_roll(roll(A, A, A, D, X)), MAJOR).consent_met  # 3/5: abstaining counts as taking part


def test_exactly_half_is_not_a_majority_for_an_ordinary_matter() -> None:
    assert not decide(tally_roll(roll(A, D)), ORDINARY).consent_met
    assert decide(tally_roll(roll(A, A, D)), ORDINARY).passed


def test_area_and_headcount_must_both_be_met() -> None:
    # 3 small flats agree, 1 large one disagrees: a majority by head, not by area.
    entries = roll(A, A, A, area="50.00") + [RollEntry("big", Decimal("200.00"), D)]
    result = decide(tally_roll(entries), ORDINARY)
    assert result.consent_households_met and not result.consent_area_met and not result.passed


def test_areas_are_exact_decimals_where_floats_would_round() -> None:
    # In floats 0.3 / 0.4 is 0.7499999999999999: exactly 3/4 of the area agrees only in exact arithmetic.
    entries = [RollEntry("a", Decimal("0.30"), A), RollEntry("b", Decimal("0.10"), D)]
    result = decide(tally_roll(entries), rule_named("custom", "2/3", "3/4"))
    assert result.consent_area_met and result.tally.participating.area == Decimal("0.40")


def test_households_without_area_are_reported_not_weighed_as_zero_in_silence() -> None:
    entries = [RollEntry("1-101", None, A), RollEntry("1-102", Decimal("80.00"), A), RollEntry("1-103", Decimal("80.00"), N)]
    tally = tally_roll(entries)
    assert tally.without_area == ("1-101",) and tally.eligible.households == 3 and tally.eligible.area == Decimal("160.00")


@pytest.mark.parametrize(
    ("text", "share", "strict"),
    [("2/3", Fraction(2, 3), False), (">1/2", Fraction(1, 2), True), ("≥3/4", Fraction(3, 4), False), ("75%", Fraction(3, 4), False), ("0.5", Fraction(1, 2), False)],
)
def test_thresholds_are_read_as_written(text: str, share: Fraction, strict: bool) -> None:
    assert Threshold.parse(text) == Threshold(share, strict)


@pytest.mark.parametrize("text", ["two thirds", "3/2", "1/0", "-1/2", ""])
def test_a_threshold_that_is_no_share_is_refused(text: str) -> None:
    with pytest.raises(DomainError):
        Threshold.parse(text)


def tally_command(tmp_path: Path, csv_text: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "roll.csv"
    path.write_text(csv_text, encoding="utf-8")
    status = main(["vote", "tally", str(path), *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_tally_command_prints_the_result_and_a_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_text = "household,area,choice\n1-101,90.50,同意\n1-102,89.50,agree\n1-201,90.00,不同意\n1-202,90.00,\n1-301,,弃权\n"
    status, out, err = tally_command(tmp_path, csv_text, "--rule", "civil-code-ordinary", capsys=capsys)
    assert status == 0 and err == ""
    *readable, last = out.strip().splitlines()
    summary = json.loads(last, parse_float=Decimal)
    assert summary == {
        "households": 5, "area_total": Decimal("360.00"), "participating_households": 4, "participating_area": Decimal("270.00"),
        "agree_households": 2, "agree_area": Decimal("180.00"), "participation_met": True, "consent_met": False, "passed": False,
        "households_without_area": ["1-301"],
    }
    text = "\n".join(readable)
    assert "1-301" in text and "> 1/2" in text


def test_the_tally_command_takes_thresholds_of_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_text = "户,面积,表决\n1,100,同意\n2,100,不同意\n"
    status, out, _ = tally_command(tmp_path, csv_text, "--rule", "civil-code-major", "--participation", "1/2", "--consent", "1/2", capsys=capsys)
    assert status == 0 and json.loads(out.splitlines()[-1])["passed"] is True


@pytest.mark.parametrize(
    ("csv_text", "words"),
    [
        ("household,area,choice\n1,100,maybe\n", "maybe"),
        ("household,area,choice\n1,abc,同意\n", "abc"),
        ("household,area,choice\n1,100,同意\n1,100,同意\n", "1"),
        ("room,size\n1,100\n", "choice"),
        ("", ""),
    ],
)
def test_a_bad_roll_is_one_line_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str], csv_text: str, words: str) -> None:
    status, out, err = tally_command(tmp_path, csv_text, "--rule", "civil-code-major", capsys=capsys)
    assert status == 1 and out == "" and len(err.strip().splitlines()) == 1 and words in err
