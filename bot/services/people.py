"""People, their channel identities, languages and household memberships."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import places
from storage.models import ChannelIdentity, Household, Membership, Person, Tenure

TELEGRAM = "telegram"
WECHAT = "wechat"


@dataclass(frozen=True)
class MembershipView:
    address: places.HouseholdAddress
    verified: bool
    tenure: Tenure | None
    represents: bool


async def find_person(session: AsyncSession, channel: str, external_id: str) -> Person | None:
    return await session.scalar(
        select(Person).join(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
    )


# The statements every update runs are built once, with their values as parameters: building one
# (its clauses, then its cache key) cost more than running it on SQLite.
_PERSON_BY_IDENTITY = (
    select(Person, ChannelIdentity)
    .join(ChannelIdentity)
    .where(ChannelIdentity.channel == bindparam("channel"), ChannelIdentity.external_id == bindparam("external_id"))
)


async def get_or_create_person(
    session: AsyncSession, channel: str, external_id: str, display_name: str = "", client_locale: str | None = None
) -> Person:
    """The person behind a channel identity, created on first contact. The name and the language
    the client reports are kept current (written only when they change), and an identity marked
    unreachable (the person had blocked the bot) is tried again: mostly this is the person
    writing to us, and if they still block the bot, the next message marks them again."""
    found = (await session.execute(_PERSON_BY_IDENTITY, {"channel": channel, "external_id": external_id})).first()
    if found is not None:
        person, identity = found
        if display_name and person.display_name != display_name:
            person.display_name = display_name
        if client_locale and person.client_locale != client_locale:
            person.client_locale = client_locale
        if identity.unreachable_at is not None:
            identity.unreachable_at = None
        return person
    person = Person(display_name=display_name, client_locale=client_locale)
    try:
        # A savepoint: two workers may meet the same new person at once; the loser reads the winner's row.
        async with session.begin_nested():
            session.add(person)
            await session.flush()
            session.add(ChannelIdentity(person_id=person.id, channel=channel, external_id=external_id))
            await session.flush()
    except IntegrityError:
        found = await find_person(session, channel, external_id)
        assert found is not None
        return found
    return person


async def set_locale(session: AsyncSession, person: Person, locale: str) -> None:
    person.locale = locale
    await session.flush()


@dataclass(frozen=True)
class JoinResult:
    address: places.HouseholdAddress
    verified: bool
    already_member: bool


async def join_household(session: AsyncSession, person_id: int, household_id: int, *, verified: bool) -> JoinResult:
    """Make the person a member of the household; verification is never taken away by joining again."""
    address = await places.household_address(session, household_id)
    if address is None:
        raise LookupError(household_id)
    membership = await session.scalar(
        select(Membership).where(Membership.person_id == person_id, Membership.household_id == household_id)
    )
    already = membership is not None
    if membership is None:
        membership = Membership(person_id=person_id, household_id=household_id, verified=verified)
        session.add(membership)
    elif verified:
        membership.verified = True
    await session.flush()
    return JoinResult(address, membership.verified, already)


_memberships = Membership.__table__
_MEMBERSHIPS = (  # on the tables, as places.ADDRESS_QUERY is
    places.ADDRESS_QUERY.add_columns(_memberships.c.verified, _memberships.c.tenure, _memberships.c.represents)
    .join(_memberships, _memberships.c.household_id == Household.__table__.c.id)
    .where(_memberships.c.person_id == bindparam("person_id"))
    .order_by(_memberships.c.id)
)


async def memberships_of(session: AsyncSession, person_id: int) -> list[MembershipView]:
    """The person's households with their addresses, in one query."""
    rows = await session.execute(_MEMBERSHIPS, {"person_id": person_id})
    return [MembershipView(places.HouseholdAddress(*row[:6]), *row[6:]) for row in rows]
