"""The place hierarchy: importing households and reading places back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services.households_import import HouseholdRow
from storage.models import Building, Community, Compound, District, Household, PlaceKind, Street, Unit

NO_SUCH_PLACE = N_("There is no {kind} with id {id}.")

# (model, kind, the column that names its parent) for each level above the household, top down.
LEVELS = (
    (District, PlaceKind.district, None),
    (Street, PlaceKind.street, "district_id"),
    (Community, PlaceKind.community, "street_id"),
    (Compound, PlaceKind.compound, "community_id"),
    (Building, PlaceKind.building, "compound_id"),
    (Unit, PlaceKind.unit, "building_id"),
)


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


async def import_households(session: AsyncSession, rows: list[HouseholdRow]) -> ImportSummary:
    """Create whatever part of the hierarchy is missing; importing the same rows again changes nothing."""
    summary = ImportSummary()
    ids: dict[tuple[str, ...], int] = {}
    for row in rows:
        parent_id: int | None = None
        path = row.unit_path
        for depth, (model, kind, parent_column) in enumerate(LEVELS):
            key = path[: depth + 1]
            if key not in ids:
                ids[key] = await _get_or_create(session, model, kind, parent_column, parent_id, key[-1], summary)
            parent_id = ids[key]
        await _upsert_household(session, parent_id, row, summary)
    await session.flush()
    return summary


async def _get_or_create(
    session: AsyncSession,
    model: type,
    kind: PlaceKind,
    parent_column: str | None,
    parent_id: int | None,
    name: str,
    summary: ImportSummary,
) -> int:
    query = select(model.id).where(model.name == name)
    if parent_column:
        query = query.where(getattr(model, parent_column) == parent_id)
    existing = await session.scalar(query)
    if existing is not None:
        return existing
    place = model(name=name, **({parent_column: parent_id} if parent_column else {}))
    session.add(place)
    await session.flush()
    summary.created[kind.value] += 1
    return place.id


async def _upsert_household(session: AsyncSession, unit_id: int, row: HouseholdRow, summary: ImportSummary) -> None:
    household = await session.scalar(select(Household).where(Household.unit_id == unit_id, Household.room == row.room))
    if household is None:
        session.add(Household(unit_id=unit_id, room=row.room, floor=row.floor, area=row.area))
        summary.created[PlaceKind.household.value] += 1
    elif household.floor != row.floor or household.area != row.area:
        household.floor, household.area = row.floor, row.area
        summary.updated_households += 1
    else:
        summary.unchanged_households += 1


async def list_places(session: AsyncSession) -> list[PlaceNode]:
    """Every place, parents before children, in a stable order."""
    nodes: list[PlaceNode] = []
    for model, kind, parent_column in LEVELS:
        for place in await session.scalars(select(model).order_by(model.id)):
            parent_id = getattr(place, parent_column) if parent_column else None
            nodes.append(PlaceNode(kind, place.id, place.name, parent_id))
    for household in await session.scalars(select(Household).order_by(Household.id)):
        nodes.append(PlaceNode(PlaceKind.household, household.id, household.room, household.unit_id, household.floor, household.area))
    return nodes


def _model_of(kind: PlaceKind) -> type:
    return Household if kind is PlaceKind.household else next(m for m, k, _ in LEVELS if k is kind)


async def place_exists(session: AsyncSession, kind: PlaceKind, place_id: int) -> bool:
    return await session.get(_model_of(kind), place_id) is not None


async def building_label(session: AsyncSession, building_id: int) -> tuple[str, str] | None:
    """(compound name, building name) of a building, or None when it does not exist."""
    row = (
        await session.execute(
            select(Compound.name, Building.name).join(Building, Building.compound_id == Compound.id).where(Building.id == building_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def units_of_building(session: AsyncSession, building_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(select(Unit.id, Unit.name).where(Unit.building_id == building_id).order_by(Unit.id))
    return [(unit_id, name) for unit_id, name in rows]


async def rooms_of_unit(session: AsyncSession, unit_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Household.id, Household.room).where(Household.unit_id == unit_id).order_by(Household.floor, Household.room)
    )
    return [(household_id, room) for household_id, room in rows]


async def household_address(session: AsyncSession, household_id: int) -> HouseholdAddress | None:
    row = (
        await session.execute(
            select(Household.id, Compound.name, Building.name, Unit.name, Household.room, Household.floor)
            .join(Unit, Household.unit_id == Unit.id)
            .join(Building, Unit.building_id == Building.id)
            .join(Compound, Building.compound_id == Compound.id)
            .where(Household.id == household_id)
        )
    ).first()
    return HouseholdAddress(*row) if row else None


async def building_of_household(session: AsyncSession, household_id: int) -> int | None:
    return await session.scalar(select(Unit.building_id).join(Household, Household.unit_id == Unit.id).where(Household.id == household_id))


async def find_room_in_building(session: AsyncSession, building_id: int, room: str, unit_id: int | None = None) -> list[int]:
    """Households of a building whose room number is `room` (one per unit that has it)."""
    query = select(Household.id).join(Unit, Household.unit_id == Unit.id).where(Unit.building_id == building_id, Household.room == room)
    if unit_id is not None:
        query = query.where(Unit.id == unit_id)
    return list(await session.scalars(query))


async def place_name(session: AsyncSession, kind: PlaceKind, place_id: int) -> str | None:
    """A readable name; a building is named with its compound ("阳光小区 3栋")."""
    if kind is PlaceKind.building:
        label = await building_label(session, place_id)
        return " ".join(label) if label else None
    place = await session.get(_model_of(kind), place_id)
    if place is None:
        return None
    return place.room if isinstance(place, Household) else place.name
