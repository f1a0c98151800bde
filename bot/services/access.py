"""Roles and the one place where permissions are decided.

A role is granted over a place (a community, compound or building) and covers everything
within it. Every service that changes something calls `require` with the acting person, what
they want to do, and where; chat handlers may filter on roles for clarity, never instead.
The command line acts as the operator, who may do everything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.i18n import N_
from bot.replies import L, Msg
from bot.services import audit, places
from bot.services.errors import DomainError
from storage.models import Household, Person, Place, PlaceKind, Role, RoleGrant

SCOPE_KINDS = (PlaceKind.community, PlaceKind.compound, PlaceKind.building)


class Permission(enum.Enum):
    manage_roles = "manage_roles"
    approve_applications = "approve_applications"
    print_invites = "print_invites"
    link_group_chat = "link_group_chat"
    send_notice = "send_notice"
    import_households = "import_households"
    answer_questions = "answer_questions"
    add_faq = "add_faq"
    manage_faq = "manage_faq"
    handle_report = "handle_report"
    oversee_reports = "oversee_reports"
    manage_plans = "manage_plans"
    post_plan_progress = "post_plan_progress"
    see_pledges = "see_pledges"
    create_vote = "create_vote"
    record_paper_vote = "record_paper_vote"
    replace_ballot = "replace_ballot"
    see_turnout = "see_turnout"


# Who may do what, over the places their role covers. One table, read here only.
ALLOWED: dict[Permission, frozenset[Role]] = {
    Permission.manage_roles: frozenset({Role.admin}),
    Permission.approve_applications: frozenset({Role.admin, Role.grid_worker}),
    Permission.print_invites: frozenset({Role.admin, Role.grid_worker}),
    Permission.link_group_chat: frozenset({Role.admin, Role.building_leader}),
    Permission.send_notice: frozenset({Role.admin, Role.grid_worker, Role.volunteer, Role.building_leader}),
    # An import may create districts, which no role covers: the operator's alone for now.
    Permission.import_households: frozenset(),
    # Questions: grid workers answer their grid's queue; admins what is transferred or escalated
    # to them. A grid worker may make an FAQ entry of a good answer; admins manage the FAQ.
    Permission.answer_questions: frozenset({Role.admin, Role.grid_worker}),
    Permission.add_faq: frozenset({Role.admin, Role.grid_worker}),
    Permission.manage_faq: frozenset({Role.admin}),
    # Problem reports: grid workers handle those of their grid, admins every one of their
    # community; overdue reports are escalated (催办) to those who oversee them.
    Permission.handle_report: frozenset({Role.admin, Role.grid_worker}),
    Permission.oversee_reports: frozenset({Role.admin}),
    # Plans: admins draft, publish and adopt; grid workers post works progress too; building
    # leaders follow their building's pledges.
    Permission.manage_plans: frozenset({Role.admin}),
    Permission.post_plan_progress: frozenset({Role.admin, Role.grid_worker}),
    Permission.see_pledges: frozenset({Role.admin, Role.building_leader}),
    # Votes: admins create them; add Role.building_leader here to let leaders put votes to their
    # own buildings (a leader's grant covers their building only).
    Permission.create_vote: frozenset({Role.admin}),
    Permission.record_paper_vote: frozenset({Role.admin, Role.building_leader}),
    # Overwriting a household's vote of the other channel (paper over online), logged.
    Permission.replace_ballot: frozenset({Role.admin}),
    Permission.see_turnout: frozenset({Role.admin, Role.grid_worker, Role.building_leader}),
}

# How each role is named to people, translated where it is shown.
ROLE_NAMES: dict[Role, Msg] = {
    Role.admin: L("community administrator"),
    Role.grid_worker: L("grid worker"),
    Role.volunteer: L("party-member volunteer"),
    Role.building_leader: L("building leader"),
}

NOT_ALLOWED = N_("You are not allowed to do that here. Ask your community office if you think you should be.")
BAD_SCOPE = N_("A scope looks like community:ID, compound:ID or building:ID, not {text}.")


class PermissionDenied(DomainError):
    pass


@dataclass(frozen=True)
class Scope:
    """A place a role is granted over, as typed on the command line: `community:3`."""

    kind: PlaceKind
    id: int

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, number = text.partition(":")
        try:
            scope = cls(PlaceKind(kind.strip()), int(number))
        except ValueError:
            raise DomainError(BAD_SCOPE, text=text) from None
        if scope.kind not in SCOPE_KINDS or scope.id <= 0:
            raise DomainError(BAD_SCOPE, text=text)
        return scope

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class GrantView:
    role: Role
    place_id: int
    place_kind: PlaceKind
    place_name: str


def covering_ids(place: Place | Household) -> list[int]:
    """The place itself and every place above it: the grants that would cover it."""
    ids = [level_id for level in SCOPE_KINDS if (level_id := place.ancestor_id(level)) is not None]
    return ids + [place.id] if isinstance(place, Place) else ids


async def is_allowed(session: AsyncSession, actor: audit.Actor, permission: Permission, where: Place | Household | None) -> bool:
    """`where` None: across the whole hierarchy, which only the operator covers."""
    if actor.is_operator:
        return True
    if actor.person_id is None or where is None:
        return False
    return await _holds_any(session, actor.person_id, ALLOWED[permission], where)


async def holds_role(session: AsyncSession, actor: audit.Actor, role: Role, where: Place | Household) -> bool:
    """Whether the actor holds this very role over the place (a volunteer's notice carries the
    party-member badge): a fact about them, not a permission."""
    return actor.person_id is not None and await _holds_any(session, actor.person_id, frozenset({role}), where)


async def _holds_any(session: AsyncSession, person_id: int, roles: frozenset[Role], where: Place | Household) -> bool:
    query = select(exists().where(RoleGrant.person_id == person_id, RoleGrant.role.in_(roles), RoleGrant.place_id.in_(covering_ids(where))))
    return bool(await session.scalar(query))


def allowed_places(actor: audit.Actor, permission: Permission, place: type[Place] | Any = Place) -> ColumnElement[bool]:
    """The condition "the actor may do this at that place" on a places table (or an alias of
    it), for lists: the applications an approver may decide, the grants an admin may revoke."""
    if actor.is_operator:
        return true()
    if actor.person_id is None:
        return false()
    grant = aliased(RoleGrant)  # the outer query may list role grants itself
    return exists().where(
        grant.person_id == actor.person_id,
        grant.role.in_(ALLOWED[permission]),
        or_(grant.place_id == place.id, *(grant.place_id == getattr(place, kind.value + "_id") for kind in SCOPE_KINDS)),
    )


async def require(session: AsyncSession, actor: audit.Actor, permission: Permission, where: Place | Household | None) -> None:
    """Refuse, with an error the person can read, what the actor's roles do not allow there."""
    if not await is_allowed(session, actor, permission, where):
        raise PermissionDenied(NOT_ALLOWED)


async def scope_place(session: AsyncSession, scope: Scope) -> Place:
    place = await places.get_place(session, scope.id, scope.kind)
    if place is None:
        raise places.no_such_place(scope.kind, scope.id)
    return place


async def grant_role(session: AsyncSession, person_id: int, role: Role, scope: Scope, *, actor: audit.Actor) -> bool:
    """Grant a role; False when the person had it already."""
    place = await scope_place(session, scope)
    await require(session, actor, Permission.manage_roles, place)
    return await add_grant(session, person_id, role, place, actor=actor)


async def add_grant(session: AsyncSession, person_id: int, role: Role, place: Place, *, actor: audit.Actor) -> bool:
    """Write a grant the caller has already been allowed to make (see grant_role, and the
    approval of an application); False when the person had it already."""
    existing = await session.scalar(
        select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.place_id == place.id)
    )
    if existing is not None:
        return False
    session.add(RoleGrant(person_id=person_id, role=role, place_id=place.id))
    await audit.record(session, actor, "grant_role", f"person:{person_id}", role=role.value, scope=f"{place.kind.value}:{place.id}")
    return True


async def revoke_role(session: AsyncSession, person_id: int, role: Role, scope: Scope, *, actor: audit.Actor) -> bool:
    """Revoke a role; False when the person did not have it."""
    place = await scope_place(session, scope)
    await require(session, actor, Permission.manage_roles, place)
    result = await session.execute(
        delete(RoleGrant).where(RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.place_id == place.id)
    )
    if not result.rowcount:
        return False
    await audit.record(session, actor, "revoke_role", f"person:{person_id}", role=role.value, scope=str(scope))
    return True


@dataclass(frozen=True)
class GrantRow:
    id: int
    person_name: str
    role: Role
    place_name: str


async def grants_within(session: AsyncSession, actor: audit.Actor, limit: int = 50) -> list[GrantRow]:
    """The grants this actor may revoke (over places their admin role covers)."""
    rows = await session.execute(
        select(RoleGrant.id, Person.display_name, RoleGrant.role, Place.name)
        .join(Person, Person.id == RoleGrant.person_id)
        .join(Place, Place.id == RoleGrant.place_id)
        .where(allowed_places(actor, Permission.manage_roles, Place))
        .order_by(Place.id, RoleGrant.role, RoleGrant.id)
        .limit(limit)
    )
    return [GrantRow(*row) for row in rows]


async def revoke_grant(session: AsyncSession, actor: audit.Actor, grant_id: int) -> GrantRow | None:
    """Revoke one grant by id; None when it no longer exists."""
    grant = await session.get(RoleGrant, grant_id)
    place = await session.get(Place, grant.place_id) if grant else None
    if grant is None or place is None:
        return None
    await require(session, actor, Permission.manage_roles, place)
    person = await session.get(Person, grant.person_id)
    row = GrantRow(grant.id, person.display_name if person else "", grant.role, place.name)
    await session.delete(grant)
    await audit.record(session, actor, "revoke_role", f"person:{grant.person_id}", role=grant.role.value, scope=f"{place.kind.value}:{place.id}")
    return row


# Built once, on the tables (see people.PERSON_BY_IDENTITY and places.ADDRESS_QUERY): /me and
# /help ask it every time.
_grants, _places = RoleGrant.__table__, Place.__table__
_ROLES_OF = (
    select(_grants.c.role, _places.c.id, _places.c.kind, _places.c.name)
    .join(_places, _grants.c.place_id == _places.c.id)
    .where(_grants.c.person_id == bindparam("person_id"))
    .order_by(_grants.c.id)
)


async def roles_of(session: AsyncSession, person_id: int) -> list[GrantView]:
    rows = await session.execute(_ROLES_OF, {"person_id": person_id})
    return [GrantView(role, place_id, kind, name) for role, place_id, kind, name in rows]
