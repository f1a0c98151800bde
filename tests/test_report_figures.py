"""The figures a community office reports upward: counted exactly from the reports (SQLite and
PostgreSQL), shown on demand with /stats (a chart and words), sent once at the start of a month,
and exported with their history to .xlsx and .csv."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.categories import load_categories
from bot.cli import main
from bot.config import Settings
from bot.replies import render_text
from bot.scheduling import run_sweeps
from bot.services import report_figures
from bot.services.errors import DomainError
from bot.services.figures_message import figures_replies, send_monthly_figures
from bot.services.report_figures import Figures, Period
from storage.models import OutboxDelivery, OutboxMessage, Place, Report, ReportAction, utcnow
from tests.conftest import RunningBot
from tests.test_reports_service import act, community, submit

Sessions = async_sessionmaker[AsyncSession]
ADMIN = 1004  # of the sample community (bot/demo.py)


def around_today() -> Period:
    today = datetime.now(UTC).date()
    return Period(today - timedelta(days=1), today + timedelta(days=1))


async def four_reports(sessionmaker: Sessions) -> dict[str, int]:
    """Two lift reports (one accepted in time and rated 5; one accepted late, resolved and
    reopened) and two rubbish reports (one rejected; one accepted in time and rated 2)."""
    ids = await community(sessionmaker)
    worker, reporter = ids["close_worker"], ids["reporter"]
    pleased = await submit(sessionmaker, ids, "电梯坏了", "elevator")
    late = await submit(sessionmaker, ids, "电梯门关不上", "elevator")
    rejected = await submit(sessionmaker, ids, "隔壁小区的垃圾", "waste")
    displeased = await submit(sessionmaker, ids, "垃圾没人清", "waste")
    for report_id, rating in ((pleased, 5), (displeased, 2)):
        await act(sessionmaker, worker, report_id, ReportAction.accepted)
        await act(sessionmaker, worker, report_id, ReportAction.resolved)
        await act(sessionmaker, reporter, report_id, ReportAction.confirmed)
        await act(sessionmaker, reporter, report_id, ReportAction.rated, rating=rating)
    async with sessionmaker() as session:
        deadline = await session.scalar(select(Report.deadline).where(Report.id == late))
    await act(sessionmaker, worker, late, ReportAction.accepted, now=deadline + timedelta(hours=1))
    await act(sessionmaker, worker, late, ReportAction.resolved)
    await act(sessionmaker, reporter, late, ReportAction.reopened, note="还是关不上")
    await act(sessionmaker, worker, rejected, ReportAction.rejected, note="不属于本小区")
    return ids


async def test_the_rates_are_counted_as_the_office_reports_them(sessionmaker: Sessions) -> None:
    ids = await four_reports(sessionmaker)
    async with sessionmaker() as session:
        community_place = await session.get(Place, ids["community"])
        assert community_place is not None
        found = await report_figures.figures(session, community_place, around_today(), "Asia/Shanghai")
        building = await session.get(Place, ids["building"])
        assert building is not None
        only_building = await report_figures.figures(session, building, around_today(), "Asia/Shanghai")
        elsewhere = await session.get(Place, ids["other_building"])
        assert elsewhere is not None
        none_there = await report_figures.figures(session, elsewhere, around_today(), "Asia/Shanghai")
        last_year = await report_figures.figures(session, community_place, Period(date(2025, 1, 1), date(2025, 1, 31)), "Asia/Shanghai")
    total = found.total
    assert (total.reports, total.rejected, total.accepted_in_time, total.resolved, total.rated, total.satisfied) == (4, 1, 2, 2, 2, 1)
    assert (total.response_rate, total.resolution_rate, total.satisfaction_rate) == (Fraction(2, 3), Fraction(2, 3), Fraction(1, 2))
    by_category = {row.key: row for row in found.by_category}
    assert by_category["elevator"] == Figures("elevator", 2, 0, 1, 1, 1, 1)
    assert by_category["waste"] == Figures("waste", 2, 1, 1, 1, 1, 0)
    assert [(row.key, row.reports) for row in found.by_grid] == [(building.name, 4)]
    assert only_building.total == total and none_there.total.reports == 0 and last_year.total.reports == 0
    assert report_figures.rate_text(total.response_rate) == "67%" and report_figures.rate_text(None) == "—"

    chart, words = await figures_replies(found, load_categories(), "zh_CN")
    assert chart.attachment is not None and chart.attachment.content is not None and chart.attachment.content.startswith(b"\x89PNG")
    text = render_text(words.text, "zh_CN")
    assert "电梯：2 件" in text and "67%" in text and "50%" in text


def test_periods_read_as_people_write_them() -> None:
    today = date(2026, 11, 25)
    assert report_figures.parse_period("", today) == Period(date(2026, 11, 1), today)
    assert report_figures.parse_period("2026-02", today) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert report_figures.parse_period("２０２６－１０", today) == Period(date(2026, 10, 1), date(2026, 10, 31))  # full-width
    assert report_figures.parse_period("2026-10-05 2026-10-09", today) == Period(date(2026, 10, 5), date(2026, 10, 9))
    assert report_figures.parse_period("2026年10月", today) == Period(date(2026, 10, 1), date(2026, 10, 31))  # as written in Chinese
    assert report_figures.parse_period("10月", today) == Period(date(2026, 10, 1), date(2026, 10, 31))  # the last October
    assert report_figures.parse_period("12月", today) == Period(date(2025, 12, 1), date(2025, 12, 31))  # the last December: last year's
    assert report_figures.parse_period("2026年10月5日 2026/10/9", today) == Period(date(2026, 10, 5), date(2026, 10, 9))
    assert report_figures.parse_period("2026-10-5", today) == Period(date(2026, 10, 5), date(2026, 10, 5))  # one day
    assert report_figures.parse_period("10月1日 10月31日", today) == Period(date(2026, 10, 1), date(2026, 10, 31))  # this year's
    assert report_figures.parse_period("12月1日", today) == Period(date(2025, 12, 1), date(2025, 12, 1))  # still to come: last year's
    assert report_figures.parse_period("2026.10", today) == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert report_figures.previous_month(date(2026, 1, 2)) == Period(date(2025, 12, 1), date(2025, 12, 31))
    # Years no figures are kept for (9999-12 overflowed the calendar into an apology), and nonsense.
    for bad in ("十月", "2026-13", "13月", "2026-10-09 2026-10-05", "1 2 3", "9999-12", "9999-12-31 9999-12-31", "1-1", "0001-01-01 0001-01-01", "2026-02-30"):
        with pytest.raises(DomainError):
            report_figures.parse_period(bad, today)


async def test_last_months_figures_reach_the_admins_once(sessionmaker: Sessions) -> None:
    ids = await four_reports(sessionmaker)
    made = utcnow()
    next_month = (made.replace(day=1) + timedelta(days=32)).replace(day=1, hour=2)  # 10:00 in Shanghai, the 1st
    settings = Settings()
    async with sessionmaker.begin() as session:  # later in the month: not yet
        assert await send_monthly_figures(session, made.replace(day=28) if made.day < 28 else made, settings) == 0
    assert (await run_sweeps(sessionmaker, settings, now=next_month))["report-figures"] == 1
    assert (await run_sweeps(sessionmaker, settings, now=next_month + timedelta(hours=5)))["report-figures"] == 0
    async with sessionmaker() as session:
        sent = list(await session.scalars(
            select(OutboxMessage.source).join(OutboxDelivery, OutboxDelivery.message_id == OutboxMessage.id)
            .where(OutboxDelivery.person_id == ids["admin"], OutboxMessage.source.like("report-figures:%"))
        ))
    assert len(sent) == 2  # the chart, then the words


async def test_stats_answers_an_admin_and_refuses_a_resident(bot: RunningBot) -> None:
    admin_chat = bot.client.user(ADMIN, "社区管理员")
    empty, questions = await admin_chat.send("/stats")
    assert "问题报告" in empty.text and "这段时间没有" in empty.text
    assert "向网格员提问" in questions.text and "共 0 个问题" in questions.text
    resident = bot.client.user(8801, "王阿姨")
    [refused] = await resident.send("统计")
    assert "网格员" in refused.text
    [bad] = await admin_chat.send("/stats 十月")
    assert "2026-10" in bad.text


async def test_reports_are_exported_with_their_history(sessionmaker: Sessions, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await four_reports(sessionmaker)
    monkeypatch.setenv("GONGJIAN_DATABASE_URL", database_url)
    today = datetime.now(UTC).date()
    first, last = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    assert await asyncio.to_thread(main, ["export", "reports", "--from", first, "--to", last, str(tmp_path / "r.xlsx")]) == 0
    rows = list(load_workbook(tmp_path / "r.xlsx").active.iter_rows(values_only=True))
    assert rows[0][0] == "报告编号" and len(rows) == 5
    assert await asyncio.to_thread(main, ["export", "reports", "--from", first, "--to", last, str(tmp_path / "r.csv")]) == 0
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as file:
        exported = list(csv.DictReader(file))
    reopened = next(row for row in exported if row["内容"] == "电梯门关不上")
    assert len(reopened["处理记录"].splitlines()) >= 5 and "还是关不上" in reopened["处理记录"]
    assert await asyncio.to_thread(main, ["export", "reports", "--from", last, "--to", first, str(tmp_path / "r.csv")]) == 1
