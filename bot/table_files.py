"""Writing a table to .csv or .xlsx, chosen by the file's suffix: what offices open in Excel.

CSV is written with a byte-order mark, so Excel opens its Chinese as UTF-8 rather than GBK; an
.xlsx is written in openpyxl's write-only mode, row by row, so a city's rows never sit in
memory as cells.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook

from bot.i18n import N_
from bot.services.errors import DomainError

TABLE_SUFFIXES = (".csv", ".xlsx")
BAD_SUFFIX = N_("Write to a .csv or .xlsx file, not {name}.")

Cell = str | int | float | None


def check_table_path(path: Path) -> None:
    """Refuse, before any work, a file the writer cannot write."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise DomainError(BAD_SUFFIX, name=path.name)


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, sheet: str = "Sheet1") -> int:
    """Write the rows under their headers; returns how many rows were written."""
    check_table_path(path)
    written = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(["" if cell is None else cell for cell in row])
                written += 1
        return written
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append(list(row))
        written += 1
    workbook.save(path)
    return written
