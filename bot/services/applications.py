"""Residents volunteer as building leaders (楼栋长) or party-member volunteers (党员志愿者);
the community's admins and grid workers over that place approve (the role is granted with the
place as its scope) or reject with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.delivery import outbox
from bot.i18n import N_
from bot.replies import L, Msg, Reply
from bot.services import access, audit, places
from bot.services.errors import DomainError
from storage.models import ApplicationStatus, DeliveryPriority, Household, Membership, Person, Place, PlaceKind, Role, RoleApplication, RoleGrant, utcnow

NOT_A_RESIDENT = N_("Please join your household first (send /start with the code from your stairwell); then you can sign up.")
NOT_YOUR_PLACE = N_("You can only sign up for your own building, compound or community.")
ALREADY_APPLIED = N_("You have already signed up for this; the community office will answer soon.")
ALREADY_HAS_ROLE = N_("You already have this role here.")
NO_SUCH_APPLICATION = N_("This application no longer waits for a decision.")
MAX_REASON_LENGTH = 500
# What each role may serve: a building leader their building; a volunteer up to the community.
SERVES = {
    Role.building_leader: (PlaceKind.building,),
    Role.volunteer: (PlaceKind.building, PlaceKind.compound, PlaceKind.community),
}


async def _tell(session: AsyncSession, people: Any, text: Msg, application_id: int) -> None:
    """A message through the outbox, in this transaction: saved together with the decision."""
    await outbox.enqueue_to_people(session, people, Reply(text), source=f"application:{application_id}", priority=DeliveryPriority.personal)


@dataclass(frozen=True)
class ApplicationView:
    id: int
    person_id: int
    name: str
    role: Role
    place_id: int
    place_name: str
    party_member: bool


async def places_to_serve(session: AsyncSession, person_id: int, role: Role) -> list[Place]:
    """The places the person may sign up for: those their households lie in, at the levels the
    role serves, nearest first."""
    households = list(await session.scalars(select(Household).join(Membership).where(Membership.person_id == person_id)))
    ids: list[int] = []
    for kind in SERVES[role]:
        for household in households:
            place_id = household.ancestor_id(kind)
            if place_id is not None and place_id not in ids:
                ids.append(place_id)
    found = {p.id: p for p in await session.scalars(select(Place).where(Place.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


async def apply(session: AsyncSession, actor: audit.Actor, role: Role, place_id: int, *, party_member: bool = False) -> RoleApplication:
    assert actor.person_id is not None
    allowed = await places_to_serve(session, actor.person_id, role)
    if not allowed:
        raise DomainError(NOT_A_RESIDENT)
    place = next((p for p in allowed if p.id == place_id), None)
    if place is None:
        raise DomainError(NOT_YOUR_PLACE)
    if role in {g.role for g in await access.roles_of(session, actor.person_id) if g.place_id == place.id}:
        raise DomainError(ALREADY_HAS_ROLE)
    application = RoleApplication(person_id=actor.person_id, role=role, place_id=place.id, party_member=party_member)
    try:
        async with session.begin_nested():  # the partial unique index refuses a second open one
            session.add(application)
            await session.flush()
    except IntegrityError:
        raise DomainError(ALREADY_APPLIED) from None
    await audit.record(session, actor, "apply_for_role", f"place:{place.id}", role=role.value)
    person = await session.get(Person, actor.person_id)
    approvers = select(RoleGrant.person_id).where(
        RoleGrant.role.in_(access.ALLOWED[access.Permission.approve_applications]), RoleGrant.place_id.in_(access.covering_ids(place))
    )
    text = L("{name} would like to be {role} of {place}. Send /applications to decide.", name=person.display_name if person else "—", role=access.ROLE_NAMES[role], place=place.name)
    await _tell(session, approvers, text, application.id)
    return application


async def pending(session: AsyncSession, actor: audit.Actor, limit: int = 20) -> list[ApplicationView]:
    """Open applications the actor may decide, oldest first."""
    place = aliased(Place)
    rows = await session.execute(
        select(RoleApplication, Person.display_name, place.name)
        .join(Person, Person.id == RoleApplication.person_id)
        .join(place, place.id == RoleApplication.place_id)
        .where(RoleApplication.status == ApplicationStatus.pending, access.allowed_places(actor, access.Permission.approve_applications, place))
        .order_by(RoleApplication.id)
        .limit(limit)
    )
    return [ApplicationView(a.id, a.person_id, name, a.role, a.place_id, place_name, a.party_member) for a, name, place_name in rows]


async def decide(session: AsyncSession, actor: audit.Actor, application_id: int, *, approve: bool, reason: str = "") -> RoleApplication:
    """Approve (grant the role) or reject; the application must still be pending."""
    application = await session.get(RoleApplication, application_id)
    if application is None or application.status is not ApplicationStatus.pending:
        raise DomainError(NO_SUCH_APPLICATION)
    place = await places.get_place(session, application.place_id)
    assert place is not None
    await access.require(session, actor, access.Permission.approve_applications, place)
    status = ApplicationStatus.approved if approve else ApplicationStatus.rejected
    # Conditional, so that of two approvers deciding at once only one decides.
    decided = await session.execute(
        update(RoleApplication)
        .where(RoleApplication.id == application.id, RoleApplication.status == ApplicationStatus.pending)
        .values(status=status, decided_by=actor.person_id, decided_at=utcnow(), reason=reason[:MAX_REASON_LENGTH])
        .execution_options(synchronize_session="fetch")
    )
    if not decided.rowcount:
        raise DomainError(NO_SUCH_APPLICATION)
    if approve:
        await access.add_grant(session, application.person_id, application.role, place, actor=actor)
        text = L("Your application as {role} of {place} was approved. Send /help to see what you can do now.", role=access.ROLE_NAMES[application.role], place=place.name)
    else:
        text = L("Your application as {role} of {place} was not approved. The reason: {reason}", role=access.ROLE_NAMES[application.role], place=place.name, reason=reason or "—")
    await _tell(session, select(Person.id).where(Person.id == application.person_id), text, application.id)
    await audit.record(session, actor, "approve_application" if approve else "reject_application", f"application:{application.id}")
    return application
