"""The reports service on a real database (SQLite, and PostgreSQL where configured): the
lifecycle table, assignment, duplicates, +1s, and the sweeps' once-only marks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.categories import load_categories, with_deadlines
from bot.config import Settings
from bot.routing.tokenizer import Tokenizer
from bot.scheduling import run_sweeps
from bot.services import access, audit, people, reports
from bot.services.errors import DomainError
from storage.models import (
    OutboxDelivery,
    PlaceKind,
    Report,
    ReportAction,
    ReportEvent,
    ReportStatus,
    ReportSupporter,
    Role,
    utcnow,
)
from tests.test_services import ids_of, seeded

Sessions = async_sessionmaker[AsyncSession]
CATEGORIES = load_categories()
TOKENIZER = Tokenizer()


async def community(sessionmaker: Sessions) -> dict[str, int]:
    """The sample community with a grid worker on building 1, one on the community, an admin,
    and two residents of building 1."""
    nodes = await seeded(sessionmaker)
    community_id, = ids_of(nodes, PlaceKind.community)
    building_1, building_2, _ = ids_of(nodes, PlaceKind.building)
    households = ids_of(nodes, PlaceKind.household)
    ids: dict[str, int] = {"community": community_id, "building": building_1, "other_building": building_2}
    async with sessionmaker.begin() as session:
        for key, role, scope in (
            ("close_worker", Role.grid_worker, access.Scope(PlaceKind.building, building_1)),
            ("wide_worker", Role.grid_worker, access.Scope(PlaceKind.community, community_id)),
            ("admin", Role.admin, access.Scope(PlaceKind.community, community_id)),
        ):
            person = await people.get_or_create_person(session, people.TELEGRAM, key, key)
            await access.grant_role(session, person.id, role, scope, actor=audit.COMMAND_LINE)
            ids[key] = person.id
        for key, household in (("reporter", households[0]), ("neighbour", households[1])):
            person = await people.get_or_create_person(session, people.TELEGRAM, key, key)
            await people.join_household(session, person.id, household, verified=False)
            ids[key] = person.id
        ids["stranger"] = (await people.get_or_create_person(session, people.TELEGRAM, "stranger", "stranger")).id
    return ids


async def submit(sessionmaker: Sessions, ids: dict[str, int], text: str = "3栋电梯坏了，老人下不了楼", category: str = "elevator") -> int:
    async with sessionmaker.begin() as session:
        draft = reports.Draft(text=text, building_id=ids["building"])
        submitted = await reports.submit(session, audit.Actor("telegram", ids["reporter"]), draft, CATEGORIES[category], routed_category=category)
        return submitted.report.id


async def act(sessionmaker: Sessions, actor: int | None, report_id: int, action: ReportAction, **kwargs: object) -> Report:
    async with sessionmaker.begin() as session:
        return await reports.act(session, actor, report_id, action, **kwargs)  # type: ignore[arg-type]


async def test_a_report_goes_to_the_closest_grid_worker_and_through_its_whole_life(sessionmaker: Sessions) -> None:
    ids = await community(sessionmaker)
    report_id = await submit(sessionmaker, ids)
    async with sessionmaker() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.status is ReportStatus.assigned and report.handler_id == ids["close_worker"]
        assert report.grid_place_id == ids["building"] and report.community_id == ids["community"]
        # 电梯坏了 names a fault: the 24-hour deadline, not the retrofit's 15 days.
        assert timedelta(hours=23) < report.deadline - report.created_at <= timedelta(hours=24)

    with pytest.raises(DomainError):  # a resident cannot take a handler's action
        await act(sessionmaker, ids["reporter"], report_id, ReportAction.accepted)
    with pytest.raises(DomainError):  # nor resolve what nobody accepted
        await act(sessionmaker, ids["close_worker"], report_id, ReportAction.resolved)
    await act(sessionmaker, ids["close_worker"], report_id, ReportAction.accepted)
    await act(sessionmaker, ids["close_worker"], report_id, ReportAction.progress, note="已联系维保公司")
    await act(sessionmaker, ids["close_worker"], report_id, ReportAction.resolved, note="已修好")
    with pytest.raises(DomainError):  # only the reporter confirms
        await act(sessionmaker, ids["neighbour"], report_id, ReportAction.confirmed)
    await act(sessionmaker, ids["reporter"], report_id, ReportAction.reopened, note="还是不动", category=CATEGORIES["elevator"])
    await act(sessionmaker, ids["close_worker"], report_id, ReportAction.resolved)
    await act(sessionmaker, ids["reporter"], report_id, ReportAction.confirmed)
    report = await act(sessionmaker, ids["reporter"], report_id, ReportAction.rated, rating=5)
    assert report.status is ReportStatus.closed and report.rating == 5 and report.closed_at is not None and report.accepted_at is not None
    for again in (9, 4):  # out of range; a second rating
        with pytest.raises(DomainError):
            await act(sessionmaker, ids["reporter"], report_id, ReportAction.rated, rating=again)
    assert await actions_of(sessionmaker, report_id) == [
        ReportAction.submitted, ReportAction.assigned, ReportAction.accepted, ReportAction.progress, ReportAction.resolved,
        ReportAction.reopened, ReportAction.resolved, ReportAction.confirmed, ReportAction.rated,
    ]

    second = await submit(sessionmaker, ids, "电梯按钮失灵", "elevator")
    with pytest.raises(DomainError):  # a transfer goes only to a grid worker of the building
        await act(sessionmaker, ids["close_worker"], second, ReportAction.transferred, to_person_id=ids["stranger"])
    moved = await act(sessionmaker, ids["close_worker"], second, ReportAction.transferred, to_person_id=ids["wide_worker"])
    assert moved.handler_id == ids["wide_worker"] and moved.status is ReportStatus.assigned


async def test_between_equally_close_grid_workers_the_one_with_fewer_open_reports_gets_it(sessionmaker: Sessions) -> None:
    ids = await community(sessionmaker)
    async with sessionmaker.begin() as session:  # a second grid worker on building 1
        second = await people.get_or_create_person(session, people.TELEGRAM, "second_worker", "second_worker")
        await access.grant_role(session, second.id, Role.grid_worker, access.Scope(PlaceKind.building, ids["building"]), actor=audit.COMMAND_LINE)
    first_report = await submit(sessionmaker, ids)
    async with sessionmaker() as session:
        first_handler = (await session.get(Report, first_report)).handler_id  # type: ignore[union-attr]
    assert first_handler in (ids["close_worker"], second.id)
    other = second.id if first_handler == ids["close_worker"] else ids["close_worker"]
    # The first handler has one open report, the other none: the next goes to the other.
    second_report = await submit(sessionmaker, ids, "楼道灯不亮了", "greening_lighting")
    async with sessionmaker() as session:
        assert (await session.get(Report, second_report)).handler_id == other  # type: ignore[union-attr]
    # Both handled and closed: a closed report counts as open for neither assignment nor duplicates.
    for report_id, handler in ((first_report, first_handler), (second_report, other)):
        await act(sessionmaker, handler, report_id, ReportAction.rejected, note="重复")
    async with sessionmaker() as session:
        assert await reports.similar_open_reports(session, TOKENIZER, ids["building"], "elevator", "电梯坏了好几天了") == []
    third = await submit(sessionmaker, ids, "电梯按钮失灵", "elevator")
    async with sessionmaker() as session:
        # Open reports even again (none each): the older grant.
        assert (await session.get(Report, third)).handler_id == ids["close_worker"]  # type: ignore[union-attr]


async def test_two_handlers_pressing_accept_at_once_accept_it_once(sessionmaker: Sessions) -> None:
    ids = await community(sessionmaker)
    report_id = await submit(sessionmaker, ids)
    outcomes = await asyncio.gather(
        *(act(sessionmaker, ids[worker], report_id, ReportAction.accepted) for worker in ("close_worker", "wide_worker")), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["DomainError", "Report"]
    assert (await actions_of(sessionmaker, report_id)).count(ReportAction.accepted) == 1


async def actions_of(sessionmaker: Sessions, report_id: int) -> list[ReportAction]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(ReportEvent.action).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)))


async def test_a_plus_one_counts_once_subscribes_and_raises_priority(sessionmaker: Sessions) -> None:
    ids = await community(sessionmaker)
    report_id = await submit(sessionmaker, ids)
    async with sessionmaker() as session:
        [alike] = await reports.similar_open_reports(session, TOKENIZER, ids["other_building"], "elevator", "电梯坏了好几天了")
        assert alike.id == report_id  # same compound, same category, words alike
        assert await reports.similar_open_reports(session, TOKENIZER, ids["building"], "elevator", "希望加装电梯的补贴政策早点公布") == []
        assert await reports.similar_open_reports(session, TOKENIZER, ids["building"], "water", "电梯坏了") == []
    for _ in range(2):
        await act(sessionmaker, ids["neighbour"], report_id, ReportAction.supported)
    with pytest.raises(DomainError):  # a person living elsewhere
        await act(sessionmaker, ids["stranger"], report_id, ReportAction.supported)
    async with sessionmaker() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.priority == 1
        assert await reports.supporters(session, report_id) == [ids["neighbour"]]
    with pytest.raises(IntegrityError):  # one +1 per person, by the database's own rule
        async with sessionmaker.begin() as session:
            session.add(ReportSupporter(report_id=report_id, person_id=ids["neighbour"]))
    await act(sessionmaker, ids["close_worker"], report_id, ReportAction.accepted)
    async with sessionmaker() as session:  # the supporter heard of the acceptance, as the reporter did
        told = set(await session.scalars(select(OutboxDelivery.person_id)))
    assert {ids["reporter"], ids["neighbour"]} <= told


async def test_tickets_show_a_grid_its_own_reports_overdue_first(sessionmaker: Sessions) -> None:
    ids = await community(sessionmaker)
    slow = await submit(sessionmaker, ids, "小区门口垃圾堆了好几天没人清", "waste")
    urgent = await submit(sessionmaker, ids, "楼道里闻到煤气泄漏的味道", "gas")
    later = utcnow() + timedelta(hours=5)  # the gas leak's 2 hours have passed, the rubbish's 3 days not
    async with sessionmaker() as session:
        listed = await reports.tickets(session, audit.Actor("telegram", ids["wide_worker"]), now=later)
        assert [r.id for r in listed] == [urgent, slow]
        assert await reports.tickets(session, audit.Actor("telegram", ids["reporter"]), now=later) == []
        only_waste = await reports.tickets(session, audit.Actor("telegram", ids["admin"]), now=later, category="waste")
        assert [r.id for r in only_waste] == [slow]


async def test_reminder_escalation_and_follow_up_closing_happen_once(sessionmaker: Sessions) -> None:
    ids = await community(sessionmaker)
    report_id = await submit(sessionmaker, ids, "楼道里闻到煤气泄漏的味道", "gas")
    settings = Settings()
    start = utcnow()
    assert (await run_sweeps(sessionmaker, settings, now=start + timedelta(minutes=100)))["report-deadlines"] == 1
    assert (await run_sweeps(sessionmaker, settings, now=start + timedelta(minutes=110)))["report-deadlines"] == 0
    assert (await run_sweeps(sessionmaker, settings, now=start + timedelta(hours=3)))["report-deadlines"] == 1
    assert (await run_sweeps(sessionmaker, settings, now=start + timedelta(hours=4)))["report-deadlines"] == 0
    assert (await actions_of(sessionmaker, report_id))[-2:] == [ReportAction.reminded, ReportAction.escalated]
    async with sessionmaker() as session:
        admin_told = await session.scalar(select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.person_id == ids["admin"]))
        assert admin_told == 1

    # The follow-up: a resolved report whose reporter does not answer closes after three days.
    resolved = await submit(sessionmaker, ids)
    await act(sessionmaker, ids["close_worker"], resolved, ReportAction.accepted)
    await act(sessionmaker, ids["close_worker"], resolved, ReportAction.resolved)
    assert (await run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=2, hours=23)))["report-follow-ups"] == 0
    assert (await run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=3, minutes=1)))["report-follow-ups"] == 1
    async with sessionmaker() as session:
        report = await session.get(Report, resolved)
        assert report is not None and report.status is ReportStatus.closed and report.rating is None


def test_deadlines_can_be_overridden_per_category() -> None:
    assert with_deadlines(CATEGORIES, {"elevator": 12})["elevator"].deadline_hours == 12
    with pytest.raises(ValueError, match="lift"):
        with_deadlines(CATEGORIES, {"lift": 12})


async def test_without_a_grid_worker_the_admins_hear_of_it_and_may_handle_it(sessionmaker: Sessions) -> None:
    nodes = await seeded(sessionmaker)
    community_id, = ids_of(nodes, PlaceKind.community)
    async with sessionmaker.begin() as session:
        admin = await people.get_or_create_person(session, people.TELEGRAM, "admin", "admin")
        await access.grant_role(session, admin.id, Role.admin, access.Scope(PlaceKind.community, community_id), actor=audit.COMMAND_LINE)
        reporter = await people.get_or_create_person(session, people.TELEGRAM, "reporter", "reporter")
        await people.join_household(session, reporter.id, ids_of(nodes, PlaceKind.household)[0], verified=False)
    ids = {"reporter": reporter.id, "building": ids_of(nodes, PlaceKind.building)[0]}
    report_id = await submit(sessionmaker, ids)
    async with sessionmaker() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.status is ReportStatus.submitted and report.handler_id is None
        assert await session.scalar(select(OutboxDelivery.person_id)) == admin.id
    report = await act(sessionmaker, admin.id, report_id, ReportAction.accepted)
    assert report.handler_id == admin.id and report.status is ReportStatus.accepted
