"""Counting a vote the way the Civil Code counts (art. 278), exactly.

The law counts owners, one per exclusive unit, and weighs them by their area from the register.
A vote passes when enough took part (participation, over all eligible households and all their
area) and enough of those who took part agreed (consent, over the participating households and
their area). Areas are Decimals and every ratio is compared as an exact Fraction: "at least
2/3" holds at exactly 2/3, "more than 1/2" does not hold at exactly one half.

This module knows nothing of the database or the chat: the bot feeds it counts that SQL
summed up (GROUP BY), `gongjian vote tally` feeds it a roll read from a CSV file. Households
whose area is not recorded are counted by head and listed, never weighed as zero in silence.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from bot.i18n import N_
from bot.services.errors import DomainError

BAD_THRESHOLD = N_("{text} is not a threshold: write it like 2/3, >1/2, 75% or 0.75.")


class Choice(str, enum.Enum):
    agree = "agree"
    disagree = "disagree"
    abstain = "abstain"


# How a roll or a person writes a choice; an empty cell is "did not vote".
CHOICE_WORDS: dict[str, Choice] = {
    "同意": Choice.agree, "赞成": Choice.agree, "agree": Choice.agree, "yes": Choice.agree,
    "不同意": Choice.disagree, "反对": Choice.disagree, "disagree": Choice.disagree, "no": Choice.disagree,
    "弃权": Choice.abstain, "abstain": Choice.abstain,
}


@dataclass(frozen=True)
class Threshold:
    """A share that must be reached: at least `share`, or more than it when `strict`."""

    share: Fraction
    strict: bool = False

    def met(self, part: Fraction | Decimal | int, whole: Fraction | Decimal | int) -> bool:
        """Whether part/whole reaches the threshold; nothing of nothing reaches none."""
        if whole == 0:
            return False
        ratio = Fraction(part) / Fraction(whole)
        return ratio > self.share if self.strict else ratio >= self.share

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """"2/3" and "≥2/3" mean at least; ">1/2" more than; "75%" and "0.75" work too."""
        written = text.strip().replace(" ", "").replace("＞", ">").replace("≥", ">=")
        strict = written.startswith(">") and not written.startswith(">=")
        number = written.removeprefix(">=").removeprefix(">")
        try:
            share = Fraction(Decimal(number[:-1])) / 100 if number.endswith("%") else Fraction(number)
        except (ValueError, ZeroDivisionError, InvalidOperation):
            raise DomainError(BAD_THRESHOLD, text=text) from None
        if not 0 <= share <= 1:
            raise DomainError(BAD_THRESHOLD, text=text)
        return cls(share, strict)

    def __str__(self) -> str:
        return (">" if self.strict else "") + f"{self.share.numerator}/{self.share.denominator}"

    def shown(self) -> str:
        """As people read it: "≥ 2/3", "> 1/2"."""
        return ("> " if self.strict else "≥ ") + f"{self.share.numerator}/{self.share.denominator}"


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    """A share for reading ("66.67%"); the decisions are made on exact fractions, never on this."""
    return f"{float(Fraction(part) / Fraction(whole)):.2%}" if whole else "—"


@dataclass(frozen=True)
class Rule:
    """Participation is measured over all eligible households and area, consent over those
    that took part; both by headcount and by area."""

    name: str
    participation: Threshold
    consent: Threshold


TWO_THIRDS = Threshold(Fraction(2, 3))
RULES: dict[str, Rule] = {
    # Items 6–8 of art. 278: maintenance funds, rebuilding, changing the use of common parts.
    "civil-code-major": Rule("civil-code-major", TWO_THIRDS, Threshold(Fraction(3, 4))),
    "civil-code-ordinary": Rule("civil-code-ordinary", TWO_THIRDS, Threshold(Fraction(1, 2), strict=True)),
}
CUSTOM = "custom"


def rule_named(name: str, participation: str | None = None, consent: str | None = None) -> Rule:
    """A named rule, its thresholds replaced where given; "custom" needs both."""
    base = RULES.get(name)
    if base is None and name != CUSTOM:
        raise DomainError(N_("Unknown rule {name}: use civil-code-major, civil-code-ordinary or custom."), name=name)
    if base is None and (participation is None or consent is None):
        raise DomainError(N_("A custom rule needs both thresholds, participation and consent."))
    return Rule(
        name,
        Threshold.parse(participation) if participation is not None else base.participation,  # type: ignore[union-attr]
        Threshold.parse(consent) if consent is not None else base.consent,  # type: ignore[union-attr]
    )


@dataclass(frozen=True)
class Counts:
    households: int = 0
    area: Decimal = Decimal(0)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.households + other.households, self.area + other.area)


@dataclass(frozen=True)
class DecisionTally:
    """What was cast, summed: the eligible households, and those that chose each option.
    `without_area` names households whose area is not recorded (counted by head only)."""

    eligible: Counts
    by_choice: Mapping[Choice, Counts]
    without_area: tuple[str, ...] = ()

    @property
    def participating(self) -> Counts:
        return sum(self.by_choice.values(), Counts())

    @property
    def agree(self) -> Counts:
        return self.by_choice.get(Choice.agree, Counts())


@dataclass(frozen=True)
class DecisionResult:
    rule: Rule
    tally: DecisionTally
    participation_households_met: bool
    participation_area_met: bool
    consent_households_met: bool
    consent_area_met: bool

    @property
    def participation_met(self) -> bool:
        return self.participation_households_met and self.participation_area_met

    @property
    def consent_met(self) -> bool:
        return self.consent_households_met and self.consent_area_met

    @property
    def passed(self) -> bool:
        return self.participation_met and self.consent_met

    def summary(self) -> dict[str, int | Decimal | bool | list[str]]:
        """The figures `gongjian vote tally` prints as its JSON line."""
        tally = self.tally
        return {
            "households": tally.eligible.households,
            "area_total": tally.eligible.area,
            "participating_households": tally.participating.households,
            "participating_area": tally.participating.area,
            "agree_households": tally.agree.households,
            "agree_area": tally.agree.area,
            "participation_met": self.participation_met,
            "consent_met": self.consent_met,
            "passed": self.passed,
            "households_without_area": list(tally.without_area),
        }


def decide(tally: DecisionTally, rule: Rule) -> DecisionResult:
    eligible, participating, agree = tally.eligible, tally.participating, tally.agree
    return DecisionResult(
        rule,
        tally,
        participation_households_met=rule.participation.met(participating.households, eligible.households),
        participation_area_met=rule.participation.met(participating.area, eligible.area),
        consent_households_met=rule.consent.met(agree.households, participating.households),
        consent_area_met=rule.consent.met(agree.area, participating.area),
    )


@dataclass(frozen=True)
class RollEntry:
    """One eligible household on a roll: its area (None when not recorded) and its choice
    (None when it did not vote)."""

    household: str
    area: Decimal | None
    choice: Choice | None


def tally_roll(entries: Iterable[RollEntry]) -> DecisionTally:
    eligible = Counts()
    by_choice: dict[Choice, Counts] = {}
    without_area: list[str] = []
    for entry in entries:
        weight = Counts(1, entry.area or Decimal(0))
        if entry.area is None:
            without_area.append(entry.household)
        eligible += weight
        if entry.choice is not None:
            by_choice[entry.choice] = by_choice.get(entry.choice, Counts()) + weight
    return DecisionTally(eligible, by_choice, tuple(without_area))


def parse_choice(text: str) -> Choice | None:
    """A choice as a roll writes it; None for an empty cell. Raises KeyError for anything else."""
    word = re.sub(r"\s+", "", text).casefold()
    return CHOICE_WORDS[word] if word else None


@dataclass(frozen=True)
class ItemCount:
    """A consultation's item: how many households approved it, and their area."""

    item_id: int
    label: str
    counts: Counts = field(default_factory=Counts)


def ranking(items: Iterable[ItemCount]) -> list[ItemCount]:
    """Items most approved first: by households, then by area, then in the order given."""
    indexed = list(enumerate(items))
    indexed.sort(key=lambda pair: (-pair[1].counts.households, -pair[1].counts.area, pair[0]))
    return [item for _, item in indexed]
