"""Reading a vote's roll from a CSV file (`gongjian vote tally`): one line per eligible
household, with its area and its choice, empty for a household that did not vote. Community
offices count paper-only votes this way, with the bot's own counting code."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.i18n import N_
from bot.services.errors import DomainError
from bot.services.households_import import _read_csv
from bot.services.text import compact
from bot.services.vote_counting import Choice, RollEntry, parse_choice

HEADERS = {
    "household": "household", "户": "household", "房号": "household", "住户": "household",
    "area": "area", "面积": "area",
    "choice": "choice", "选择": "choice", "意见": "choice", "表决": "choice",
}
COLUMNS = ("household", "area", "choice")


class RollError(DomainError):
    """A roll that cannot be counted; the message names the line."""


def read_roll(path: Path) -> list[RollEntry]:
    if not path.is_file():
        raise RollError(N_("No such file: {path}"), path=str(path))
    if path.suffix.lower() != ".csv":
        raise RollError(N_("A roll is a .csv file with the columns household, area, choice; {name} is not one."), name=path.name)
    rows = iter(_read_csv(path))
    header = next(rows, None)
    if header is None:
        raise RollError(N_("The file is empty."))
    positions = {HEADERS[title]: index for index, title in enumerate(compact(cell).lower() for cell in header) if title in HEADERS}
    missing = [column for column in COLUMNS if column not in positions]
    if missing:
        raise RollError(N_("Line 1 must name the columns household, area, choice; it lacks {columns}."), columns=", ".join(missing))
    entries: list[RollEntry] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        household, area, choice = (compact(cells[positions[c]]) if positions[c] < len(cells) else "" for c in COLUMNS)
        if not household:
            raise RollError(N_("Line {line}: the household is empty."), line=line)
        if household in seen:
            raise RollError(N_("Line {line}: household {household} is listed twice (first on line {first})."), line=line, household=household, first=seen[household])
        seen[household] = line
        entries.append(RollEntry(household, _area(line, area), _choice(line, choice)))
    return entries


def _area(line: int, text: str) -> Decimal | None:
    if not text:
        return None  # not recorded: reported, not counted as zero
    try:
        area = Decimal(text)
    except InvalidOperation:
        raise RollError(N_("Line {line}: the area {value} is not a number."), line=line, value=text) from None
    if not area.is_finite() or area <= 0:
        raise RollError(N_("Line {line}: the area {value} must be a positive number of square metres."), line=line, value=text)
    return area


def _choice(line: int, text: str) -> Choice | None:
    try:
        return parse_choice(text)
    except KeyError:
        raise RollError(N_("Line {line}: the choice {value} is none of 同意, 不同意, 弃权 (agree, disagree, abstain), nor empty."), line=line, value=text) from None
