"""Reading the community office's household spreadsheet (.csv or .xlsx) into validated rows.

Nothing here touches the database: a file is read and checked whole first, so one bad row
stops the import before anything is written.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bot.i18n import N_, translate
from bot.services.errors import DomainError

COLUMNS = ("district", "street", "community", "compound", "building", "unit", "floor", "room", "area")
CHINESE_HEADERS = {
    "区县": "district",
    "街道": "street",
    "社区": "community",
    "小区": "compound",
    "楼栋": "building",
    "单元": "unit",
    "楼层": "floor",
    "房号": "room",
    "面积": "area",
}
AREA_PLACES = Decimal("0.01")
MAX_NAME_LENGTH = 50  # fits every place column, rooms included


@dataclass(frozen=True)
class HouseholdRow:
    district: str
    street: str
    community: str
    compound: str
    building: str
    unit: str
    floor: int
    room: str
    area: Decimal

    @property
    def unit_path(self) -> tuple[str, str, str, str, str, str]:
        return (self.district, self.street, self.community, self.compound, self.building, self.unit)


class ImportFileError(DomainError):
    """The file as a whole cannot be read (format, headers)."""


class ImportRowError(DomainError):
    """One row is wrong; `row` is its line in the spreadsheet (the header is line 1)."""

    def __init__(self, row: int, message: str, **params: Any) -> None:
        super().__init__(message, row=row, **params)
        self.row = row

    def render(self, locale: str, quote: Callable[[str], str] = str) -> str:
        reason = super().render(locale, quote)
        return translate(locale, N_("Line {row}: {reason} Nothing was imported.")).format(row=self.row, reason=reason)


def read_households(path: Path) -> list[HouseholdRow]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        raw_rows = _read_xlsx(path)
    else:
        raise ImportFileError(N_("Unsupported file type {suffix}: use .csv or .xlsx."), suffix=suffix or "?")
    return parse_rows(raw_rows)


def parse_rows(raw_rows: Iterable[list[Any]]) -> list[HouseholdRow]:
    rows = iter(raw_rows)
    header = next(rows, None)
    if header is None:
        raise ImportFileError(N_("The file is empty."))
    positions = _column_positions(header)
    households: list[HouseholdRow] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, values in enumerate(rows, start=2):
        if all(_cell(v) == "" for v in values):
            continue  # spreadsheets often end with blank lines
        household = _parse_row(line, values, positions)
        key = (*household.unit_path, household.room)
        if key in seen:
            raise ImportRowError(line, N_("Room {room} appears twice (first on line {first})."), room=household.room, first=seen[key])
        seen[key] = line
        households.append(household)
    return households


def _read_csv(path: Path) -> Iterator[list[Any]]:
    # utf-8-sig: Excel writes a byte-order mark when it saves CSV as UTF-8.
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            yield from csv.reader(file)
    except UnicodeDecodeError:
        with path.open(encoding="gb18030", newline="") as file:
            yield from csv.reader(file)


def _read_xlsx(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def _column_positions(header: list[Any]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        name = _cell(title)
        column = CHINESE_HEADERS.get(name, name.lower())
        if column in COLUMNS:
            positions[column] = index
    missing = [c for c in COLUMNS if c not in positions]
    if missing:
        raise ImportFileError(N_("Missing columns: {columns}."), columns=", ".join(missing))
    return positions


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores room 301 as 301.0
    return str(value).strip()


def _parse_row(line: int, values: list[Any], positions: dict[str, int]) -> HouseholdRow:
    fields: dict[str, str] = {}
    for column, index in positions.items():
        fields[column] = _cell(values[index]) if index < len(values) else ""
        if not fields[column]:
            raise ImportRowError(line, N_("The field {column} is empty."), column=column)
        if len(fields[column]) > MAX_NAME_LENGTH:
            raise ImportRowError(line, N_("The field {column} is longer than {limit} characters."), column=column, limit=MAX_NAME_LENGTH)
    try:
        floor = int(fields["floor"])
    except ValueError:
        raise ImportRowError(line, N_("The floor {value} is not a whole number."), value=fields["floor"]) from None
    try:
        area = Decimal(fields["area"])
    except InvalidOperation:
        raise ImportRowError(line, N_("The area {value} is not a number."), value=fields["area"]) from None
    if not area.is_finite() or area <= 0 or area >= Decimal("100000000"):
        raise ImportRowError(line, N_("The area {value} must be a positive number of square metres."), value=fields["area"])
    if area != area.quantize(AREA_PLACES):
        raise ImportRowError(line, N_("The area {value} has more than two decimal places."), value=fields["area"])
    text = {k: v for k, v in fields.items() if k not in ("floor", "area")}
    return HouseholdRow(floor=floor, area=area.quantize(AREA_PLACES), **text)
