"""People, their channel identities, languages and household memberships."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import places
from storage.models import ChannelIdentity, Household, Membership, Person, Tenure, reading_locale

TELEGRAM = "telegram"
WECHAT = "wechat"


@dataclass(frozen=True)
class MembershipView:
    address: places.HouseholdAddress
    verified: bool
    tenure: Tenure | None
    represents: bool


@dataclass(frozen=True)
class PersonView:
    """A person as an update sees them: read by one Core query (an ORM entity, with its identity
    map and change tracking, cost more than the query on every update), changed through this
    module's functions."""

    id: int
    display_name: str
    locale: str | None
    client_locale: str | None

    def reading_locale(self, default: str) -> str:
        return reading_locale(self.locale, self.client_locale, default)


_people = Person.__table__.c
_identities = ChannelIdentity.__table__.c
# The statements every update runs are built once, with their values as parameters: building one
# (its clauses, then its cache key) cost more than running it on SQLite.
PERSON_BY_IDENTITY = (
    select(_people.id, _people.display_name, _people.locale, _people.client_locale, _identities.id, _identities.unreachable_at)
    .join_from(Person.__table__, ChannelIdentity.__table__)
    .where(_identities.channel == bindparam("channel"), _identities.external_id == bindparam("external_id"))
)
PERSON_ID = _people.id  # for a caller's PERSON_BY_IDENTITY that joins what else it needs of the person
_PERSON_COLUMNS = len(PERSON_BY_IDENTITY.selected_columns)
_UPDATE_PERSON = update(Person.__table__).where(_people.id == bindparam("person_id"))
_REACHABLE_AGAIN = update(ChannelIdentity.__table__).where(_identities.id == bindparam("identity_id")).values(unreachable_at=None)


async def find_person(session: AsyncSession, channel: str, external_id: str) -> PersonView | None:
    row = (await session.execute(PERSON_BY_IDENTITY, {"channel": channel, "external_id": external_id})).first()
    return PersonView(*row[:4]) if row is not None else None


async def get_or_create_person(
    session: AsyncSession, channel: str, external_id: str, display_name: str = "", client_locale: str | None = None
) -> PersonView:
    """The person behind a channel identity, created on first contact. The name and the language
    the client reports are kept current (written only when they change), and an identity marked
    unreachable (the person had blocked the bot) is tried again: mostly this is the person
    writing to us, and if they still block the bot, the next message marks them again."""
    person, _ = await get_or_create_person_with(session, PERSON_BY_IDENTITY, {}, channel, external_id, display_name, client_locale)
    return person


async def get_or_create_person_with(
    session: AsyncSession, query: Select[Any], parameters: dict[str, Any], channel: str, external_id: str,
    display_name: str = "", client_locale: str | None = None,
) -> tuple[PersonView, tuple[Any, ...] | None]:
    """get_or_create_person, with what else the caller reads of the person in the same statement:
    `query` is PERSON_BY_IDENTITY with columns added (and joined), `parameters` their values.
    Returns the person and the added columns' values (None where the person was created now:
    the caller reads what it needs of them itself)."""
    found = (await session.execute(query, {"channel": channel, "external_id": external_id, **parameters})).first()
    if found is not None:
        person_id, known_name, locale, known_client_locale, identity_id, unreachable_at = found[:_PERSON_COLUMNS]
        person = PersonView(person_id, display_name or known_name, locale, client_locale or known_client_locale)
        if (person.display_name, person.client_locale) != (known_name, known_client_locale):
            await session.execute(_UPDATE_PERSON, {"person_id": person_id, "display_name": person.display_name, "client_locale": person.client_locale})
        if unreachable_at is not None:
            await session.execute(_REACHABLE_AGAIN, {"identity_id": identity_id})
        return person, tuple(found[_PERSON_COLUMNS:])
    created = Person(display_name=display_name, client_locale=client_locale)
    try:
        # A savepoint: two workers may meet the same new person at once; the loser reads the winner's row.
        async with session.begin_nested():
            session.add(created)
            await session.flush()
            session.add(ChannelIdentity(person_id=created.id, channel=channel, external_id=external_id))
            await session.flush()
    except IntegrityError:
        winner = await find_person(session, channel, external_id)
        assert winner is not None
        return winner, None
    return PersonView(created.id, display_name, None, client_locale), None


async def set_locale(session: AsyncSession, person: PersonView, locale: str) -> PersonView:
    """The person with their own choice of language, written."""
    await session.execute(_UPDATE_PERSON, {"person_id": person.id, "locale": locale})
    return replace(person, locale=locale)


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
