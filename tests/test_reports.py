"""Problem reports end to end, as a resident, a grid worker and an admin would use them: through
the Bot API emulator (real HTTP, real aiogram) and the WeChat emulator, on a real database;
messages the bot sends on its own arrive through the outbox's sender."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.conversations.payloads import ReportCategory, TicketAction, TicketFilter
from bot.conversations.tickets import ACCEPT
from bot.demo import offline_bot
from bot.emulator import BotApiEmulator
from bot.emulator.client import ChatMessage, UserChat
from bot.scheduling import run_sweeps
from storage.models import CategoryCorrection, ChannelIdentity, Conversation, OutboxDelivery, Report, ReportAction, ReportEvent, ReportStatus, ReportSupporter
from tests.conftest import RunningBot
from tests.test_notices import arrives, join
from tests.test_wechat_conversations import wechat

GRID_WORKER, ADMIN = 1002, 1004  # of the sample community (bot/demo.py), granted over the whole community
ELEVATOR = "3栋电梯坏了，老人下不了楼"


@pytest.fixture
def start_bot(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[RunningBot]]:
    """The bot on a SQLite file that outlives it (started again, it is a new process with a
    new Telegram whose update ids continue), sending to a chat without Telegram's one second
    between messages: a report's notifications follow one another quickly."""
    starts = itertools.count()
    return lambda: offline_bot(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", BotApiEmulator(first_update_id=1 + 10_000 * next(starts)), delivery_chat_interval=0
    )


@pytest.fixture
async def bot(start_bot: Callable[..., AbstractAsyncContextManager[RunningBot]]) -> AsyncIterator[RunningBot]:
    async with start_bot() as running:
        yield running


async def report(resident: UserChat, text: str = ELEVATOR, category: str = "电梯") -> int:
    """Report through /report, confirming `category`; the new report's number."""
    await resident.send("/report")
    [proposal] = await resident.send(text)
    assert category in proposal.button_texts and "其他" in proposal.button_texts
    [saved] = await resident.press(category, proposal)
    assert "已受理" in saved.text and "处理期限" in saved.text
    return number_of(saved)


async def joined(bot: RunningBot, user_id: int, name: str) -> UserChat:
    """A resident who has joined a household of the sample community, in their private chat."""
    await join(bot, user_id, name)
    return bot.client.user(user_id, name)


def number_of(saved: ChatMessage) -> int:
    """The report's number in "报告 #7 已受理"."""
    return int(saved.text.split("#", 1)[1].split(" ", 1)[0])


async def open_ticket(worker: UserChat, words: str) -> ChatMessage:
    """The work order from the message about it that contains `words`, opened by its button."""
    [ticket, *_] = await worker.press("打开", await arrives(worker, words))
    return ticket


async def on_duty(bot: RunningBot) -> UserChat:
    """The grid worker, who has written to the bot once (so it may write back)."""
    worker = bot.client.user(GRID_WORKER, "李网格")
    await worker.send("/help")
    return worker


async def stored(bot: RunningBot, report_id: int) -> Report:
    async with bot.sessionmaker() as session:
        found = await session.get(Report, report_id)
        assert found is not None
        return found


async def actions(bot: RunningBot, report_id: int) -> list[ReportAction]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(ReportEvent.action).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)))


async def test_a_resident_reports_with_an_album_and_a_location_the_grid_worker_handles_and_the_resident_rates(bot: RunningBot) -> None:
    worker = await on_duty(bot)
    resident = await joined(bot, 8001, "王阿姨")
    [asked] = await resident.send("报修")
    assert "遇到了什么问题" in asked.text
    [received] = await resident.send_photo("lift-1", album="album-1")
    assert "照片收到了" in received.text
    assert await resident.send_photo("lift-2", album="album-1") == []  # the album's second photo: one report, one answer
    [located] = await resident.send_location(26.4203, 111.6135)
    assert "位置收到了" in located.text
    [proposal] = await resident.send(ELEVATOR)
    [saved] = await resident.press("电梯", proposal)
    assert "报告 #1 已受理：电梯" in saved.text and "已派单给网格员李网格" in saved.text
    filed = await stored(bot, 1)
    assert len(filed.photos) == 2 and {p["channel"] for p in filed.photos} == {"telegram"}
    assert str(filed.latitude) == "26.420300" and filed.handler_id is not None and filed.status is ReportStatus.assigned

    assigned = await arrives(worker, "工单：派单")
    assert "报告 #1：3栋电梯坏了" in assigned.text and assigned.button_texts == ["打开"]
    [listed] = await worker.send("工单")
    assert "#1 电梯 · 已派单" in listed.text and "+0" in listed.text
    [elevators] = await worker.send("工单 电梯")
    assert "#1 电梯" in elevators.text
    [gas] = await worker.send("工单 燃气")
    assert "没有这样的报告" in gas.text and "全部未办结" in gas.button_texts
    [ticket, *photos] = await worker.press("打开", assigned)
    assert "工单 #1" in ticket.text and "照片：2 张" in ticket.text and "26.420300, 111.613500" in ticket.text
    assert len(photos) == 2  # the resident's photos, shown on the channel that holds them
    await worker.press("签收", ticket)
    await arrives(resident, "网格员已签收")
    [ask] = await worker.press("写进展")
    assert "进展说明" in ask.text
    await worker.send_photo("repair-crew", caption="维保公司已到场")
    [ask] = await worker.press("办结")
    [done, *_] = await worker.send("更换了控制板，已恢复运行")
    assert "报告 #1：办结。已通知居民" in done.text

    question = await arrives(resident, "问题解决了吗")
    assert question.button_texts == ["已解决", "还没解决"]
    [rate] = await resident.press("已解决", question)
    assert "请打分" in rate.text
    [thanks] = await resident.press("5 ⭐", rate)
    assert "5 分" in thanks.text
    filed = await stored(bot, 1)
    assert filed.status is ReportStatus.closed and filed.rating == 5
    assert filed.accepted_at is not None and filed.resolved_at is not None and filed.closed_at is not None
    assert await actions(bot, 1) == [
        ReportAction.submitted, ReportAction.assigned, ReportAction.accepted, ReportAction.progress,
        ReportAction.resolved, ReportAction.confirmed, ReportAction.rated,
    ]
    async with bot.sessionmaker() as session:
        photo = await session.scalar(select(ReportEvent.photo_file_id).where(ReportEvent.action == ReportAction.progress))
        assert photo is not None  # the progress note kept its photo

    [mine] = await resident.send("我的报告")
    assert "#1 电梯 · 已结束" in mine.text
    [history] = await resident.press("#1 详情", mine)
    assert "办结：更换了控制板，已恢复运行" in history.text and "进展：维保公司已到场" in history.text


async def accepted_drain(bot: RunningBot, user_id: int, name: str) -> tuple[UserChat, UserChat, int, ChatMessage]:
    """A resident's blocked drain, accepted by the grid worker: the worker, the resident, the
    report's number and the work order as the worker sees it after 签收."""
    worker = await on_duty(bot)
    await join(bot, user_id, name)
    resident = bot.client.user(user_id, name)
    report_id = await report(resident, "楼下的下水道堵了，污水冒出来", "排水与污水")
    ticket = await open_ticket(worker, f"报告 #{report_id}")
    [_, ticket, *_] = await worker.press("签收", ticket)
    return worker, resident, report_id, ticket


async def test_not_yet_reopens_the_report_with_the_residents_note(bot: RunningBot) -> None:
    worker, resident, report_id, ticket = await accepted_drain(bot, 8002, "赵大爷")
    await worker.press("办结", ticket)
    await worker.send("已疏通")
    question = await arrives(resident, "问题解决了吗")
    [ask] = await resident.press("还没解决", question)
    assert "还有什么问题" in ask.text
    [reopened] = await resident.send("还是有味道，水没退")
    assert f"报告 #{report_id} 已重新打开" in reopened.text
    filed = await stored(bot, report_id)
    assert filed.status is ReportStatus.in_progress and filed.closed_at is None
    told = await arrives(worker, "工单：重新打开")
    assert "还是有味道，水没退" in told.text


async def test_a_note_asked_for_is_no_longer_awaited_once_a_command_comes_instead(bot: RunningBot) -> None:
    worker, resident, report_id, ticket = await accepted_drain(bot, 8008, "郑阿姨")
    await worker.press("办结", ticket)  # asks for the note
    await worker.send("/tickets")  # turned to something else
    await worker.send("好的")
    assert (await stored(bot, report_id)).status is ReportStatus.accepted  # "好的" was no note: nothing resolved
    await worker.press("办结", ticket)
    await worker.send("已疏通")
    question = await arrives(resident, "问题解决了吗")
    await resident.press("还没解决", question)
    await resident.send("/help")
    await resident.send("谢谢")
    assert (await stored(bot, report_id)).status is ReportStatus.resolved  # "谢谢" reopened nothing
    await resident.press("还没解决", question)
    [reopened] = await resident.send("还是有味道")
    assert f"报告 #{report_id} 已重新打开" in reopened.text


async def test_a_neighbours_complaint_written_straight_out_becomes_a_plus_one(bot: RunningBot) -> None:
    worker = await on_duty(bot)
    await join(bot, 8003, "孙阿姨", room="101")
    await join(bot, 8004, "周师傅", room="102")
    first, neighbour = bot.client.user(8003, "孙阿姨"), bot.client.user(8004, "周师傅")
    report_id = await report(first)
    [nothing] = await neighbour.send("你好")
    assert "要帮您报告" not in nothing.text  # a greeting is no complaint
    [offer] = await neighbour.send("电梯又坏了，今天早上还困了人")
    assert "要帮您报告给网格员吗" in offer.text
    [proposal] = await neighbour.send("好，报告给网格员")  # typed, as the label reads: full-width comma and all
    [intro, same, different] = await neighbour.press("电梯", proposal)
    assert "已有邻居报告过类似的问题" in intro.text and f"#{report_id} 电梯" in same.text
    assert different.button_texts == ["提交新报告"]
    [thanks] = await neighbour.send("是同一个问题（+1）")  # typed too: full-width brackets
    assert f"已把您的意见加到报告 #{report_id}" in thanks.text and "目前 2 人反映" in thanks.text
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).select_from(ReportSupporter)) == 1
    assert (await stored(bot, report_id)).priority == 1

    ticket = await open_ticket(worker, "工单：同一问题 +1")
    await worker.press("签收", ticket)
    told = await arrives(neighbour, "网格员已签收")  # a supporter hears of every change, like the reporter
    assert f"报告 #{report_id}" in told.text


async def test_a_photo_or_a_location_in_answer_to_the_offer_makes_the_report(bot: RunningBot) -> None:
    await join(bot, 8009, "冯师傅", room="101")
    await join(bot, 8010, "陈阿姨", room="102")
    photographer, pointer = bot.client.user(8009, "冯师傅"), bot.client.user(8010, "陈阿姨")
    [offer] = await photographer.send("电梯又坏了，今天早上还困了人")
    assert "要帮您报告给网格员吗" in offer.text
    [proposal] = await photographer.send_photo("电梯门的照片", caption="门关不上")
    [saved] = await photographer.press("电梯", proposal)
    report = await stored(bot, number_of(saved))
    assert report.text == "电梯又坏了，今天早上还困了人\n门关不上" and len(report.photos) == 1

    [offer] = await pointer.send("小区门口的路灯坏了，晚上很黑")
    assert "要帮您报告给网格员吗" in offer.text
    [proposal] = await pointer.send_location(31.2304, 121.4737)
    [saved] = await pointer.press(proposal.button_texts[0], proposal)
    report = await stored(bot, number_of(saved))
    assert report.text == "小区门口的路灯坏了，晚上很黑" and report.latitude is not None and float(report.latitude) == 31.2304


async def test_words_added_while_choosing_are_kept_and_a_long_text_is_said_to_be_cut(bot: RunningBot) -> None:
    resident = await joined(bot, 8011, "褚大爷")
    await resident.send("/report")
    [proposal] = await resident.send("楼道灯坏了")
    [added] = await resident.send("还有三楼的也坏了")
    assert "已补充到您的报告里" in added.text and added.button_texts == proposal.button_texts
    [saved] = await resident.press(proposal.button_texts[0], added)
    assert (await stored(bot, number_of(saved))).text == "楼道灯坏了\n还有三楼的也坏了"

    await resident.send("/report")
    [cut, proposal] = await resident.send("楼顶漏水" * 600)  # 2,400 characters
    assert "保留前 2000 个字" in cut.text and proposal.button_texts
    [full] = await resident.send("还有三楼的也漏")  # no room left: not said to be added
    assert "保留前 2000 个字" in full.text and "已补充" not in full.text and full.button_texts == proposal.button_texts
    [saved] = await resident.press(proposal.button_texts[0], proposal)
    assert len((await stored(bot, number_of(saved))).text) == 2000


async def test_someone_without_a_household_hears_so_before_writing_a_report(bot: RunningBot) -> None:
    newcomer = bot.client.user(8012, "卫先生")
    [first] = await newcomer.send("/report")
    assert "报告需要知道您住哪栋楼" in first.text
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0  # nothing waits for a description


async def test_lists_longer_than_a_page_say_so_and_reach_every_report(bot: RunningBot) -> None:
    worker = await on_duty(bot)
    resident = await joined(bot, 8013, "蒋阿姨")
    numbers = [await report(resident) for _ in range(12)]
    [newest] = await resident.send("/myreports")
    assert f"#{numbers[-1]} 电梯" in newest.text and f"#{numbers[1]} 电梯" not in newest.text
    [older] = await resident.press("更早的报告", newest)
    assert f"#{numbers[0]} 电梯" in older.text and f"#{numbers[1]} 电梯" in older.text and "更早的报告" not in older.button_texts
    [typed] = await resident.send("我的报告 2")
    assert typed.text == older.text
    [none] = await resident.send("我的报告 3")
    assert "没有更早的报告了" in none.text

    await arrives(worker, f"报告 #{numbers[-1]}")  # every notification in: none lands among the answers below
    [orders] = await worker.send("/tickets")
    assert orders.text.count("电梯 ·") == 10 and "更多工单" in orders.button_texts
    [rest] = await worker.press("更多工单", orders)
    assert rest.text.count("电梯 ·") == 2 and "更多工单" not in rest.button_texts
    shown = {line.split(" ", 1)[0] for line in (orders.text + "\n" + rest.text).splitlines() if line.startswith("#")}
    assert shown == {f"#{number}" for number in numbers}  # every open report, each once
    [assigned] = await worker.press("已派单", orders)  # narrowed, and paged the same way
    [assigned_rest] = await worker.press("更多工单", assigned)
    assert assigned_rest.text.count("电梯 ·") == 2
    [unknown, everything] = await worker.send("工单 乱码")
    assert "没有叫“乱码”的问题类别" in unknown.text and everything.text == orders.text
    [refused] = await resident.press_data(newest.message_id, TicketFilter("a", "all").pack())  # a resident's forged filter
    assert "工单由网格员和社区管理员处理" in refused.text


async def test_the_offer_is_answered_in_words_as_people_write_them(bot: RunningBot) -> None:
    resident = await joined(bot, 8014, "沈奶奶")
    await resident.send("电梯又坏了，今天早上还困了人")
    [proposal] = await resident.send("好的！")
    assert "电梯" in proposal.button_texts  # yes: the categories are proposed
    await resident.send("/cancel")
    await resident.send("楼道的灯坏了一个月，晚上看不见")
    [declined] = await resident.send("不用了")
    assert "没有提交报告" in declined.text
    await resident.send("楼道的灯坏了一个月，晚上看不见")
    [chatter] = await resident.send("你好")
    assert "感谢您的留言" in chatter.text  # neither: read as it would be without the offer
    [offered_again] = await resident.send("小区门口的垃圾堆了好几天没人清理")
    assert "要帮您报告给网格员吗" in offered_again.text
    [proposal] = await resident.send("是")
    [saved] = await resident.press(proposal.button_texts[0], proposal)
    assert (await stored(bot, number_of(saved))).text == "小区门口的垃圾堆了好几天没人清理"  # the newer complaint


async def test_residents_cannot_handle_reports_and_old_or_forged_buttons_change_nothing(bot: RunningBot) -> None:
    worker = await on_duty(bot)
    resident = await joined(bot, 8005, "钱先生")
    await resident.send("/report")
    [proposal] = await resident.send("小区门口垃圾堆了好几天没人清")
    [saved] = await resident.press(proposal.button_texts[0], proposal)
    report_id = number_of(saved)
    assert await resident.press(proposal.button_texts[0], proposal) == []  # the same button again: stale
    stale = await bot.client.callback_answer(resident.last_callback_id or "")
    assert stale is not None and "选项已失效" in stale["text"]
    [refused] = await resident.send("/tickets")
    assert "工单由网格员和社区管理员处理" in refused.text
    assert await resident.press_data(saved.message_id, TicketAction(report_id, ACCEPT).pack()) == []  # forged
    forged = await bot.client.callback_answer(resident.last_callback_id or "")
    assert forged is not None and "您在这里没有这个权限" in forged["text"]
    assert (await stored(bot, report_id)).status is ReportStatus.assigned

    ticket = await open_ticket(worker, f"报告 #{report_id}")
    await worker.press("签收", ticket)
    assert await worker.press("签收", ticket) == []  # pressed twice: the report has moved on
    twice = await bot.client.callback_answer(worker.last_callback_id or "")
    assert twice is not None and "不能再这样操作" in twice["text"]
    assert await actions(bot, report_id) == [ReportAction.submitted, ReportAction.assigned, ReportAction.accepted]


async def test_a_category_button_left_on_an_earlier_proposal_does_not_file_a_new_report(bot: RunningBot) -> None:
    resident = await joined(bot, 8006, "孙阿姨")
    await resident.send("/report")
    [first] = await resident.send(ELEVATOR)
    await resident.press("电梯", first)
    await resident.send("/report")
    [second] = await resident.send("楼道的灯坏了一个月，晚上看不见")
    assert "电梯" not in second.button_texts
    assert await resident.press("电梯", first) == []  # the elevator report's button, pressed for the lamp
    stale = await bot.client.callback_answer(resident.last_callback_id or "")
    assert stale is not None and "选项已失效" in stale["text"]
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Report.category).order_by(Report.id))).all() == ["elevator"]
        assert await session.scalar(select(func.count()).select_from(CategoryCorrection)) == 0
    await resident.send("/myreports")  # another menu meanwhile: the lamp's proposal still counts
    [saved] = await resident.press(second.button_texts[0], second)
    assert "已受理" in saved.text


async def test_a_description_without_words_is_asked_for_again_and_photos_sent_first_are_kept(bot: RunningBot) -> None:
    resident = await joined(bot, 8007, "吴大爷")
    await resident.send("/report")
    [photo] = await resident.send_photo("漏水的照片")
    assert "照片收到了" in photo.text
    [again] = await resident.send("/report")  # lost track, starts over: the photo stays with the draft
    assert "遇到了什么问题" in again.text
    for wordless in ("。。。？？", "😭😭"):
        [asked] = await resident.send(wordless)
        assert "请用文字说说是什么问题" in asked.text and not asked.button_texts
    [proposal] = await resident.send("楼顶漏水，家里天花板在滴水")
    [saved] = await resident.press(proposal.button_texts[0], proposal)
    report = await stored(bot, number_of(saved))
    assert report.text == "楼顶漏水，家里天花板在滴水" and len(report.photos) == 1
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_a_grid_worker_recategorises_and_the_router_learns(bot: RunningBot) -> None:
    worker = await on_duty(bot)
    resident = await joined(bot, 8006, "吴奶奶")
    await resident.send("/report")
    [proposal] = await resident.send("楼道里的灯坏了一个月了，晚上看不见")
    assert await resident.press_data(proposal.message_id, ReportCategory("no_such_category").pack()) == []  # forged code: never offered
    forged = await bot.client.callback_answer(resident.last_callback_id or "")
    assert forged is not None and "选项已失效" in forged["text"]
    [saved] = await resident.press("其他", proposal)
    report_id = number_of(saved)
    ticket = await open_ticket(worker, f"报告 #{report_id}")
    [choices] = await worker.press("改类别", ticket)
    [done, ticket, *_] = await worker.press("绿化与照明", choices)
    assert "修改类别" in done.text and "绿化与照明" in ticket.text
    assert (await stored(bot, report_id)).category == "greening_lighting"
    async with bot.sessionmaker() as session:
        learned = list(await session.execute(select(CategoryCorrection.category, CategoryCorrection.previous_category)))
    # The resident's choice of "other" over the router's proposal, then the grid worker's fix.
    assert learned[-1] == ("greening_lighting", "other") and len(learned) == 2


async def test_a_restart_between_reminder_and_deadline_neither_loses_nor_repeats_them(
    start_bot: Callable[..., AbstractAsyncContextManager[RunningBot]],
) -> None:
    async with start_bot() as bot:
        await on_duty(bot)
        await join(bot, 8007, "郑阿姨")
        report_id = await report(bot.client.user(8007, "郑阿姨"), "楼道里闻到煤气泄漏的味道，很害怕", "燃气")
        filed = await stored(bot, report_id)
        assert filed.deadline - filed.created_at == timedelta(hours=2)  # a leak: the urgent deadline
        done = await run_sweeps(bot.sessionmaker, bot.settings, now=filed.remind_at + timedelta(minutes=1))
        assert done["report-deadlines"] == 1
        await arrives(bot.client.user(GRID_WORKER), "提醒经办人")
    async with start_bot() as bot:  # a new process on the same database
        admin = bot.client.user(ADMIN, "陈主任")
        await admin.send("/help")
        async with bot.sessionmaker() as session:
            admin_id = await session.scalar(select(ChannelIdentity.person_id).where(ChannelIdentity.external_id == str(ADMIN)))
        again = await run_sweeps(bot.sessionmaker, bot.settings, now=filed.remind_at + timedelta(minutes=5))
        assert again["report-deadlines"] == 0
        overdue = await run_sweeps(bot.sessionmaker, bot.settings, now=filed.deadline + timedelta(minutes=1))
        assert overdue["report-deadlines"] == 1
        assert await actions(bot, report_id) == [ReportAction.submitted, ReportAction.assigned, ReportAction.reminded, ReportAction.escalated]
        async with bot.sessionmaker() as session:  # one reminder to the handler, one escalation to the admin
            told = list(await session.scalars(select(OutboxDelivery.person_id).order_by(OutboxDelivery.id)))
        assert told.count(filed.handler_id) == 2 and told.count(admin_id) == 1  # the assignment and the reminder; the 催办
        escalated = await arrives(admin, "已超期，报社区催办")
        assert f"报告 #{report_id}" in escalated.text


async def test_a_report_in_progress_survives_a_restart(start_bot: Callable[..., AbstractAsyncContextManager[RunningBot]]) -> None:
    async with start_bot() as bot:
        resident = await joined(bot, 8008, "冯奶奶")
        await resident.send("/report")
        await resident.send_photo("roof")
        [proposal] = await resident.send("顶楼漏水，墙皮都泡掉了")
        assert proposal.button_texts
    async with start_bot() as bot:  # the process restarted before the category was confirmed
        resident = bot.client.user(8008, "冯奶奶")
        [resumed] = await resident.send("/report")
        assert "您已写的内容：顶楼漏水，墙皮都泡掉了" in resumed.text
        [saved] = await resident.press(resumed.button_texts[0], resumed)
        filed = await stored(bot, number_of(saved))
        assert filed.text == "顶楼漏水，墙皮都泡掉了" and len(filed.photos) == 1


async def test_reporting_on_wechat_with_a_photo_a_location_and_numbered_options(wechat_bot: RunningBot) -> None:
    worker = await on_duty(wechat_bot)  # on Telegram: one bot, both channels
    resident = wechat(wechat_bot).user("oReporter0001")
    await resident.follow()
    await resident.send(wechat_bot.sample.building_code)
    await resident.send("1")
    [joined] = await resident.send("301")
    assert "您已加入住户" in joined
    [asked] = await resident.send("报修")
    assert "遇到了什么问题" in asked
    [received] = await resident.send_image()
    assert "照片收到了" in received
    [located] = await resident.send_location(26.42, 111.61, "西冲塘小区3栋")
    assert "位置收到了" in located
    [proposal] = await resident.send(ELEVATOR)
    assert "回复 1：电梯" in proposal
    [saved] = await resident.send("1")
    assert "报告 #1 已受理：电梯" in saved
    [mine] = await resident.send("我的报告")
    assert "#1 电梯 · 已派单" in mine and "回复 1：#1 详情" in mine
    [history] = await resident.send("1")
    assert "提交报告" in history and "派单" in history
    filed = await stored(wechat_bot, 1)
    assert filed.photos[0]["channel"] == "wechat" and filed.location_label == "西冲塘小区3栋"

    ticket = await open_ticket(worker, "报告 #1")
    assert "照片：1 张" in ticket.text and "西冲塘小区3栋" in ticket.text  # a WeChat photo is not shown on Telegram
    [_, ticket, *_] = await worker.press("签收", ticket)
    await worker.press("办结", ticket)
    await worker.send("已修好")
    # The follow-up, answered by numbers from the report's details (我的报告 → its number).
    await resident.send("我的报告")
    [details] = await resident.send("1")
    assert "办结：已修好" in details and "回复 1：已解决\n回复 2：还没解决" in details
    [rate] = await resident.send("1")
    assert "请打分" in rate and "回复 5：5 ⭐⭐⭐⭐⭐" in rate
    [thanks] = await resident.send("4")
    assert "4 分" in thanks
    assert (await stored(wechat_bot, 1)).rating == 4


async def test_on_wechat_a_new_step_is_answered_by_number_not_an_older_list(wechat_bot: RunningBot) -> None:
    resident = wechat(wechat_bot).user("oReporter0002")
    await resident.follow()
    await resident.send(wechat_bot.sample.building_code)
    await resident.send("1")
    await resident.send("302")
    await resident.send("报修")
    await resident.send(ELEVATOR)
    [saved] = await resident.send("1")
    assert "报告 #1 已受理" in saved
    [mine] = await resident.send("我的报告")
    assert "回复 1：#1 详情" in mine
    [asked] = await resident.send("报修")
    assert "遇到了什么问题" in asked
    [answer] = await resident.send("1")  # an answer to "what is the problem?", not the list's first line
    assert "提交报告" not in answer and "回复 1：" in answer  # report #1's history is not shown: the categories are
    [chosen] = await resident.send("1")  # the proposal's own menu counts
    assert "报告 #2 已受理" in chosen

