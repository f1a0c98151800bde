"""Shared costs (资金共筹): each household's share of what subsidies do not cover.

    share = floor coefficient × area × price per m²

The price is whatever makes the shares add up to the residents' part (total − subsidies), so
it is never typed. Money is exact: amounts are Decimal yuan with at most two places (fen),
shares are computed in exact integers of fen and rounded down, and the fen left over go one
each to the households whose shares lost the most in rounding (largest remainder); equal
losses go to the lower household key first. The shares therefore always add up exactly to the
residents' part, and the same input always gives the same shares.

Pure: the bot (bot/services/plans.py) and `gongjian costs split` both call `split`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.i18n import N_
from bot.services.errors import DomainError

FEN = Decimal("0.01")
# A common rule (Guangzhou's elevator retrofits): floors 1–2 pay nothing, 3 to 9 pay more the
# higher they live. Editable per building.
DEFAULT_COEFFICIENTS: dict[int, Decimal] = {
    1: Decimal("0"), 2: Decimal("0"), 3: Decimal("0.7"), 4: Decimal("0.8"), 5: Decimal("0.9"),
    6: Decimal("1.0"), 7: Decimal("1.1"), 8: Decimal("1.2"), 9: Decimal("1.3"),
}
MAX_COEFFICIENT = Decimal("99.99")  # what the coefficients' column holds

NOT_MONEY = N_("{text} is not an amount of money in yuan (at most two decimals).")
SUBSIDY_TOO_LARGE = N_("The subsidies ({subsidy}) are more than the total ({total}).")
NO_COEFFICIENT = N_("There is no coefficient for floor {floor}. Give one for every floor, like 1:0,2:0,3:0.7.")
BAD_COEFFICIENTS = N_("{text} is not a list of coefficients. Write them like 1:0,2:0,3:0.7,4:0.8.")
NOBODY_PAYS = N_("No household with a known area pays anything, so the residents' part cannot be shared.")


@dataclass(frozen=True)
class HouseholdBasis:
    """What a share is computed from. `key` orders ties (a household id, or a row's name)."""

    key: Hashable
    floor: int
    area: Decimal | None  # None: not in the register, so no share can be computed
    building: Hashable = None  # whose coefficients apply, when buildings have their own


@dataclass(frozen=True)
class Share:
    key: Hashable
    floor: int
    area: Decimal
    coefficient: Decimal
    amount: Decimal  # yuan, two decimals


@dataclass(frozen=True)
class Split:
    total: Decimal
    subsidy: Decimal
    residents_part: Decimal
    # Yuan per weighted m² (coefficient × area), before rounding: shown to explain a share.
    price_per_m2: Decimal
    shares: list[Share]
    # Households on a paying floor whose area is unknown: left out, and to be reported.
    without_area: list[Hashable]


def money(text: str | Decimal) -> Decimal:
    """An amount in yuan, exact to the fen; refused when it has finer parts or is negative."""
    try:
        amount = Decimal(str(text).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise DomainError(NOT_MONEY, text=str(text)) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(FEN):
        raise DomainError(NOT_MONEY, text=str(text))
    return amount.quantize(FEN)


def parse_coefficients(text: str) -> dict[int, Decimal]:
    """"1:0,2:0,3:0.7" → {1: 0, 2: 0, 3: 0.7}; full-width colons and commas are read as well."""
    table: dict[int, Decimal] = {}
    normalised = text.replace("：", ":").replace("，", ",").strip()
    try:
        for part in filter(None, (p.strip() for p in normalised.split(","))):
            floor, coefficient = part.split(":")
            value = Decimal(coefficient.strip())
            if not value.is_finite() or not 0 <= value <= MAX_COEFFICIENT:
                raise ValueError(part)
            table[int(floor)] = value
    except (ValueError, InvalidOperation):
        raise DomainError(BAD_COEFFICIENTS, text=text) from None
    if not table:
        raise DomainError(BAD_COEFFICIENTS, text=text)
    return table


def format_coefficients(table: Mapping[int, Decimal]) -> str:
    return ",".join(f"{floor}:{table[floor].normalize():f}" for floor in sorted(table))


def split(
    households: Sequence[HouseholdBasis],
    total: Decimal | str,
    subsidy: Decimal | str = Decimal(0),
    coefficients: Mapping[int, Decimal] = DEFAULT_COEFFICIENTS,
    by_building: Mapping[Hashable, Mapping[int, Decimal]] | None = None,
) -> Split:
    """Share total − subsidy; a household whose building is in `by_building` is weighed with
    that building's coefficients, any other with `coefficients`."""
    total, subsidy = money(total), money(subsidy)
    if subsidy > total:
        raise DomainError(SUBSIDY_TOO_LARGE, subsidy=str(subsidy), total=str(total))
    residents_part = total - subsidy
    paying: list[tuple[HouseholdBasis, Decimal]] = []
    without_area: list[Hashable] = []
    for household in households:
        table = (by_building or {}).get(household.building, coefficients)
        if household.floor not in table:
            raise DomainError(NO_COEFFICIENT, floor=household.floor)
        coefficient = table[household.floor]
        if household.area is None:
            if coefficient:
                without_area.append(household.key)
            continue
        paying.append((household, coefficient))
    # Exact integer arithmetic: coefficient × area scaled to whole numbers (one scale for all,
    # so the weights keep their proportions), and each share's fen as a quotient and remainder.
    weights = [c * a for c, a in zip(_integers([c for _, c in paying]), _integers([h.area or Decimal(0) for h, _ in paying]))]
    weight = sum(weights)
    if weight == 0 and residents_part > 0:
        raise DomainError(NOBODY_PAYS)
    fen = int(residents_part * 100)
    divided = [divmod(fen * w, weight) if weight else (0, 0) for w in weights]
    rounded = [quotient for quotient, _ in divided]
    # Largest remainder: the fen left over go to the largest remainders, ties by the lower key.
    order = sorted(range(len(paying)), key=lambda i: (-divided[i][1], _sort_key(paying[i][0].key)))
    for i in order[: fen - sum(rounded)]:
        rounded[i] += 1
    shares = [
        Share(h.key, h.floor, h.area or Decimal(0), coefficient, (Decimal(amount) / 100).quantize(FEN))
        for (h, coefficient), amount in zip(paying, rounded)
    ]
    # The price per weighted m²: the residents' part over Σ coefficient × area, in yuan.
    weighted_area = sum((c * (h.area or 0) for h, c in paying), Decimal(0))
    price = residents_part / weighted_area if weighted_area else Decimal(0)
    return Split(total, subsidy, residents_part, price.quantize(Decimal("0.0001")), shares, without_area)


def _integers(values: list[Decimal]) -> list[int]:
    """The values times the one power of ten that makes them all whole numbers."""
    places = max((max(0, -int(v.as_tuple().exponent)) for v in values), default=0)
    return [int(v.scaleb(places)) for v in values]


def _sort_key(key: Hashable) -> tuple[int, object]:
    """Numbers before texts, each in their own order, so mixed keys still sort."""
    return (0, key) if isinstance(key, int) else (1, str(key))
