"""`gongjian costs split` (shares without the bot) and `gongjian import plan`."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.config import Settings
from bot.i18n import N_, _
from bot.services import cost_shares
from bot.services.errors import DomainError
from bot.services.households_import import ImportRowError
from bot.services.tables import read_rows

TABLE_TITLES = (N_("household"), N_("floor"), N_("area"), N_("coefficient"), N_("share"))
COST_HEADERS = {"household": "household", "户": "household", "房号": "household", "floor": "floor", "楼层": "floor", "area": "area", "面积": "area"}


def add_costs_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    costs = commands.add_parser("costs", help="shared costs (资金共筹)")
    costs_commands = costs.add_subparsers(dest="costs_command", required=True)
    split = costs_commands.add_parser("split", help="each household's share; the last line is JSON")
    split.add_argument("file", type=Path, help="CSV or .xlsx with the columns household, floor, area")
    split.add_argument("--total", required=True, help="the total cost in yuan")
    split.add_argument("--subsidy", default="0", help="subsidies in yuan (the residents share the rest)")
    split.add_argument("--coefficients", help='per floor, like "1:0,2:0,3:0.7"; default: floors 1-2 pay 0, 3 to 9 from 0.7 to 1.3')
    split.set_defaults(handler=cmd_costs_split)


def read_cost_households(path: Path) -> list[cost_shares.HouseholdBasis]:
    households: list[cost_shares.HouseholdBasis] = []
    for row in read_rows(path, COST_HEADERS, ("household", "floor", "area")):
        name, floor_text, area_text = row.required("household"), row.required("floor"), row.cells["area"]
        try:
            floor = int(floor_text)
        except ValueError:
            raise ImportRowError(row.line, N_("The {column} {value} is not a whole number."), column=row.titles["floor"], value=floor_text) from None
        try:
            area = Decimal(area_text) if area_text else None
        except InvalidOperation:
            raise ImportRowError(row.line, N_("The {column} {value} is not a number."), column=row.titles["area"], value=area_text) from None
        if area is not None and (not area.is_finite() or area <= 0):
            raise ImportRowError(row.line, N_("The {column} {value} must be a positive number of square metres."), column=row.titles["area"], value=area_text)
        households.append(cost_shares.HouseholdBasis(name, floor, area))
    return households


def cmd_costs_split(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        raise DomainError(N_("No such file: {path}"), path=str(args.file))
    coefficients = cost_shares.parse_coefficients(args.coefficients) if args.coefficients else cost_shares.DEFAULT_COEFFICIENTS
    result = cost_shares.split(read_cost_households(args.file), total=args.total, subsidy=args.subsidy, coefficients=coefficients)
    print(_("Total {total}, subsidies {subsidy}, residents' part {part}; price {price} yuan per weighted m².").format(
        total=result.total, subsidy=result.subsidy, part=result.residents_part, price=result.price_per_m2))
    household, floor, area, coefficient, share_title = (_(title) for title in TABLE_TITLES)
    print(f"{household:<12} {floor:>6} {area:>10} {coefficient:>12} {share_title:>14}")
    for share in result.shares:
        print(f"{share.key!s:<12} {share.floor:>6} {share.area:>10} {share.coefficient:>12} {share.amount:>14}")
    for key in result.without_area:
        print(_("{household}: no area on record, left out; add it and split again.").format(household=key))
    print(json.dumps({
        "total_residents_part": str(result.residents_part),
        "shares": {str(share.key): str(share.amount) for share in result.shares},
        "without_area": [str(key) for key in result.without_area],
    }, ensure_ascii=False))
    return 0
