"""The place hierarchy: importing households and reading places back.

Every place and household carries the ids of its ancestors (see storage.models), so the two
questions asked everywhere are one indexed query each: `within(place)` selects what lies inside
a place, and `contains(scope, place)` reads one row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import access, audit
from bot.services.errors import DomainError, Term
from bot.services.households_import import HouseholdRow
from storage.models import TREE_LEVELS, Household, Place, PlaceKind

NO_SUCH_PLACE = N_("There is no {kind} with id {id}.")
KIND_NAMES: dict[PlaceKind, str] = {
    PlaceKind.district: N_("district"),
    PlaceKind.street: N_("street"),
    PlaceKind.community: N_("community"),
    PlaceKind.compound: N_("compound"),
    PlaceKind.building: N_("building"),
    PlaceKind.unit: N_("unit"),
    PlaceKind.household: N_("household"),
}
# Ids are 32-bit integers in PostgreSQL: a larger number names nothing, and is never sent to the database.
MAX_ID = 2**31 - 1
# Lists of ids per IN (...): well under the 32,767 parameters asyncpg and SQLite take per statement.
IDS_PER_QUERY = 5_000
HOUSEHOLDS_PER_BATCH = 10_000

T = TypeVar("T")
HouseholdsSaved = Callable[[int, int], None]  # (saved so far, to save)


class StoredHousehold(NamedTuple):
    id: int
    floor: int
    area: Decimal


@dataclass
class ImportSummary:
    created: Counter[PlaceKind] = field(default_factory=Counter)
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


def _ancestor_values(parent: Place) -> dict[str, int | None]:
    """The ancestor-id columns of a child of `parent`: the parent's own, and the parent at its level."""
    return {level.value + "_id": parent.id if level is parent.kind else parent.ancestor_id(level) for level in TREE_LEVELS[:-1]}


def _child_values(parent: Place | None, kind: PlaceKind, name: str) -> dict[str, object]:
    """A new place's columns: its parent and, copied from the parent's row, all its ancestors."""
    values: dict[str, object] = {"kind": kind, "name": name, "parent_id": parent.id if parent else None}
    if parent is not None:
        values.update(_ancestor_values(parent))
    return values


async def import_households(
    session: AsyncSession, rows: list[HouseholdRow], *, actor: audit.Actor, source: str = "households", progress: HouseholdsSaved | None = None
) -> ImportSummary:
    """Create whatever part of the hierarchy is missing, add new households and update changed
    floors and areas; importing the same rows again changes nothing. It works in bulk, level by
    level, so a city's file (120,000 households) is a few dozen statements, not one per row.
    `progress(done, total)` is told after each batch of households written."""
    await access.require(session, actor, access.Permission.import_households, None)
    summary = ImportSummary()
    units = await _ensure_places(session, [row.unit_path for row in rows], summary)
    await _write_households(session, rows, units, summary, progress)
    created = {kind.value: count for kind, count in summary.created.items()}
    await audit.record(session, actor, "import_households", source, rows=len(rows), created=created, updated=summary.updated_households)
    return summary


async def _ensure_places(session: AsyncSession, unit_paths: list[tuple[str, ...]], summary: ImportSummary) -> dict[tuple[str, ...], Place]:
    """The unit at each path (district ... unit names), creating the missing places one level at
    a time: each level is read in a query or a few and its new places inserted in one statement."""
    placed: dict[tuple[str, ...], Place] = {}
    for depth, kind in enumerate(TREE_LEVELS):
        paths = list(dict.fromkeys(path[: depth + 1] for path in unit_paths))  # in the file's order
        parents = [placed.get(path[:-1]) for path in paths]  # None above districts
        keys = [(parent.id if parent else None, path[-1]) for parent, path in zip(parents, paths)]
        existing = await _places_under(session, kind, keys)
        missing = [(parent, key[1]) for parent, key in zip(parents, keys) if key not in existing]
        if missing:
            await session.execute(insert(Place), [_child_values(parent, kind, name) for parent, name in missing])
            summary.created[kind] += len(missing)
            existing = await _places_under(session, kind, keys)
        placed.update((path, existing[key]) for path, key in zip(paths, keys))
    return {path: placed[path] for path in unit_paths}


async def _places_under(session: AsyncSession, kind: PlaceKind, keys: list[tuple[int | None, str]]) -> dict[tuple[int | None, str], Place]:
    """The existing places of `kind` among these (parent id, name) keys, and possibly others
    under the same parents."""
    if kind is TREE_LEVELS[0]:  # no parent: by name
        queries = [select(Place).where(Place.parent_id.is_(None), Place.name.in_(chunk)) for chunk in _chunks([name for _, name in keys])]
    else:
        parent_ids = list(dict.fromkeys(parent_id for parent_id, _ in keys))
        queries = [select(Place).where(Place.parent_id.in_(chunk)) for chunk in _chunks(parent_ids)]
    places = [place for query in queries for place in await session.scalars(query)]
    return {(place.parent_id, place.name): place for place in places}


async def _write_households(
    session: AsyncSession, rows: list[HouseholdRow], units: dict[tuple[str, ...], Place], summary: ImportSummary, progress: HouseholdsSaved | None
) -> None:
    existing = await _households_of_units(session, [unit.id for unit in units.values()])
    new: list[HouseholdRow] = []
    changed: list[dict[str, object]] = []
    for row in rows:
        found = existing.get((units[row.unit_path].id, row.room))
        if found is None:
            new.append(row)
        elif (found.floor, found.area) != (row.floor, row.area):
            changed.append({"id": found.id, "floor": row.floor, "area": row.area})
        else:
            summary.unchanged_households += 1
    # A unit's columns are the same for all its households; the rows' dicts are made a batch at a
    # time, so that a city's file does not hold 120,000 of them at once.
    columns = {path: {"unit_id": unit.id, **_ancestor_values(unit)} for path, unit in units.items()}
    for done, batch in enumerate(_chunks(new, HOUSEHOLDS_PER_BATCH), start=1):
        await session.execute(insert(Household), [{"room": r.room, "floor": r.floor, "area": r.area, **columns[r.unit_path]} for r in batch])
        if progress is not None:
            progress(min(done * HOUSEHOLDS_PER_BATCH, len(new)), len(new))
    if new:
        summary.created[PlaceKind.household] = len(new)
    if changed:
        await session.execute(update(Household), changed)
        summary.updated_households = len(changed)


async def _households_of_units(session: AsyncSession, unit_ids: list[int]) -> dict[tuple[int, str], StoredHousehold]:
    """The households already in these units, by (unit id, room)."""
    found: dict[tuple[int, str], StoredHousehold] = {}
    for chunk in _chunks(unit_ids):
        rows = await session.execute(
            select(Household.unit_id, Household.room, Household.id, Household.floor, Household.area).where(Household.unit_id.in_(chunk))
        )
        found.update(((unit_id, room), StoredHousehold(household_id, floor, area)) for unit_id, room, household_id, floor, area in rows)
    return found


def _chunks(items: list[T], size: int = IDS_PER_QUERY) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def list_places(session: AsyncSession) -> list[PlaceNode]:
    """Every place, parents before children, in a stable order."""
    order = {kind: index for index, kind in enumerate(TREE_LEVELS)}
    places = sorted(await session.scalars(select(Place)), key=lambda p: (order[p.kind], p.id))
    nodes = [PlaceNode(p.kind, p.id, p.name, p.parent_id) for p in places]
    for household in await session.scalars(select(Household).order_by(Household.id)):
        nodes.append(PlaceNode(PlaceKind.household, household.id, household.room, household.unit_id, household.floor, household.area))
    return nodes


def kind_name(kind: PlaceKind) -> Term:
    """A kind's name as people read it ("小区", "compound"), translated where the message is."""
    return Term(KIND_NAMES[kind])


def no_such_place(kind: PlaceKind, place_id: int) -> DomainError:
    return DomainError(NO_SUCH_PLACE, kind=kind_name(kind), id=place_id)


async def get_place(session: AsyncSession, place_id: int, kind: PlaceKind | None = None) -> Place | None:
    """The place with this id (and of this kind, when given)."""
    place = await session.get(Place, place_id) if 0 < place_id <= MAX_ID else None
    return place if place is not None and (kind is None or place.kind is kind) else None


async def get_household(session: AsyncSession, household_id: int) -> Household | None:
    return await session.get(Household, household_id) if 0 < household_id <= MAX_ID else None


async def place_exists(session: AsyncSession, kind: PlaceKind, place_id: int) -> bool:
    if kind is PlaceKind.household:
        return await get_household(session, place_id) is not None
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
    # On the tables, not the mapped classes: a statement of plain columns skips the ORM's
    # per-execution set-up (about a third of a statement's time on SQLite).
    households = Household.__table__.c
    compound, building, unit = (Place.__table__.alias(name) for name in ("compound", "building", "unit"))
    return (
        select(households.id, compound.c.name, building.c.name, unit.c.name, households.room, households.floor)
        .join(unit, households.unit_id == unit.c.id)
        .join(building, households.building_id == building.c.id)
        .join(compound, households.compound_id == compound.c.id)
    )


# The columns of a HouseholdAddress, joined through the household's ancestor ids. Built once:
# making the aliases costs milliseconds, and every /me needs it.
ADDRESS_QUERY = _address_query()


async def household_addresses(session: AsyncSession, household_ids: list[int]) -> dict[int, HouseholdAddress]:
    """Addresses of several households in one query."""
    if not household_ids:
        return {}
    rows = await session.execute(ADDRESS_QUERY.where(Household.__table__.c.id.in_(household_ids)))
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
    place = await get_place(session, place_id)
    if place is None:
        return None
    names = [place.name]
    if place.kind in (PlaceKind.building, PlaceKind.unit):
        ancestors = [place.compound_id] + ([place.building_id] if place.kind is PlaceKind.unit else [])
        rows = dict((await session.execute(select(Place.id, Place.name).where(Place.id.in_(ancestors)))).all())
        names = [rows[i] for i in ancestors if i in rows] + names
    return " ".join(names)
