"""Invite codes: a building's code (posted in the stairwell, many uses, makes members) and a
household's one-time code (delivered on paper, makes a verified member)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import audit, people, places
from bot.services.errors import DomainError
from storage.models import InviteCode, InviteKind, PlaceKind, utcnow

# No 0/O, 1/I/L: codes are read off paper and typed by elderly residents.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
UNKNOWN_CODE = N_("The code {code} is not known. Please check it and try again.")
USED_CODE = N_("The code {code} has already been used. Please ask your grid worker for a new one.")


class InviteError(DomainError):
    pass


@dataclass(frozen=True)
class BuildingInvite:
    building_id: int
    compound: str
    building: str


def normalize_code(text: str) -> str:
    return "".join(text.split()).upper()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def building_code(session: AsyncSession, building_id: int, *, actor: audit.Actor) -> str:
    """The building's invite code; the same code every time, so printed posters stay valid."""
    if not await places.place_exists(session, PlaceKind.building, building_id):
        raise InviteError(places.NO_SUCH_PLACE, kind="building", id=building_id)
    existing = await session.scalar(
        select(InviteCode.code).where(InviteCode.kind == InviteKind.building, InviteCode.target_id == building_id)
    )
    if existing:
        return existing
    return await _create(session, InviteKind.building, building_id, actor)


async def household_code(session: AsyncSession, household_id: int, *, actor: audit.Actor) -> str:
    """A new one-time code for the household."""
    if not await places.place_exists(session, PlaceKind.household, household_id):
        raise InviteError(places.NO_SUCH_PLACE, kind="household", id=household_id)
    return await _create(session, InviteKind.household, household_id, actor)


async def _create(session: AsyncSession, kind: InviteKind, target_id: int, actor: audit.Actor) -> str:
    code = _new_code()
    while await session.scalar(select(InviteCode.id).where(InviteCode.code == code)):
        code = _new_code()
    session.add(InviteCode(code=code, kind=kind, target_id=target_id))
    await audit.record(session, actor, "create_invite", f"{kind.value}:{target_id}")
    return code


async def redeem(session: AsyncSession, code_text: str, person_id: int) -> BuildingInvite | people.JoinResult:
    """A building code tells which building to pick a room in; a household code joins at once, verified."""
    code = normalize_code(code_text)
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code)) if code else None
    if invite is None:
        raise InviteError(UNKNOWN_CODE, code=code_text.strip()[:40])
    if invite.kind is InviteKind.building:
        label = await places.building_label(session, invite.target_id)
        if label is None:
            raise InviteError(UNKNOWN_CODE, code=code)
        return BuildingInvite(invite.target_id, *label)
    if invite.used_by is not None and invite.used_by != person_id:
        raise InviteError(USED_CODE, code=code)
    # The conditional update makes the claim atomic: of two people redeeming at once, one wins.
    claimed = await session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, (InviteCode.used_by.is_(None)) | (InviteCode.used_by == person_id))
        .values(used_by=person_id, used_at=utcnow())
    )
    if not claimed.rowcount:
        raise InviteError(USED_CODE, code=code)
    return await people.join_household(session, person_id, invite.target_id, verified=True)
