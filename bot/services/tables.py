"""Reading a small spreadsheet (.csv or .xlsx) whose header names its columns, for the plan
import and the cost split. Households have their own reader (households_import.py), built for a
city's 120,000 rows; this one reuses its decoding and cell rules for files of a few hundred."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n import N_
from bot.services.households_import import EMPTY_FILE, NOT_A_WORKBOOK, ImportFileError, ImportRowError, _cell_text, _is_blank, _read_csv
from bot.services.text import compact

HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class Row:
    line: int  # in the file, counted from 1
    cells: dict[str, str]  # column → its text, stripped; "" when empty
    titles: Mapping[str, str]  # column → its title as the file writes it

    def required(self, column: str) -> str:
        text = self.cells.get(column, "")
        if not text:
            raise ImportRowError(self.line, N_("The field {column} is empty."), column=self.titles[column])
        return text


def read_rows(path: Path, headers: Mapping[str, str], required: Sequence[str]) -> list[Row]:
    """Every non-blank row below the header, as texts by column. `headers` maps each title a
    file may use (English or Chinese, compared without spaces and case) to its column;
    `required` are the columns the header must name."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table: Iterator[Sequence[Any]] = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        table = _workbook_rows(path)
    else:
        raise ImportFileError(N_("Unsupported file type {suffix}: use .csv or .xlsx."), suffix=suffix or "?")
    lines = list(table)
    for index, values in enumerate(lines[:HEADER_SEARCH_ROWS]):
        positions = {}
        for position, value in enumerate(values):
            column = headers.get(compact(_cell_text(value)).lower())
            if column is not None and column not in positions:
                positions[column] = (position, compact(_cell_text(value)))
        if all(column in positions for column in required):
            titles = {column: title for column, (_, title) in positions.items()}
            return [
                Row(line, {column: _cell_text(values[p] if p < len(values) else None).strip() for column, (p, _) in positions.items()}, titles)
                for line, values in enumerate(lines[index + 1 :], start=index + 2)
                if not _is_blank(values)
            ]
    if all(_is_blank(values) for values in lines):
        raise ImportFileError(EMPTY_FILE)
    raise ImportFileError(N_("There is no header in the first {count} lines. The header row names the columns {columns}."),
                          count=min(len(lines), HEADER_SEARCH_ROWS), columns=", ".join(required))


def _workbook_rows(path: Path) -> Iterator[Sequence[Any]]:
    """The first worksheet's rows."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError):
        raise ImportFileError(NOT_A_WORKBOOK, name=path.name) from None
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()
