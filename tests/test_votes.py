"""The votes service on SQLite and PostgreSQL: who may vote, one ballot per household whatever
races, the last choice counts, paper and online votes do not collide, and the tally in SQL
agrees with the counting core."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import sample_households
from bot.services import access, audit, people, places, votes
from bot.services.errors import DomainError
from storage.db import create_engine, create_sessionmaker
from storage.models import AuditEntry, Ballot, BallotChannel, Household, Membership, Place, PlaceKind, Role, Tenure, VoteKind, utcnow


@dataclass
class Community:
    compound_id: int
    buildings: list[int]
    households: dict[str, int]  # "1栋/1单元/301" -> id


async def seed(session: AsyncSession) -> Community:
    await places.import_households(session, sample_households(), actor=audit.COMMAND_LINE)
    compound_id = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.compound))
    buildings = list(await session.scalars(select(Place.id).where(Place.kind == PlaceKind.building).order_by(Place.id)))
    names = dict((await session.execute(select(Place.id, Place.name))).all())
    households = {}
    for household in await session.scalars(select(Household)):
        households[f"{names[household.building_id]}/{names[household.unit_id]}/{household.room}"] = household.id
    return Community(compound_id, buildings, households)


async def member(session: AsyncSession, user_id: int, household_id: int, *, verified: bool = True, tenure: Tenure | None = None, represents: bool = False) -> int:
    person = await people.get_or_create_person(session, people.TELEGRAM, str(user_id), f"居民{user_id}")
    await people.join_household(session, person.id, household_id, verified=verified)
    membership = await session.scalar(select(Membership).where(Membership.person_id == person.id, Membership.household_id == household_id))
    assert membership is not None
    membership.tenure, membership.represents = tenure, represents
    await session.flush()
    return person.id


async def decision(session: AsyncSession, place_id: int, **changes: object) -> votes.Vote:
    now = utcnow()
    spec = votes.VoteSpec(VoteKind.decision, "加装电梯", place_id, now - timedelta(minutes=1), now + timedelta(days=7), **changes)  # type: ignore[arg-type]
    return await votes.create(session, audit.COMMAND_LINE, spec)


async def option_ids(session: AsyncSession, vote: votes.Vote) -> dict[str, int]:
    return {(o.choice or o.label): o.id for o in await votes.options_of(session, vote.id)}


async def test_a_member_votes_changes_the_vote_and_the_last_choice_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        home = community.households["1栋/1单元/301"]
        person = await member(session, 5001, home)
        vote = await decision(session, community.buildings[0])
        ids = await option_ids(session, vote)
        [open_vote] = await votes.open_votes_of(session, person)
        assert open_vote.household_id == home
        first = await votes.cast(session, person, vote.id, home, [ids["agree"]])
        second = await votes.cast(session, person, vote.id, home, [ids["disagree"]])
        assert not first.changed and second.changed
        result = await votes.result(session, vote)
    assert result.turnout.voted.households == 1 and result.decision is not None
    assert result.decision.tally.by_choice[votes.Choice.disagree].households == 1
    assert result.decision.tally.agree.households == 0
    assert result.turnout.eligible.households == 24 and result.turnout.eligible.area == Decimal("58.60") * 12 + Decimal("72.35") * 12


async def test_who_may_cast_a_households_vote(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        vote = await decision(session, community.buildings[0])
        ids = await option_ids(session, vote)
        unverified = await member(session, 5002, community.households["1栋/1单元/101"], verified=False)
        tenant = await member(session, 5003, community.households["1栋/1单元/102"], tenure=Tenure.tenant)
        elsewhere = await member(session, 5004, community.households["2栋/1单元/101"])
        owner = await member(session, 5005, community.households["1栋/2单元/101"])
        representative = await member(session, 5006, community.households["1栋/2单元/101"], represents=True)
        for person, home, words in (
            (unverified, "1栋/1单元/101", "verified owner"),
            (tenant, "1栋/1单元/102", "verified owner"),
            (elsewhere, "2栋/1单元/101", "does not exist"),
            (owner, "1栋/2单元/101", "representative"),
        ):
            with pytest.raises(DomainError) as refused:
                await votes.cast(session, person, vote.id, community.households[home], [ids["agree"]])
            assert words in str(refused.value)
        assert await votes.open_votes_of(session, elsewhere) == [] and await votes.open_votes_of(session, tenant) == []
        await votes.cast(session, representative, vote.id, community.households["1栋/2单元/101"], [ids["agree"]])
        with pytest.raises(DomainError, match="not one of this vote's options"):  # a forged option id, of no option of this vote
            await votes.cast(session, representative, vote.id, community.households["1栋/2单元/101"], [ids["agree"] + 100])
        tenants_vote = await decision(session, community.buildings[0], tenants_vote=True)
        await votes.cast(session, tenant, tenants_vote.id, community.households["1栋/1单元/102"], [(await option_ids(session, tenants_vote))["abstain"]])


async def test_a_closed_vote_changes_nothing(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        home = community.households["1栋/1单元/301"]
        person = await member(session, 5001, home)
        vote = await decision(session, community.compound_id)
        ids = await option_ids(session, vote)
        with pytest.raises(DomainError, match="closed"):
            await votes.cast(session, person, vote.id, home, [ids["agree"]], now=vote.closes_at)
        assert await session.scalar(select(func.count()).select_from(Ballot)) == 0


async def test_paper_and_online_votes_of_one_household_do_not_collide(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        online_home, paper_home = community.households["1栋/1单元/301"], community.households["1栋/1单元/302"]
        resident = await member(session, 5001, online_home)
        paper_resident = await member(session, 5007, paper_home)
        leader = await people.get_or_create_person(session, people.TELEGRAM, "6001", "楼栋长")
        admin = await people.get_or_create_person(session, people.TELEGRAM, "6002", "主任")
        await access.grant_role(session, leader.id, Role.building_leader, access.Scope(PlaceKind.building, community.buildings[0]), actor=audit.COMMAND_LINE)
        await access.grant_role(session, admin.id, Role.admin, access.Scope(PlaceKind.compound, community.compound_id), actor=audit.COMMAND_LINE)
        vote = await decision(session, community.compound_id)
        ids = await option_ids(session, vote)
        leader_actor, admin_actor = audit.Actor("telegram", leader.id), audit.Actor("telegram", admin.id)

        await votes.cast(session, resident, vote.id, online_home, [ids["agree"]])
        with pytest.raises(DomainError, match="voted online already"):
            await votes.record_paper(session, leader_actor, vote.id, online_home, [ids["disagree"]], "photo-1")
        with pytest.raises(DomainError, match="not allowed"):  # replacing is an admin's
            await votes.record_paper(session, leader_actor, vote.id, online_home, [ids["disagree"]], "photo-1", replace=True)
        with pytest.raises(DomainError, match="not allowed"):  # another building than the leader's
            await votes.record_paper(session, leader_actor, vote.id, community.households["2栋/1单元/101"], [ids["agree"]], "photo-2")

        await votes.record_paper(session, leader_actor, vote.id, paper_home, [ids["agree"]], "photo-3")
        with pytest.raises(DomainError, match="paper vote was recorded"):
            await votes.cast(session, paper_resident, vote.id, paper_home, [ids["disagree"]])

        await votes.record_paper(session, admin_actor, vote.id, online_home, [ids["disagree"]], "photo-4", replace=True)
        ballot = await session.scalar(select(Ballot).where(Ballot.household_id == online_home))
        assert ballot is not None and ballot.channel is BallotChannel.paper and ballot.photo_file_id == "photo-4"
        logged = await session.scalar(select(AuditEntry).where(AuditEntry.action == "replace_ballot"))
        assert logged is not None and logged.details["previous_channel"] == "online" and logged.details["previous_options"] == [ids["agree"]]
        not_voted = await votes.households_not_voted(session, leader_actor, vote)
    assert len(not_voted) == 22 and all(a.building == "1栋" for a in not_voted)  # the leader's building only


async def cast_in_own_transaction(sessionmaker: async_sessionmaker[AsyncSession], person: int, vote_id: int, home: int, option: int) -> None:
    async with sessionmaker.begin() as session:
        await votes.cast(session, person, vote_id, home, [option])


async def test_racing_members_leave_exactly_one_ballot(sessionmaker: async_sessionmaker[AsyncSession], database_url: str) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        home = community.households["1栋/1单元/301"]
        members = [await member(session, 5100 + i, home) for i in range(4)]
        vote = await decision(session, community.buildings[0])
        ids = list((await option_ids(session, vote)).values())
    # Separate engines: real concurrent transactions (on SQLite, separate connections too).
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        makers = [create_sessionmaker(engine) for engine in engines]
        taps = [cast_in_own_transaction(makers[i % 4], members[i % 4], vote.id, home, ids[i % 3]) for i in range(12)]
        await asyncio.gather(*taps)
    finally:
        for engine in engines:
            await engine.dispose()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Ballot)) == 1
        result = await votes.result(session, vote)
    assert result.turnout.voted.households == 1 and sum(c.households for _, c in result.options) == 1


async def test_a_consultation_ranks_the_items(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        now = utcnow()
        spec = votes.VoteSpec(
            VoteKind.consultation, "先改哪些", community.compound_id, now, now + timedelta(days=3), items=("加装电梯", "屋面防水", "停车位"), max_choices=2
        )
        vote = await votes.create(session, audit.COMMAND_LINE, spec)
        ids = await option_ids(session, vote)
        homes = ["1栋/1单元/102", "1栋/1单元/101", "2栋/1单元/101"]  # 72.35, 58.60, 58.60 m²
        voters = [await member(session, 5200 + i, community.households[h]) for i, h in enumerate(homes)]
        await votes.cast(session, voters[0], vote.id, community.households[homes[0]], [ids["屋面防水"], ids["停车位"]])
        await votes.cast(session, voters[1], vote.id, community.households[homes[1]], [ids["屋面防水"]])
        await votes.cast(session, voters[2], vote.id, community.households[homes[2]], [ids["加装电梯"]])
        with pytest.raises(DomainError, match="at most 2"):
            await votes.cast(session, voters[2], vote.id, community.households[homes[2]], list(ids.values()))
        result = await votes.result(session, vote)
    assert [item.label for item in result.ranked] == ["屋面防水", "停车位", "加装电梯"]  # a tie of households: the larger area first
    assert result.turnout.voted.households == 3


async def test_only_admins_create_votes_and_only_for_a_compound_building_or_unit(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        community = await seed(session)
        leader = await people.get_or_create_person(session, people.TELEGRAM, "6001", "楼栋长")
        await access.grant_role(session, leader.id, Role.building_leader, access.Scope(PlaceKind.building, community.buildings[0]), actor=audit.COMMAND_LINE)
        now = utcnow()
        spec = votes.VoteSpec(VoteKind.decision, "x", community.buildings[0], now, now + timedelta(days=1))
        with pytest.raises(DomainError, match="not allowed"):
            await votes.create(session, audit.Actor("telegram", leader.id), spec)
        community_id = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.community))
        with pytest.raises(DomainError, match="compound, a building or a unit"):
            await votes.create(session, audit.COMMAND_LINE, votes.VoteSpec(VoteKind.decision, "x", community_id or 0, now, now + timedelta(days=1)))


async def test_the_result_chart_draws_every_chinese_label(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    import warnings

    from bot.services import vote_schedule

    async with sessionmaker.begin() as session:
        community = await seed(session)
        now = utcnow()
        spec = votes.VoteSpec(VoteKind.consultation, "先改哪些", community.compound_id, now, now + timedelta(days=3), items=("加装电梯", "屋面防水"))
        result = await votes.result(session, await votes.create(session, audit.COMMAND_LINE, spec))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for a character it draws as a box
        png = await vote_schedule._chart(result, "zh_CN")
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
