"""`gongjian costs split` (shares without the bot), and reading a plan's file for `gongjian import plan`."""

from __future__ import annotations

import argparse
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import N_, _
from bot.services import audit, cost_shares, plans
from bot.services.errors import DomainError
from bot.services.households_import import ImportRowError
from bot.services.tables import Row, read_rows
from storage.models import ItemClass, Plan

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


# --- gongjian import plan -------------------------------------------------------------------

PLAN_HEADERS = {
    "class": "class", "分类": "class", "类别": "class", "category": "category", "类型": "category", "title": "title", "项目": "title", "名称": "title",
    "description": "description", "内容": "description", "说明": "description", "government": "government", "政府": "government",
    "utility": "utility", "管线单位": "utility", "residents": "residents", "居民": "residents", "others": "others", "其他": "others",
    "buildings": "buildings", "楼栋": "buildings", "start": "start", "开始": "start", "end": "end", "结束": "end",
}
PLAN_COLUMNS = ("class", "title", "government", "utility", "residents", "others", "buildings")
CLASS_WORDS = {"基础类": ItemClass.basic, "basic": ItemClass.basic, "完善类": ItemClass.improvement, "improvement": ItemClass.improvement,
               "提升类": ItemClass.upgrade, "upgrade": ItemClass.upgrade}
BUILDING_SEPARATORS = re.compile(r"[\s、，,;；]+")


async def import_plan(session: AsyncSession, actor: audit.Actor, compound_id: int, title: str, path: Path) -> tuple[Plan, int]:
    """The file's rows as a draft plan's items, all or none: a bad row raises with its line
    before the caller's transaction commits."""
    rows = read_rows(path, PLAN_HEADERS, PLAN_COLUMNS)
    if not rows:
        raise DomainError(N_("The file has no items below its header."))
    plan = await plans.create_plan(session, actor, compound_id, title)
    for row in rows:
        item_class = CLASS_WORDS.get(row.required("class").lower())
        if item_class is None:
            raise ImportRowError(row.line, N_("The {column} {value} is none of 基础类, 完善类, 提升类."), column=row.titles["class"], value=row.cells["class"])
        try:
            funding = [cost_shares.money(row.cells[c] or "0") for c in ("government", "utility", "residents", "others")]
            buildings = await plans.buildings_named(session, compound_id, BUILDING_SEPARATORS.split(row.required("buildings")))
        except DomainError as error:
            raise ImportRowError(row.line, error.message, **error.params) from None
        draft = plans.ItemDraft(item_class, row.required("title"), row.cells.get("category", ""), row.cells.get("description", ""), *funding,
                                tuple(buildings), _date(row, "start"), _date(row, "end"))
        await plans.add_item(session, actor, plan.id, draft)
    return plan, len(rows)


def _date(row: Row, column: str) -> date | None:
    text = row.cells.get(column, "")
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ImportRowError(row.line, N_("The {column} {value} is not a date like 2027-03-01."), column=row.titles[column], value=text) from None
