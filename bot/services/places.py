"""The place hierarchy: importing households and reading places back.

Every place and household carries the ids of its ancestors (see storage.models), so the two
questions asked everywhere are one indexed query each: `within(place)` selects what lies inside
a place, and `contains(scope, place)` reads one row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services.households_import import HouseholdRow
from storage.models import TREE_LEVELS, Household, Place, PlaceKind

NO_SUCH_PLACE = N_("There is no {kind} with id {id}.")


@dataclass
class ImportSummary:
    created: Counter[str] = field(default_factory=Counter)
    updated_households: int = 0
    unchanged_households: int = 0


@dataclass(frozen=True)
class PlaceNode:
    kind: PlaceKind
    id: int
    name: str
    parent_id: int | None
    floor: int | None = None
    area: Decimal | None = None


@dataclass(frozen=True)
class HouseholdAddress:
    household_id: int
    compound: str
    building: str
    unit: str
    room: str
    floor: int


def within(place: Place, model: type[Place] | type[Household] = Household) -> ColumnElement[bool]:
    """The condition "lies within `place`" on places or households: one indexed column."""
    return getattr(model, place.kind.value + "_id") == place.id


def contains(scope: Place, place: Place | Household) -> bool:
    """Whether `place` is `scope` or lies within it."""
    if isinstance(place, Place) and place.id == scope.id:
        return True
    return place.ancestor_id(scope.kind) == scope.id


def _child_values(parent: Place | None, kind: PlaceKind, name: str) -> dict[str, object]:
    """A new place's columns: its parent and, copied from the parent's row, all its ancestors."""
    values: dict[str, object] = {"kind": kind, "name": name, "parent_id": parent.id if parent else None}
    if parent is not None:
        for level in TREE_LEVELS[:-1]:
            values[level.value + "_id"] = parent.id if level is parent.kind else parent.ancestor_id(level)
    return values


async def import_households(session: AsyncSession, rows: list[HouseholdRow]) -> ImportSummary:
    """Create whatever part of the hierarchy is missing; importing the same rows again changes
    nothing. Existing places are read once up front, so a city's file costs one pass."""
    summary = ImportSummary()
    by_path: dict[tuple[str, ...], Place] = {}
    known = {(p.parent_id, p.name): p for p in await session.scalars(select(Place))}
    for row in rows:
        parent: Place | None = None
        path = row.unit_path
        for depth, kind in enumerate(TREE_LEVELS):
            key = path[: depth + 1]
            place = by_path.get(key)
            if place is None:
                place = known.get((parent.id if parent else None, key[-1]))
                if place is None:
                    place = Place(**_child_values(parent, kind, key[-1]))
                    session.add(place)
                    await session.flush()
                    known[(place.parent_id, place.name)] = place
                    summary.created[kind.value] += 1
                by_path[key] = place
            parent = place
        assert parent is not None
        await _upsert_household(session, parent, row, summary)
    await session.flush()
    return summary


async def _upsert_household(session: AsyncSession, unit: Place, row: HouseholdRow, summary: ImportSummary) -> None:
    household = await session.scalar(select(Household).where(Household.unit_id == unit.id, Household.room == row.room))
    if household is None:
        ancestors = {level.value + "_id": unit.ancestor_id(level) for level in TREE_LEVELS[:-1]}
        session.add(Household(unit_id=unit.id, room=row.room, floor=row.floor, area=row.area, **ancestors))
        summary.created[PlaceKind.household.value] += 1
    elif household.floor != row.floor or household.area != row.area:
        household.floor, household.area = row.floor, row.area
        summary.updated_households += 1
    else:
        summary.unchanged_households += 1


async def list_places(session: AsyncSession) -> list[PlaceNode]:
    """Every place, parents before children, in a stable order."""
    order = {kind: index for index, kind in enumerate(TREE_LEVELS)}
    places = sorted(await session.scalars(select(Place)), key=lambda p: (order[p.kind], p.id))
    nodes = [PlaceNode(p.kind, p.id, p.name, p.parent_id) for p in places]
    for household in await session.scalars(select(Household).order_by(Household.id)):
        nodes.append(PlaceNode(PlaceKind.household, household.id, household.room, household.unit_id, household.floor, household.area))
    return nodes


async def get_place(session: AsyncSession, place_id: int, kind: PlaceKind | None = None) -> Place | None:
    """The place with this id (and of this kind, when given)."""
    place = await session.get(Place, place_id)
    return place if place is not None and (kind is None or place.kind is kind) else None


async def place_exists(session: AsyncSession, kind: PlaceKind, place_id: int) -> bool:
    if kind is PlaceKind.household:
        return await session.get(Household, place_id) is not None
    return await get_place(session, place_id, kind) is not None


async def building_label(session: AsyncSession, building_id: int) -> tuple[str, str] | None:
    """(compound name, building name) of a building, or None when it does not exist."""
    building = await get_place(session, building_id, PlaceKind.building)
    if building is None or building.compound_id is None:
        return None
    compound = await session.get(Place, building.compound_id)
    return (compound.name, building.name) if compound else None


async def units_of_building(session: AsyncSession, building_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Place.id, Place.name).where(Place.parent_id == building_id, Place.kind == PlaceKind.unit).order_by(Place.id)
    )
    return [(unit_id, name) for unit_id, name in rows]


async def rooms_of_unit(session: AsyncSession, unit_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Household.id, Household.room).where(Household.unit_id == unit_id).order_by(Household.floor, Household.room)
    )
    return [(household_id, room) for household_id, room in rows]


def _address_query() -> Select[tuple[int, str, str, str, str, int]]:
    compound, building, unit = (aliased(Place, name=name) for name in ("compound", "building", "unit"))
    return (
        select(Household.id, compound.name, building.name, unit.name, Household.room, Household.floor)
        .join(unit, Household.unit_id == unit.id)
        .join(building, Household.building_id == building.id)
        .join(compound, Household.compound_id == compound.id)
    )


# The columns of a HouseholdAddress, joined through the household's ancestor ids. Built once:
# making the aliases costs milliseconds, and every /me needs it.
ADDRESS_QUERY = _address_query()


async def household_addresses(session: AsyncSession, household_ids: list[int]) -> dict[int, HouseholdAddress]:
    """Addresses of several households in one query."""
    if not household_ids:
        return {}
    rows = await session.execute(ADDRESS_QUERY.where(Household.id.in_(household_ids)))
    return {row[0]: HouseholdAddress(*row) for row in rows}


async def household_address(session: AsyncSession, household_id: int) -> HouseholdAddress | None:
    return (await household_addresses(session, [household_id])).get(household_id)


async def building_of_household(session: AsyncSession, household_id: int) -> int | None:
    return await session.scalar(select(Household.building_id).where(Household.id == household_id))


async def find_room_in_building(session: AsyncSession, building_id: int, room: str, unit_id: int | None = None) -> list[int]:
    """Households of a building whose room number is `room` (one per unit that has it)."""
    query = select(Household.id).where(Household.building_id == building_id, Household.room == room)
    if unit_id is not None:
        query = query.where(Household.unit_id == unit_id)
    return list(await session.scalars(query))


async def place_name(session: AsyncSession, place_id: int) -> str | None:
    """A readable name; a building or unit is named with its compound ("阳光小区 3栋 1单元")."""
    place = await session.get(Place, place_id)
    if place is None:
        return None
    names = [place.name]
    if place.kind in (PlaceKind.building, PlaceKind.unit):
        ancestors = [place.compound_id] + ([place.building_id] if place.kind is PlaceKind.unit else [])
        rows = dict((await session.execute(select(Place.id, Place.name).where(Place.id.in_(ancestors)))).tuples().all())
        names = [rows[i] for i in ancestors if i in rows] + names
    return " ".join(names)
