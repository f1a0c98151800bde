"""Invite codes: a building's code (posted in the stairwell, many uses, makes members) and a
household's one-time code (delivered on paper, makes a verified member)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import access, audit, people, places
from bot.services.errors import DomainError
from bot.services.text import compact
from storage.models import FailedCodeAttempt, InviteCode, InviteKind, PlaceKind, utcnow

log = logging.getLogger(__name__)

# No 0/O, 1/I/L: codes are read off paper and typed by elderly residents.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
UNKNOWN_CODE = N_("The code {code} is not known. Please check it and try again.")
USED_CODE = N_("The code {code} has already been used. Please ask your grid worker for a new one.")
TOO_MANY_ATTEMPTS = N_("Too many codes did not match. Please wait {minutes} minutes, then try again, or ask your grid worker for help.")
# The code space (31^8) makes guessing hopeless; the limit keeps it visible and slow all the same.
MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPTS_WINDOW = timedelta(minutes=10)


class InviteError(DomainError):
    pass


@dataclass(frozen=True)
class BuildingInvite:
    building_id: int
    compound: str
    building: str


def normalize_code(text: str) -> str:
    """A code as typed, with a Chinese input method or in lower case, made comparable."""
    return compact(text).upper()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def building_code(session: AsyncSession, building_id: int, *, actor: audit.Actor) -> str:
    """The building's invite code; the same code every time, so printed posters stay valid."""
    building = await places.get_place(session, building_id, PlaceKind.building)
    if building is None:
        raise places.no_such_place(PlaceKind.building, building_id)
    await access.require(session, actor, access.Permission.print_invites, building)
    existing = await session.scalar(select(InviteCode.code).where(InviteCode.kind == InviteKind.building, InviteCode.place_id == building_id))
    if existing:
        return existing
    return await _create(session, InviteCode(kind=InviteKind.building, place_id=building_id), actor)


async def household_code(session: AsyncSession, household_id: int, *, actor: audit.Actor) -> str:
    """A new one-time code for the household."""
    household = await places.get_household(session, household_id)
    if household is None:
        raise places.no_such_place(PlaceKind.household, household_id)
    await access.require(session, actor, access.Permission.print_invites, household)
    return await _create(session, InviteCode(kind=InviteKind.household, household_id=household_id), actor)


async def _create(session: AsyncSession, invite: InviteCode, actor: audit.Actor) -> str:
    code = _new_code()
    while await session.scalar(select(InviteCode.id).where(InviteCode.code == code)):
        code = _new_code()
    invite.code = code
    session.add(invite)
    await audit.record(session, actor, "create_invite", f"{invite.kind.value}:{invite.place_id or invite.household_id}")
    return code


async def refuse_if_guessing(session: AsyncSession, person_id: int) -> None:
    """Slow down whoever types code after code: invite codes here, link codes (bot/services/linking.py) too."""
    since = utcnow() - FAILED_ATTEMPTS_WINDOW
    failures = await session.scalar(
        select(func.count()).where(FailedCodeAttempt.person_id == person_id, FailedCodeAttempt.attempted_at > since)
    )
    if (failures or 0) >= MAX_FAILED_ATTEMPTS:
        log.warning("person %s tried %d wrong invite codes within %s; asked to wait", person_id, failures, FAILED_ATTEMPTS_WINDOW)
        raise InviteError(TOO_MANY_ATTEMPTS, minutes=int(FAILED_ATTEMPTS_WINDOW.total_seconds() // 60))


async def record_failed_attempt(session: AsyncSession, person_id: int) -> None:
    session.add(FailedCodeAttempt(person_id=person_id))
    await session.flush()


async def _unknown(session: AsyncSession, person_id: int, typed: str) -> InviteError:
    await record_failed_attempt(session, person_id)
    return InviteError(UNKNOWN_CODE, code=typed.strip()[:40])


async def redeem(session: AsyncSession, code_text: str, person_id: int) -> BuildingInvite | people.JoinResult:
    """A building code tells which building to pick a room in; a household code joins at once, verified."""
    await refuse_if_guessing(session, person_id)
    code = normalize_code(code_text)
    invite = await session.scalar(select(InviteCode).where(InviteCode.code == code)) if code else None
    if invite is None:
        raise await _unknown(session, person_id, code_text)
    if invite.kind is InviteKind.building:
        assert invite.place_id is not None
        label = await places.building_label(session, invite.place_id)
        if label is None:
            raise await _unknown(session, person_id, code_text)
        return BuildingInvite(invite.place_id, *label)
    assert invite.household_id is not None
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
    return await people.join_household(session, person_id, invite.household_id, verified=True)
