"""One person on several channels: a Telegram identity and a WeChat identity of the same resident.

/me shows a short code; typed on the other channel (绑定 CODE, /bind CODE) it merges the person
speaking there into the person who showed it. Households and roles are merged without duplicates
(a household both had joined stays one membership, with the stronger standing of the two), so a
household still has one membership per resident and one vote; everything else that refers to the
merged person (audit entries, redeemed codes, and whatever later tables refer to people) follows.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import Column, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import audit, invites, people
from bot.services.errors import DomainError
from storage.models import Base, ChannelIdentity, Conversation, FailedCodeAttempt, LinkCode, Membership, Person, RoleGrant, utcnow

LINK_CODE_LENGTH = 6  # 31^6 codes; each lives 10 minutes, and guessing is slowed as for invite codes
LINK_CODE_LIFETIME = timedelta(minutes=10)
ALREADY_LINKED = N_("This chat already belongs to that account.")
UNKNOWN_CODE = N_("The link code {code} is not known or has expired. Send /me on your other channel for a new one.")
# Merged here row by row, so that nothing is duplicated.
MERGED = {Membership.__tablename__, RoleGrant.__tablename__, ChannelIdentity.__tablename__}
# Deleted with the merged person: the state of its own chats, its failed code attempts, its code.
DROPPED = {Conversation.__tablename__, FailedCodeAttempt.__tablename__, LinkCode.__tablename__}


class LinkError(DomainError):
    pass


class AlreadyLinked(LinkError):
    pass


async def issue_code(session: AsyncSession, person_id: int) -> str:
    """The person's code: the one they have while it has minutes left (so /me shows the same code
    each time and writes nothing), else a new one, and the older one stops working."""
    current = await session.scalar(_CURRENT_CODE, {"person_id": person_id, "valid_until": utcnow() + REISSUE_WITHIN})
    if current is not None:
        return current
    await session.execute(delete(LinkCode).where(LinkCode.person_id == person_id))
    code = _new_code()
    while await session.scalar(select(LinkCode.person_id).where(LinkCode.code == code)):
        code = _new_code()
    session.add(LinkCode(person_id=person_id, code=code, expires_at=utcnow() + LINK_CODE_LIFETIME))
    await session.flush()
    return code


# A code with less than this left is replaced, so that a person has time to type it.
REISSUE_WITHIN = timedelta(minutes=3)


# Built once, on the table (see people.PERSON_BY_IDENTITY and places.ADDRESS_QUERY): every /me asks it.
_link_codes = LinkCode.__table__.c
_CURRENT_CODE = select(_link_codes.code).where(_link_codes.person_id == bindparam("person_id"), _link_codes.expires_at > bindparam("valid_until"))


def _new_code() -> str:
    return "".join(secrets.choice(invites.CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))


async def link(session: AsyncSession, code_text: str, person: people.PersonView, channel: str) -> people.PersonView:
    """The person who showed the code, now reached through `person`'s identities too; `person`
    is merged into them and no longer exists."""
    await invites.refuse_if_guessing(session, person.id)
    code = invites.normalize_code(code_text)
    row = await session.scalar(select(LinkCode).where(LinkCode.code == code, LinkCode.expires_at > utcnow())) if code else None
    if row is None:
        await invites.record_failed_attempt(session, person.id)
        raise LinkError(UNKNOWN_CODE, code=code_text.strip()[:40])
    if row.person_id == person.id:
        raise AlreadyLinked(ALREADY_LINKED)
    keep = await session.get(Person, row.person_id)
    gone = await session.get(Person, person.id)
    assert keep is not None and gone is not None  # the code's row goes with its person
    await session.delete(row)  # a code links once
    await merge(session, keep, gone)
    await audit.record(session, audit.Actor(channel, keep.id), "link_person", f"person:{person.id}")
    return people.PersonView(keep.id, keep.display_name, keep.locale, keep.client_locale)


async def merge(session: AsyncSession, keep: Person, gone: Person) -> None:
    """Everything of `gone` becomes `keep`'s, without duplicates; then `gone` is deleted."""
    await session.flush()  # gone's pending changes are written before its row goes
    await _merge_memberships(session, keep.id, gone.id)
    await _merge_roles(session, keep.id, gone.id)
    await session.execute(update(ChannelIdentity).where(ChannelIdentity.person_id == gone.id).values(person_id=keep.id))
    for table, column in _other_references():
        await session.execute(update(table).where(column == gone.id).values({column.name: keep.id}))
    keep.display_name = keep.display_name or gone.display_name
    keep.locale = keep.locale or gone.locale
    keep.client_locale = keep.client_locale or gone.client_locale
    keep.phone = keep.phone or gone.phone
    await session.execute(delete(Person).where(Person.id == gone.id))
    session.expunge(gone)


async def _merge_memberships(session: AsyncSession, keep_id: int, gone_id: int) -> None:
    kept = {m.household_id: m for m in await session.scalars(select(Membership).where(Membership.person_id == keep_id))}
    for theirs in list(await session.scalars(select(Membership).where(Membership.person_id == gone_id))):
        ours = kept.get(theirs.household_id)
        if ours is None:
            theirs.person_id = keep_id
            continue
        verified, represents, tenure = ours.verified or theirs.verified, ours.represents or theirs.represents, ours.tenure or theirs.tenure
        await session.delete(theirs)
        await session.flush()  # first, since a household has one representative
        ours.verified, ours.represents, ours.tenure = verified, represents, tenure
    await session.flush()


async def _merge_roles(session: AsyncSession, keep_id: int, gone_id: int) -> None:
    held = {(role, place_id) for role, place_id in await session.execute(select(RoleGrant.role, RoleGrant.place_id).where(RoleGrant.person_id == keep_id))}
    for grant in list(await session.scalars(select(RoleGrant).where(RoleGrant.person_id == gone_id))):
        if (grant.role, grant.place_id) in held:
            await session.delete(grant)
        else:
            grant.person_id = keep_id
    await session.flush()


def _other_references() -> list[tuple[Table, Column[int]]]:
    """Every other column that refers to a person, in any table, present or to come."""
    people_id = Person.__table__.c.id
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        if table.name not in MERGED | DROPPED
        for column in table.columns
        if any(foreign_key.column is people_id for foreign_key in column.foreign_keys)
    ]
