"""Reading the community office's household spreadsheet (.csv or .xlsx) into validated rows.

Nothing here touches the database: a file is read and checked whole first, so one bad row
stops the import before anything is written.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from itertools import chain, islice
from pathlib import Path
from typing import Any

from bot.i18n import N_, translate
from bot.services.errors import DomainError
from bot.services.text import compact

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
CHINESE_TITLES = {column: title for title, column in CHINESE_HEADERS.items()}
# Offices put a title, a date or a blank line or two above the header.
HEADER_SEARCH_ROWS = 10
AREA_PLACES = Decimal("0.01")
MAX_AREA = Decimal("100000000")  # what Numeric(10, 2) holds
MAX_NAME_LENGTH = 50  # fits every place column, rooms included
LOWEST_FLOOR, HIGHEST_FLOOR = -9, 200  # basements to the tallest towers
# ASCII control characters other than tab, line feed and carriage return: no spreadsheet text has them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOT_TEXT = N_("{name} is not a text file. Save the sheet as CSV (UTF-8) or as an Excel workbook (.xlsx).")
NOT_A_WORKBOOK = N_("{name} is not an Excel workbook. Open it in Excel or WPS and save it as .xlsx, or as CSV (UTF-8).")
EMPTY_FILE = N_("The file is empty.")
PROGRESS_EVERY = 10_000
DATES = (date, time)  # what a spreadsheet may have turned a cell into (datetime is a date)


RowsRead = Callable[[int], None]


@dataclass(frozen=True, slots=True)  # slots: a city's file is 120,000 of them
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


@dataclass(frozen=True)
class HouseholdFile:
    rows: list[HouseholdRow]
    # The worksheet read and how many the workbook has; None and 1 for a CSV file.
    sheet: str | None = None
    sheet_count: int = 1


@dataclass(frozen=True)
class Header:
    line: int  # the header's line in the file, counted from 1
    positions: dict[str, int]  # column -> index in a row
    titles: dict[str, str]  # column -> its title as the file writes it, so that messages name it so


class ImportFileError(DomainError):
    """The file as a whole cannot be read (format, headers)."""


class ImportRowError(DomainError):
    """One row is wrong; `row` is its line in the spreadsheet, `sheet` the worksheet when the
    workbook has several."""

    sheet: str | None = None

    def __init__(self, row: int, message: str, **params: Any) -> None:
        super().__init__(message, row=row, **params)
        self.row = row

    def render(self, locale: str, quote: Callable[[str], str] = str) -> str:
        reason = super().render(locale, quote)
        if self.sheet is None:
            return translate(locale, N_("Line {row}: {reason} Nothing was imported.")).format(row=self.row, reason=reason)
        where = translate(locale, N_("Sheet {sheet}, line {row}: {reason} Nothing was imported."))
        return where.format(sheet=quote(self.sheet), row=self.row, reason=reason)


def read_households(path: Path, progress: RowsRead | None = None) -> HouseholdFile:
    """The file's rows, checked; `progress(rows)` is told every PROGRESS_EVERY rows."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return HouseholdFile(parse_rows(_read_csv(path), progress))
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path, progress)
    raise ImportFileError(N_("Unsupported file type {suffix}: use .csv or .xlsx."), suffix=suffix or "?")


def parse_rows(table: Iterable[Sequence[Any]], progress: RowsRead | None = None) -> list[HouseholdRow]:
    rows = iter(table)
    head = list(islice(rows, HEADER_SEARCH_ROWS))
    header = find_header(head)
    households: list[HouseholdRow] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, values in enumerate(chain(head[header.line :], rows), start=header.line + 1):
        if _is_blank(values):
            continue  # spreadsheets often end with blank lines
        household = _parse_row(line, values, header)
        key = (*household.unit_path, household.room)
        if key in seen:
            raise ImportRowError(line, N_("Room {room} appears twice (first on line {first})."), room=household.room, first=seen[key])
        seen[key] = line
        households.append(household)
        if progress is not None and len(households) % PROGRESS_EVERY == 0:
            progress(len(households))
    return households


def find_header(rows: list[Sequence[Any]]) -> Header:
    """The first row that names every column; when none does, the error names the row that
    came closest and what it lacks."""
    candidates = [_header_of(line, values) for line, values in enumerate(rows, start=1)]
    for header in candidates:
        if len(header.positions) == len(COLUMNS):
            return header
    if all(_is_blank(values) for values in rows):
        raise ImportFileError(EMPTY_FILE)
    closest = max(candidates, key=lambda header: len(header.positions))
    missing = ", ".join(f"{CHINESE_TITLES[c]}/{c}" for c in COLUMNS if c not in closest.positions)
    if not closest.positions:
        raise ImportFileError(N_("There is no header in the first {count} lines. The header row names the columns {columns}."), count=len(rows), columns=missing)
    raise ImportFileError(N_("The header on line {line} lacks the columns {columns}."), line=closest.line, columns=missing)


def _header_of(line: int, values: Sequence[Any]) -> Header:
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    for index, value in enumerate(values):
        title = compact(_cell_text(value))
        column = CHINESE_HEADERS.get(title, title.lower())
        if column in COLUMNS and column not in positions:
            positions[column] = index
            titles[column] = title
    return Header(line, positions, titles)


def _read_csv(path: Path) -> Iterator[list[str]]:
    """The rows, one at a time: a city's file as lists of cells would take 100 MB."""
    text = _decode(path.read_bytes(), path.name)
    return csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))


def _decode(data: bytes, name: str) -> str:
    """The whole file decoded at once, so that a file whose first thousands of lines are plain
    ASCII is still read from its start in the encoding that fits all of it. Excel saves CSV as
    UTF-8 with a byte-order mark, "Unicode text" as UTF-16 with one, and otherwise in the
    Chinese code page, GBK, which gb18030 extends."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not CONTROL_CHARACTERS.search(text):
            return text
    raise ImportFileError(NOT_TEXT, name=name)


def _delimiter(text: str) -> str:
    """A comma, or a tab in what Excel saves as "Unicode text"."""
    start = text[:4096]
    return "\t" if start.count("\t") > start.count(",") else ","


def _read_workbook(path: Path, progress: RowsRead | None) -> HouseholdFile:
    """The first worksheet that has the header; offices keep notes or totals on other sheets."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError):
        raise ImportFileError(NOT_A_WORKBOOK, name=path.name) from None
    try:
        sheets = workbook.worksheets
        first_error: ImportFileError | None = None
        for sheet in sheets:
            try:
                return HouseholdFile(parse_rows(sheet.iter_rows(values_only=True), progress), sheet.title, len(sheets))
            except ImportFileError as error:  # no header here: perhaps on the next sheet
                first_error = first_error or error
            except ImportRowError as error:
                error.sheet = sheet.title if len(sheets) > 1 else None
                raise
        raise first_error or ImportFileError(EMPTY_FILE)
    finally:
        workbook.close()


def _is_blank(values: Sequence[Any]) -> bool:
    return all(not _cell_text(value).strip() for value in values)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores room 301 as 301.0
    return str(value)


def _parse_row(line: int, values: Sequence[Any], header: Header) -> HouseholdRow:
    fields = {column: _field(line, values[index] if index < len(values) else None, header.titles[column]) for column, index in header.positions.items()}
    floor = _floor(line, header.titles["floor"], fields.pop("floor"))
    area = _area(line, header.titles["area"], fields.pop("area"))
    return HouseholdRow(floor=floor, area=area, **fields)


def _field(line: int, value: Any, title: str) -> str:
    if isinstance(value, DATES):
        # Excel turns a room typed as 3-01 into the 1st of March unless the column is text.
        raise ImportRowError(
            line, N_("The {column} cell holds a date, {value}: the spreadsheet turned what was typed into one. Format the column as text and type it again."),
            column=title, value=_date_text(value),
        )
    text = compact(_cell_text(value))
    if not text:
        raise ImportRowError(line, N_("The field {column} is empty."), column=title)
    if len(text) > MAX_NAME_LENGTH:
        raise ImportRowError(line, N_("The field {column} is longer than {limit} characters."), column=title, limit=MAX_NAME_LENGTH)
    return text


def _date_text(value: date | time) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    return value.isoformat()


def _floor(line: int, title: str, text: str) -> int:
    try:
        floor = int(text)
    except ValueError:
        raise ImportRowError(line, N_("The {column} {value} is not a whole number."), column=title, value=text) from None
    if not LOWEST_FLOOR <= floor <= HIGHEST_FLOOR:
        raise ImportRowError(line, N_("The {column} {value} is not between {low} and {high}."), column=title, value=text, low=LOWEST_FLOOR, high=HIGHEST_FLOOR)
    return floor


def _area(line: int, title: str, text: str) -> Decimal:
    try:
        area = Decimal(text)
    except InvalidOperation:
        raise ImportRowError(line, N_("The {column} {value} is not a number."), column=title, value=text) from None
    if not area.is_finite() or area <= 0 or area >= MAX_AREA:
        raise ImportRowError(line, N_("The {column} {value} must be a positive number of square metres."), column=title, value=text)
    if area != area.quantize(AREA_PLACES):
        raise ImportRowError(line, N_("The {column} {value} has more than two decimal places."), column=title, value=text)
    return area.quantize(AREA_PLACES)
