"""Renovation votes (方案共定): creating them, casting ballots online and on paper, turnout,
and the tally in SQL.

One household has one vote, whichever member casts it: a ballot is written with an upsert on
the unique (vote, household) constraint, so two members at the same moment, or one member
tapping ten times, leave exactly one ballot, and the last choice counts. A household's vote is
cast by a verified member who is not a tenant (unless the vote lets tenants vote) and, when the
household named a representative, by the representative only: the Civil Code counts one owner
per exclusive unit. Tenure not recorded counts as an owner's: verification is by the paper
code the community office hands to the owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.replies import L, Text
from bot.services import access, audit, places, plan_links
from bot.services.errors import DomainError, Term
from bot.services.vote_counting import (
    Choice,
    Counts,
    DecisionResult,
    DecisionTally,
    ItemCount,
    Rule,
    decide,
    ranking,
    rule_named,
)
from storage.db import upsert_insert
from storage.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Household,
    Membership,
    Place,
    PlaceKind,
    RoleGrant,
    Tenure,
    Vote,
    VoteKind,
    VoteOption,
    utcnow,
)

VOTE_SCOPES = (PlaceKind.compound, PlaceKind.building, PlaceKind.unit)
MAX_OPTIONS = 20  # a numbered menu on WeChat stays readable; Telegram shows one button each
MAX_TITLE_LENGTH = 200
CHOICE_LABELS: dict[Choice, str] = {Choice.agree: N_("Agree"), Choice.disagree: N_("Disagree"), Choice.abstain: N_("Abstain")}

NO_SUCH_VOTE = N_("This vote does not exist, or is not one you can take part in.")
NOT_OPEN_YET = N_("This vote opens at {when}.")
CLOSED = N_("This vote has closed; nothing was changed.")
NOT_A_VOTER = N_("Only a verified owner of a household in {place} votes in this vote (one vote per household).")
NOT_REPRESENTATIVE = N_("Your household named a representative for votes; only they vote for it.")
PAPER_ALREADY = N_("A paper vote was recorded for this household; it cannot also vote online. Ask your community office if that is wrong.")
ONLINE_ALREADY = N_("This household has voted online already. Only a community administrator can replace that vote.")
BAD_CHOICE = N_("That choice is not one of this vote's options; nothing was changed.")
TOO_MANY = N_("Choose at most {count} items.")
NONE_CHOSEN = N_("Choose at least one item.")
NOT_IN_SCOPE = N_("That household is not within this vote.")


@dataclass(frozen=True)
class VoteSpec:
    """A vote as its creator describes it, before it is saved."""

    kind: VoteKind
    title: str
    place_id: int
    opens_at: datetime
    closes_at: datetime
    explanation: str = ""
    items: tuple[str, ...] = ()  # a consultation's; a decision's options are 同意 / 不同意 / 弃权
    plan_item_ids: tuple[int, ...] = ()  # items of a plan, by id: their titles follow `items`
    max_choices: int = 1
    rule: str = "civil-code-major"
    participation: str | None = None
    consent: str | None = None
    tenants_vote: bool = False
    live_results: bool = False


def option_text(option: VoteOption) -> Text:
    """A decision's options are words the reader reads in their language; items are as typed."""
    return L(CHOICE_LABELS[Choice(option.choice)]) if option.choice else option.label


def vote_rule(vote: Vote) -> Rule:
    return rule_named(vote.rule, vote.participation, vote.consent)


async def create(session: AsyncSession, actor: audit.Actor, spec: VoteSpec) -> Vote:
    place = await session.get(Place, spec.place_id)
    if place is None or place.kind not in VOTE_SCOPES:
        raise DomainError(N_("A vote is put to a compound, a building or a unit; {id} is none of these."), id=str(spec.place_id))
    await access.require(session, actor, access.Permission.create_vote, place)
    rule = rule_named(spec.rule, spec.participation, spec.consent)
    title = spec.title.strip()
    if not title or len(title) > MAX_TITLE_LENGTH:
        raise DomainError(N_("A vote needs a title of at most {limit} characters."), limit=MAX_TITLE_LENGTH)
    if spec.closes_at <= spec.opens_at or spec.closes_at <= utcnow():
        raise DomainError(N_("A vote must close after it opens, and in the future."))
    from_plan = await plan_links.items_for_vote(session, spec.plan_item_ids) if spec.plan_item_ids else ()
    items = tuple(item.strip() for item in (*spec.items, *from_plan) if item.strip())
    if spec.kind is VoteKind.consultation:
        if not 2 <= len(items) <= MAX_OPTIONS or len(set(items)) != len(items):
            raise DomainError(N_("A consultation needs 2 to {limit} different items."), limit=MAX_OPTIONS)
        if not 1 <= spec.max_choices <= len(items):
            raise DomainError(N_("Residents can approve 1 to {count} items, not {value}."), count=len(items), value=spec.max_choices)
    vote = Vote(
        kind=spec.kind, title=title, explanation=spec.explanation.strip(), place_id=place.id, created_by=actor.person_id,
        rule=rule.name, participation=str(rule.participation), consent=str(rule.consent),
        max_choices=spec.max_choices if spec.kind is VoteKind.consultation else 1,
        tenants_vote=spec.tenants_vote, live_results=spec.live_results, opens_at=spec.opens_at, closes_at=spec.closes_at,
    )
    session.add(vote)
    await session.flush()
    if spec.kind is VoteKind.decision:
        options = [VoteOption(vote_id=vote.id, position=i, label=CHOICE_LABELS[c], choice=c.value) for i, c in enumerate(Choice, start=1)]
    else:
        options = [VoteOption(vote_id=vote.id, position=i, label=item) for i, item in enumerate(items, start=1)]
    session.add_all(options)
    await session.flush()
    await audit.record(session, actor, "create_vote", f"vote:{vote.id}", kind=spec.kind.value, place=f"{place.kind.value}:{place.id}", rule=rule.name)
    return vote


async def options_of(session: AsyncSession, vote_id: int) -> list[VoteOption]:
    return list(await session.scalars(select(VoteOption).where(VoteOption.vote_id == vote_id).order_by(VoteOption.position)))


def local_time(moment: datetime, zone: str) -> str:
    """A time as residents read it, in the deployment's zone (GONGJIAN_TIMEZONE)."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def is_open(vote: Vote, now: datetime) -> bool:
    return vote.closed_at is None and vote.opens_at <= now < vote.closes_at


# --- who votes ------------------------------------------------------------------------------


_representative = Membership.__table__.alias("representative")


def voter_condition(vote: Vote) -> Any:
    """On memberships: the members who may cast their household's vote in this vote."""
    represented = exists().where(_representative.c.household_id == Membership.household_id, _representative.c.represents)
    tenure_ok = Membership.tenure.is_distinct_from(Tenure.tenant) if not vote.tenants_vote else true()
    return and_(Membership.verified, tenure_ok, or_(Membership.represents, ~represented))


def voters(vote: Vote, place: Place) -> Select[tuple[int]]:
    """Everyone who may cast a household's vote in this vote."""
    return (
        select(Membership.person_id)
        .join(Household, Household.id == Membership.household_id)
        .where(places.within(place), voter_condition(vote))
    )


@dataclass(frozen=True)
class OpenVote:
    vote: Vote
    household_id: int
    place_name: str


async def open_votes_of(session: AsyncSession, person_id: int, now: datetime | None = None) -> list[OpenVote]:
    """The open votes in which this person casts a household's vote."""
    now = now or utcnow()
    households = list(await session.scalars(select(Membership.household_id).where(Membership.person_id == person_id, Membership.verified)))
    if not households:
        return []
    found: list[OpenVote] = []
    homes = list(await session.scalars(select(Household).where(Household.id.in_(households))))
    ancestor_ids = {place_id for home in homes for kind in VOTE_SCOPES if (place_id := home.ancestor_id(kind)) is not None}
    candidates = await session.scalars(
        select(Vote).where(Vote.place_id.in_(ancestor_ids), Vote.closed_at.is_(None), Vote.opens_at <= now, Vote.closes_at > now).order_by(Vote.closes_at)
    )
    for vote in candidates:
        place = await session.get(Place, vote.place_id)
        assert place is not None
        for home in homes:
            if places.contains(place, home) and await _may_vote(session, vote, person_id, home.id):
                found.append(OpenVote(vote, home.id, await places.place_name(session, place.id) or place.name))
                break
    return found


async def _may_vote(session: AsyncSession, vote: Vote, person_id: int, household_id: int) -> bool:
    query = select(exists().where(Membership.person_id == person_id, Membership.household_id == household_id, voter_condition(vote)))
    return bool(await session.scalar(query))


async def _vote_for(session: AsyncSession, vote_id: int, now: datetime) -> tuple[Vote, Place]:
    vote = await session.get(Vote, vote_id)
    place = await session.get(Place, vote.place_id) if vote else None
    if vote is None or place is None:
        raise DomainError(NO_SUCH_VOTE)
    if vote.closed_at is not None or now >= vote.closes_at:
        raise DomainError(CLOSED)
    if now < vote.opens_at:
        raise DomainError(NOT_OPEN_YET, when=vote.opens_at.isoformat(sep=" ", timespec="minutes"))
    return vote, place


async def _checked_options(session: AsyncSession, vote: Vote, option_ids: Sequence[int]) -> list[VoteOption]:
    chosen = set(option_ids)
    options = [o for o in await options_of(session, vote.id) if o.id in chosen]
    if len(options) != len(chosen):
        raise DomainError(BAD_CHOICE)
    if not options:
        raise DomainError(NONE_CHOSEN)
    if len(options) > vote.max_choices:
        raise DomainError(TOO_MANY, count=vote.max_choices)
    return options


# --- casting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    vote: Vote
    household_id: int
    choices: tuple[Text, ...]
    cast_at: datetime
    changed: bool  # the household had voted before: this replaced it


async def cast(session: AsyncSession, person_id: int, vote_id: int, household_id: int, option_ids: Sequence[int], now: datetime | None = None) -> Receipt:
    """A member's online vote for their household; everything checked again, since the ids come
    from a button that may be stale or forged."""
    now = now or utcnow()
    vote, place = await _vote_for(session, vote_id, now)
    household = await session.get(Household, household_id)
    if household is None or not places.contains(place, household):
        raise DomainError(NO_SUCH_VOTE)
    if not await _may_vote(session, vote, person_id, household_id):
        if await session.scalar(select(exists().where(Membership.household_id == household_id, Membership.represents, Membership.person_id != person_id))):
            raise DomainError(NOT_REPRESENTATIVE)
        raise DomainError(NOT_A_VOTER, place=await places.place_name(session, place.id) or place.name)
    options = await _checked_options(session, vote, option_ids)
    ballot_id, changed = await _write_ballot(session, vote.id, household_id, BallotChannel.online, now, cast_by=person_id, only_over=BallotChannel.online)
    if ballot_id is None:
        raise DomainError(PAPER_ALREADY)
    await _write_choices(session, ballot_id, options)
    return Receipt(vote, household_id, tuple(option_text(o) for o in options), now, changed)


async def _write_ballot(
    session: AsyncSession, vote_id: int, household_id: int, channel: BallotChannel, now: datetime, *,
    cast_by: int | None = None, recorded_by: int | None = None, photo_file_id: str | None = None, only_over: BallotChannel | None,
) -> tuple[int | None, bool]:
    """Insert the household's ballot, or update the one it has, in one statement on the unique
    (vote, household): racing transactions queue on that row, so one ballot remains. An existing
    ballot of another channel than `only_over` is left alone (None is returned); `only_over`
    None overwrites whatever is there (an admin's replacement). Returns the ballot's id and
    whether one existed."""
    existed = await session.scalar(select(exists().where(Ballot.vote_id == vote_id, Ballot.household_id == household_id)))
    dialect_insert = upsert_insert(session)
    values = {"channel": channel, "cast_by": cast_by, "recorded_by": recorded_by, "photo_file_id": photo_file_id, "cast_at": now}
    statement = dialect_insert(Ballot).values(vote_id=vote_id, household_id=household_id, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[Ballot.vote_id, Ballot.household_id],
        set_=values,
        where=(Ballot.channel == only_over) if only_over is not None else None,
    ).returning(Ballot.id)
    ballot_id = await session.scalar(statement)
    return ballot_id, bool(existed)


async def _write_choices(session: AsyncSession, ballot_id: int, options: Sequence[VoteOption]) -> None:
    await session.execute(delete(BallotChoice).where(BallotChoice.ballot_id == ballot_id))
    await session.execute(insert(BallotChoice), [{"ballot_id": ballot_id, "option_id": o.id} for o in options])


async def current_choices(session: AsyncSession, vote_id: int, household_id: int) -> tuple[BallotChannel | None, list[int]]:
    """The household's ballot in this vote: its channel and chosen options (None, [] if none)."""
    ballot = await session.scalar(select(Ballot).where(Ballot.vote_id == vote_id, Ballot.household_id == household_id))
    if ballot is None:
        return None, []
    chosen = await session.scalars(select(BallotChoice.option_id).where(BallotChoice.ballot_id == ballot.id))
    return ballot.channel, list(chosen)


async def record_paper(
    session: AsyncSession, actor: audit.Actor, vote_id: int, household_id: int, option_ids: Sequence[int], photo_file_id: str | None,
    *, replace: bool = False, now: datetime | None = None,
) -> Receipt:
    """A building leader records a household's signed paper form (with its photo). An online
    vote already cast is kept, unless an admin replaces it (`replace`), which is logged."""
    now = now or utcnow()
    vote, place = await _vote_for(session, vote_id, now)
    household = await session.get(Household, household_id)
    if household is None or not places.contains(place, household):
        raise DomainError(NOT_IN_SCOPE)
    await access.require(session, actor, access.Permission.record_paper_vote, household)
    if replace:
        await access.require(session, actor, access.Permission.replace_ballot, household)
    options = await _checked_options(session, vote, option_ids)
    before = await current_choices(session, vote.id, household_id)
    ballot_id, changed = await _write_ballot(
        session, vote.id, household_id, BallotChannel.paper, now, recorded_by=actor.person_id, photo_file_id=photo_file_id,
        only_over=None if replace else BallotChannel.paper,
    )
    if ballot_id is None:
        raise DomainError(ONLINE_ALREADY)
    await _write_choices(session, ballot_id, options)
    action = "replace_ballot" if replace and before[0] is BallotChannel.online else "record_paper_vote"
    await audit.record(
        session, actor, action, f"vote:{vote.id}", household=household_id, options=[o.id for o in options],
        previous_channel=before[0].value if before[0] else None, previous_options=before[1],
    )
    return Receipt(vote, household_id, tuple(option_text(o) for o in options), now, changed)


# --- counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turnout:
    eligible: Counts
    voted: Counts
    paper: int


async def _eligible(session: AsyncSession, place: Place) -> Counts:
    households, area = (await session.execute(select(func.count(), func.coalesce(func.sum(Household.area), 0)).where(places.within(place)))).one()
    return Counts(households, Decimal(area))


async def _voted(session: AsyncSession, vote_id: int) -> tuple[Counts, int]:
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Household.area), 0), func.count().filter(Ballot.channel == BallotChannel.paper))
            .select_from(Ballot)
            .join(Household, Household.id == Ballot.household_id)
            .where(Ballot.vote_id == vote_id)
        )
    ).one()
    return Counts(row[0], Decimal(row[1])), row[2]


async def turnout(session: AsyncSession, vote: Vote) -> Turnout:
    place = await session.get(Place, vote.place_id)
    assert place is not None
    voted, paper = await _voted(session, vote.id)
    return Turnout(await _eligible(session, place), voted, paper)


async def _choice_counts(session: AsyncSession, vote_id: int) -> dict[tuple[int, BallotChannel], Counts]:
    """Per option and channel: the households that chose it and their area, summed in SQL."""
    rows = await session.execute(
        select(BallotChoice.option_id, Ballot.channel, func.count(), func.coalesce(func.sum(Household.area), 0))
        .select_from(BallotChoice)
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .join(Household, Household.id == Ballot.household_id)
        .where(Ballot.vote_id == vote_id)
        .group_by(BallotChoice.option_id, Ballot.channel)
    )
    return {(option_id, channel): Counts(households, Decimal(area)) for option_id, channel, households, area in rows}


@dataclass(frozen=True)
class VoteResult:
    vote: Vote
    turnout: Turnout
    options: list[tuple[VoteOption, Counts]]
    decision: DecisionResult | None  # a decision's verdict under its rule
    ranked: list[ItemCount]  # a consultation's items, most approved first


async def result(session: AsyncSession, vote: Vote) -> VoteResult:
    """The count so far (or final, after the close): two aggregate queries for a decision, whose
    ballots choose one option each, so that turnout is the sum over the options; a third for a
    consultation, whose ballots may choose several."""
    place = await session.get(Place, vote.place_id)
    assert place is not None
    by_channel = await _choice_counts(session, vote.id)
    counts: dict[int, Counts] = {}
    for (option_id, _), c in by_channel.items():
        counts[option_id] = counts.get(option_id, Counts()) + c
    options = [(option, counts.get(option.id, Counts())) for option in await options_of(session, vote.id)]
    if vote.kind is VoteKind.decision:
        voted = sum(by_channel.values(), Counts())
        paper = sum(c.households for (_, channel), c in by_channel.items() if channel is BallotChannel.paper)
        seen = Turnout(await _eligible(session, place), voted, paper)
        tally = DecisionTally(seen.eligible, {Choice(option.choice): c for option, c in options if option.choice})
        return VoteResult(vote, seen, options, decide(tally, vote_rule(vote)), [])
    voted, paper = await _voted(session, vote.id)
    seen = Turnout(await _eligible(session, place), voted, paper)
    ranked = ranking(ItemCount(option.id, option.label, c) for option, c in options)
    return VoteResult(vote, seen, options, None, ranked)


async def households_not_voted(session: AsyncSession, actor: audit.Actor, vote: Vote, limit: int = 200) -> list[places.HouseholdAddress]:
    """The households of the vote that have not voted, within the places where the actor may
    see the turnout (a building leader: their building)."""
    place = await session.get(Place, vote.place_id)
    assert place is not None
    ids = list(
        await session.scalars(
            select(Household.id)
            .where(places.within(place), ~exists().where(Ballot.vote_id == vote.id, Ballot.household_id == Household.id))
            .where(_covers_household(actor, access.Permission.see_turnout))
            .order_by(Household.building_id, Household.unit_id, Household.floor, Household.room)
            .limit(limit)
        )
    )
    addresses = await places.household_addresses(session, ids)
    return [addresses[i] for i in ids if i in addresses]


def _covers_household(actor: audit.Actor, permission: access.Permission) -> Any:
    """On households: the actor's roles allow `permission` there (as access.allowed_places
    does for places)."""
    if actor.is_operator:
        return true()
    return exists().where(
        RoleGrant.person_id == actor.person_id,
        RoleGrant.role.in_(access.ALLOWED[permission]),
        or_(*(RoleGrant.place_id == getattr(Household, kind.value + "_id") for kind in access.SCOPE_KINDS)),
    )


async def open_votes_for(session: AsyncSession, actor: audit.Actor, permission: access.Permission, now: datetime | None = None) -> list[Vote]:
    """Open votes with households where the actor's roles allow `permission` (a building leader
    of one building of a compound's vote: their building's part)."""
    now = now or utcnow()
    found = []
    for vote in await session.scalars(select(Vote).where(Vote.closed_at.is_(None), Vote.opens_at <= now, Vote.closes_at > now).order_by(Vote.closes_at)):
        place = await session.get(Place, vote.place_id)
        inside = select(exists().where(places.within(place), _covers_household(actor, permission))) if place else None
        if inside is not None and await session.scalar(inside):
            found.append(vote)
    return found


async def paper_households(session: AsyncSession, actor: audit.Actor, vote: Vote, room: str) -> list[places.HouseholdAddress]:
    """Households of the vote with this room number where the actor records paper votes
    ("301", or with its unit: "1单元 301")."""
    place = await session.get(Place, vote.place_id)
    assert place is not None
    *unit, number = room.split() or [""]
    query = select(Household.id).where(places.within(place), Household.room == number, _covers_household(actor, access.Permission.record_paper_vote))
    ids = list(await session.scalars(query.order_by(Household.id).limit(MAX_OPTIONS)))
    addresses = await places.household_addresses(session, ids)
    found = [addresses[i] for i in ids if i in addresses]
    return [a for a in found if not unit or a.unit == unit[0] or f"{a.building}{a.unit}" == "".join(unit)]


async def creatable_places(session: AsyncSession, actor: audit.Actor) -> list[Place]:
    """Compounds, buildings and units the actor may put a vote to: the places of their grants
    and, when not too many, the places one and two levels inside."""
    granted = list(
        await session.scalars(
            select(Place).join(RoleGrant, RoleGrant.place_id == Place.id)
            .where(RoleGrant.person_id == actor.person_id, RoleGrant.role.in_(access.ALLOWED[access.Permission.create_vote])).distinct().order_by(Place.id)
        )
    )
    found: dict[int, Place] = {}
    for place in granted:
        inside = await session.scalars(
            select(Place).where(or_(Place.id == place.id, places.within(place, Place)), Place.kind.in_(VOTE_SCOPES)).order_by(Place.id).limit(MAX_OPTIONS + 1)
        )
        found.update((p.id, p) for p in inside)
    return list(found.values())[:MAX_OPTIONS]


def kind_term(kind: VoteKind) -> Term:
    return Term({VoteKind.consultation: N_("consultation"), VoteKind.decision: N_("decision")}[kind])


# --- the roll -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollRow:
    """One eligible household and its vote (channel None: not voted)."""

    household: str
    area: Decimal
    choices: tuple[Text, ...]
    channel: BallotChannel | None
    cast_at: datetime | None


async def roll(session: AsyncSession, vote: Vote) -> list[RollRow]:
    """Every household of the vote, with what it chose: what `gongjian vote export` writes."""
    place = await session.get(Place, vote.place_id)
    assert place is not None
    options = {o.id: option_text(o) for o in await options_of(session, vote.id)}
    chosen: dict[int, list[Text]] = {}
    picks = await session.execute(
        select(BallotChoice.ballot_id, BallotChoice.option_id).join(Ballot, Ballot.id == BallotChoice.ballot_id).where(Ballot.vote_id == vote.id)
    )
    for ballot_id, option_id in picks:
        chosen.setdefault(ballot_id, []).append(options[option_id])
    rows = await session.execute(
        places.ADDRESS_QUERY.add_columns(Household.area, Ballot.id, Ballot.channel, Ballot.cast_at)
        .outerjoin(Ballot, and_(Ballot.household_id == Household.id, Ballot.vote_id == vote.id))
        .where(places.within(place))
        .order_by(Household.building_id, Household.unit_id, Household.floor, Household.room)
    )
    return [
        RollRow(f"{compound} {building} {unit} {room}", area, tuple(chosen.get(ballot_id, ())) if ballot_id else (), channel, cast_at)
        for _, compound, building, unit, room, _floor, area, ballot_id, channel, cast_at in rows
    ]
