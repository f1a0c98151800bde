"""Plans end to end through the Bot API emulator: an admin drafts a plan in the chat and
publishes it; residents read it on the phone and object; the admin answers; the notice ends by
the sweep after a restart; the plan is adopted; works progress reaches residents, who may mute
it; a finished item is confirmed or not by its buildings' residents; shares are seen and
pledged; and nobody does what their role does not allow."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from bot import scheduling
from bot.conversations.plan_messages import MAX_MESSAGE_CHARS
from bot.emulator.client import UserChat
from bot.services import access, audit, plan_costs, plans
from storage.models import (
    AcceptanceAnswer,
    ChannelIdentity,
    Conversation,
    CostShare,
    Household,
    ItemClass,
    OutboxDelivery,
    Place,
    PlaceKind,
    Plan,
    PlanFeedback,
    PlanStatus,
    Report,
    Role,
    ShareStatus,
    Vote,
    VoteOption,
    utcnow,
)
from tests.conftest import RunningBot, running_bot
from tests.test_notices import arrives, join

GRID, ADMIN = 1002, 1004  # of the sample community (bot/demo.py)


async def draft_plan(admin: UserChat, buildings: str = "1栋", funding: str = "300000 50000 0 0", title: str = "雨污分流改造\n更换小区排水管网") -> None:
    [ask] = await admin.send("/newplan")
    assert "标题" in ask.text
    [saved, classes] = await admin.send("西冲塘小区2027年改造方案")
    assert "已存为草稿" in saved.text and "基础类" in classes.button_texts
    await add_item(admin, classes, buildings, funding, title)


async def add_item(admin: UserChat, classes, buildings: str, funding: str, title: str, item_class: str = "基础类") -> None:  # type: ignore[no-untyped-def]
    [ask_title] = await admin.press(item_class, classes)
    assert "标题" in ask_title.text
    await admin.send(title)
    await admin.send("排水")
    [ask_buildings] = await admin.send(funding)
    assert "楼栋" in ask_buildings.text
    [ask_dates] = await admin.send(buildings)
    assert "日期" in ask_dates.text
    [added] = await admin.send("2027-03-01 2027-05-31")
    assert "已加入" in added.text and "2027-03-01" in added.text


async def publish(bot: RunningBot, admin: UserChat) -> None:
    [shown] = await admin.send("/plans")
    [published] = await admin.press("发布公示", shown)
    assert "公示到" in published.text


async def test_a_plan_goes_from_draft_through_notice_works_and_acceptance(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await join(bot, 8101, "王阿姨", room="301")
        await join(bot, 8102, "刘师傅", room="402")
        admin = bot.client.user(ADMIN, "陈主任")
        await draft_plan(admin)
        resident = bot.client.user(8101, "王阿姨")
        [nothing] = await resident.send("/plans")
        assert "还没有公布" in nothing.text  # a draft is the admin's alone
        await publish(bot, admin)

        told = await arrives(resident, "公示")
        assert "西冲塘小区" in told.text and told.button_texts == ["查看方案"]
        [plan] = await resident.press("查看方案", told)
        assert "基础类" in plan.text and "¥350,000.00" in plan.text and "░░░░░░░░░░ 0%" in plan.text and "1栋" in plan.text
        assert "政府 ¥300,000.00" in plan.text and plan.button_texts == ["提出异议", "提意见"]
        [ask] = await resident.press("提出异议", plan)
        assert "写下您的异议" in ask.text
        [thanks] = await resident.send("1 施工期间请保证老人出行")
        assert "社区会在这里答复" in thanks.text

        objection = await arrives(admin, "施工期间请保证老人出行")
        assert "异议" in objection.text and "第1项" in objection.text and objection.button_texts == ["答复"]
        await admin.press("答复", objection)
        [sent] = await admin.send("会留出人行通道，谢谢提醒。")
        assert "已发出" in sent.text
        assert "会留出人行通道" in (await arrives(resident, "社区答复")).text

    # A restart in the middle of the notice: the database is the schedule. Telegram's update
    # ids go on across a restart; a new emulator's would start again at 1.
    async with running_bot(tmp_path, first_update_id=10_000) as bot:
        admin, resident = bot.client.user(ADMIN, "陈主任"), bot.client.user(8101, "王阿姨")
        for person in (admin, resident, bot.client.user(8102, "刘师傅")):
            await person.send("/help")  # a new emulator: people open the chat with the bot there
        early = await scheduling.run_sweeps(bot.sessionmaker, bot.settings, now=utcnow() + timedelta(days=6))
        assert (early["plan-notices"], early["plan-acceptances"]) == (0, 0)
        later = utcnow() + timedelta(days=7, minutes=1)
        assert (await scheduling.run_sweeps(bot.sessionmaker, bot.settings, now=later))["plan-notices"] == 1
        assert (await scheduling.run_sweeps(bot.sessionmaker, bot.settings, now=later))["plan-notices"] == 0  # once only
        summary = await arrives(admin, "公示期已结束")
        assert "1 条异议" in summary.text and "0 条未答复" in summary.text
        [adopted] = await admin.press("通过方案", summary)
        assert "方案已通过" in adopted.text
        await arrives(resident, "已通过")

        # Works: the grid worker posts progress; a resident who muted hears nothing more.
        other = bot.client.user(8102, "刘师傅")
        await other.send("/plans")  # the adoption's message may arrive in between
        await other.press("不再接收施工消息")
        muted = await bot.client.callback_answer(other.last_callback_id or "")
        assert muted is not None and "不再收到" in muted["text"]
        grid = bot.client.user(GRID, "李网格")
        [works] = await grid.send("/works")
        assert "雨污分流改造" in works.text and "分摊居民部分" not in works.button_texts  # sharing costs is the admin's
        await grid.press("发布进度", works)
        [saved] = await grid.send("60 管道已铺完")
        assert "▓▓▓▓▓▓░░░░ 60%" in saved.text
        progress = await arrives(resident, "60%")
        assert "管道已铺完" in progress.text
        await grid.press("发布进度", (await grid.send("/works"))[0])
        [with_photo] = await grid.send_photo("photo of the new pipes", caption="80 检查井已砌好")
        assert "80%" in with_photo.text
        photo = await arrives(resident, "80%")
        assert photo.photo and "检查井已砌好" in photo.text
        await grid.press("施工通知", (await grid.send("/works"))[0])
        [sent] = await grid.send("明天9点到12点停水")
        assert "发给 1 个聊天" in sent.text  # 王阿姨 only: 刘师傅 muted the plan
        await arrives(resident, "明天9点到12点停水")
        await asyncio.sleep(0.5)
        assert not [m for m in await other.messages() if "停水" in m.text or "60%" in m.text]

        # Completion: the buildings' residents are asked; one says done, one not done.
        await grid.press("发布进度", (await grid.send("/works"))[0])
        [finished] = await grid.send("100 全部完工")
        assert "请该楼居民确认" in finished.text
        question = await arrives(resident, "完工确认")
        [rate] = await resident.press("是的，已完成", question)
        await resident.press("★★★★", rate)
        asked = await arrives(other, "完工确认")  # muted the news, still asked as a resident of 1栋
        [what] = await other.press("没有完成", asked)
        assert "问题" in what.text
        [reported] = await other.send("井盖还没装好")
        assert "问题报告" in reported.text
        async with bot.sessionmaker() as session:
            answers = {a.done: a for a in await session.scalars(select(AcceptanceAnswer))}
            assert answers[True].rating == 4 and answers[False].note == "井盖还没装好"
            # "Not done" opened a problem report with the resident's words, linked to the answer.
            report = await session.get(Report, answers[False].report_id)
            assert report is not None and "井盖还没装好" in report.text and report.reporter_id == answers[False].person_id
        assert f"#{report.id}" in reported.text
        # Again: one answer each.
        await resident.press("是的，已完成", question)
        assert "已经答复过" in ((await bot.client.callback_answer(resident.last_callback_id or "")) or {}).get("text", "")

        done = await scheduling.run_sweeps(bot.sessionmaker, bot.settings, now=utcnow() + timedelta(days=8))
        assert done["plan-acceptances"] == 1
        async with bot.sessionmaker() as session:
            plan_row = await session.scalar(select(Plan))
            assert plan_row is not None and plan_row.status is PlanStatus.closed
            assert (await session.scalar(select(func.count()).select_from(PlanFeedback))) == 1
        result = await arrives(admin, "已验收")  # 1 of 2 confirmed: the default half is enough
        assert "1 人说已完成，1 人说没有完成" in result.text


async def test_costs_are_shared_seen_and_pledged(bot: RunningBot) -> None:
    await join(bot, 8201, "赵大爷", room="601")
    await join(bot, 8202, "孙阿姨", room="101")
    admin = bot.client.user(ADMIN, "陈主任")
    # An elevator for 1栋: 600,000, of which residents pay 240,000.
    await draft_plan(admin, funding="300000 0 240000 60000", title="加装电梯")
    await publish(bot, admin)
    async with bot.sessionmaker() as session:  # the notice has run: adopt at once
        plan = await session.scalar(select(Plan))
        assert plan is not None
        plan.status = PlanStatus.notice_ended
        await session.commit()
    [summary] = await admin.send("/plans")
    await admin.press("通过方案", summary)

    # Floor 6 of 1栋 pays 1.5 instead of the default 1.0.
    [buildings] = await admin.send("/coefficients")
    [current] = await admin.press("西冲塘小区 1栋", buildings)
    assert "3:0.7" in current.text
    [bad] = await admin.send("一楼零")
    assert "不是系数表" in bad.text
    [saved] = await admin.send("1:0,2:0,3:0.7,4:0.8,5:0.9,6:1.5")
    assert "6:1.5" in saved.text

    async with bot.sessionmaker() as session:  # a household whose area the register lacks
        missing = await session.scalar(select(Household).join(Place, Place.id == Household.unit_id).where(Place.name == "2单元", Household.room == "602"))
        assert missing is not None
        missing.area = Decimal(0)
        await session.commit()
    [works] = await admin.send("/works")
    [shared] = await admin.press("分摊居民部分", works)
    assert "¥240,000.00" in shared.text and "23 户" in shared.text and "1栋2单元602 没有面积记录" in shared.text
    async with bot.sessionmaker() as session:
        shares = list(await session.scalars(select(CostShare)))
    assert sum(s.amount for s in shares) == Decimal("240000.00") and len(shares) == 23
    assert {s.amount for s in shares if s.floor <= 2} == {Decimal("0.00")}
    top = [s for s in shares if s.floor == 6]
    fifth = [s for s in shares if s.floor == 5]
    assert top[0].coefficient == Decimal("1.5") and min(s.amount for s in top) > max(s.amount for s in fifth)

    resident = bot.client.user(8201, "赵大爷")
    told = await arrives(resident, "分摊")
    [share] = await resident.press("查看我的分摊", told)
    assert "1.5" in share.text and "58.60" in share.text and "¥240,000.00" in share.text
    [pledged] = await resident.press("认缴", share)
    assert "已认缴" in pledged.text
    ground = bot.client.user(8202, "孙阿姨")
    await arrives(ground, "分摊已算好")  # the outbox's word first, so that it cannot land among the answers below
    [zero] = await ground.send("/shares")
    assert "¥0.00" in zero.text
    await ground.press("有异议", zero)
    await ground.send("一楼不用电梯，为什么要出钱")

    [progress] = await admin.send("/shares")
    assert "已认缴 ¥" in progress.text and "23 户中 1 户已认缴，1 户有异议" in progress.text
    # The building's leader sees the pledges too, below their own household's share.
    async with bot.sessionmaker() as session:
        leader = await session.scalar(select(ChannelIdentity.person_id).where(ChannelIdentity.external_id == "8201"))
        building = await session.scalar(select(Place.id).where(Place.name == "1栋"))
        assert leader is not None and building is not None
        await access.grant_role(session, leader, Role.building_leader, access.Scope(PlaceKind.building, building), actor=audit.COMMAND_LINE)
        await session.commit()
    [own, pledges] = await resident.send("/shares")
    assert "您家" in own.text and "23 户中 1 户已认缴" in pledges.text
    [refused] = await ground.send("/shares")  # a resident sees their own share only
    assert "户已认缴" not in refused.text
    async with bot.sessionmaker() as session:
        statuses = sorted(s.status.value for s in await session.scalars(select(CostShare).where(CostShare.status != ShareStatus.open)))
    assert statuses == ["disputed", "pledged"]


async def test_no_one_does_what_their_role_does_not_allow(bot: RunningBot) -> None:
    await join(bot, 8301, "周阿姨", room="501")
    resident = bot.client.user(8301, "周阿姨")
    [refused] = await resident.send("/newplan")
    assert "由社区管理员" in refused.text
    admin = bot.client.user(ADMIN, "陈主任")
    await draft_plan(admin)
    # A forged "publish" from a resident changes nothing.
    [shown] = await admin.send("/plans")
    publish_data = shown.button("发布公示").callback_data or ""
    assert await resident.press_data((await resident.last()).message_id, publish_data) == []
    assert "没有这个权限" in ((await bot.client.callback_answer(resident.last_callback_id or "")) or {}).get("text", "")
    # Nor can the grid worker publish, or a resident answer an item that is not finished.
    grid = bot.client.user(GRID, "李网格")
    [menu] = await grid.send("/help")
    assert await grid.press_data(menu.message_id, publish_data) == []
    assert "没有这个权限" in ((await bot.client.callback_answer(grid.last_callback_id or "")) or {}).get("text", "")
    async with bot.sessionmaker() as session:
        plan = await session.scalar(select(Plan))
        assert plan is not None and plan.status is PlanStatus.draft
        assert await session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0
    for forged in ("pcls:1:1", "pans:1", "pcoef:1", "pwork:1:1"):  # add an item, answer, coefficients, works
        assert await resident.press_data((await resident.last()).message_id, forged) == []
        refusal = ((await bot.client.callback_answer(resident.last_callback_id or "")) or {}).get("text", "")
        assert any(words in refusal for words in ("没有这个权限", "不存在", "没有编号")), forged
    async with bot.sessionmaker() as session:  # and no step was entered
        assert await session.scalar(select(func.count()).select_from(Conversation).where(Conversation.step.is_not(None))) == 0
    assert await resident.press_data((await resident.last()).message_id, "pdone:1:1") == []
    assert "不是在等" in ((await bot.client.callback_answer(resident.last_callback_id or "")) or {}).get("text", "")


async def test_a_resident_on_wechat_reads_the_plan_and_objects_by_number(wechat_bot: RunningBot) -> None:
    assert wechat_bot.wechat_client is not None
    resident = wechat_bot.wechat_client.user("oPlanResident01")
    await resident.follow()
    await resident.send(wechat_bot.sample.building_code)
    await resident.send("1")  # 1单元
    [joined] = await resident.send("301")
    assert "您已加入住户" in joined
    admin = wechat_bot.client.user(ADMIN, "陈主任")
    await draft_plan(admin)
    await publish(wechat_bot, admin)
    # The publication waits in the outbox for the resident's WeChat chat (this base has no
    # WeChat sender yet: the delivery branch brings it).
    async with wechat_bot.sessionmaker() as session:
        queued = list(await session.execute(select(OutboxDelivery.channel, OutboxDelivery.chat_id)))
    assert queued == [("wechat", "oPlanResident01")]

    [plan] = await resident.send("方案")
    assert "基础类" in plan and "¥350,000.00" in plan and "回复 1：提出异议" in plan and "回复 2：提意见" in plan
    [ask] = await resident.send("2")
    assert "写下您的意见" in ask
    [thanks] = await resident.send("排水管换好后请把路面恢复平整")
    assert "社区会在这里答复" in thanks
    async with wechat_bot.sessionmaker() as session:
        feedback = await session.scalar(select(PlanFeedback))
    assert feedback is not None and feedback.kind.value == "comment" and feedback.item_id is None
    assert "排水管换好后" in (await arrives(admin, "的意见")).text


async def test_a_long_plan_is_read_in_several_messages(bot: RunningBot) -> None:
    admin = bot.client.user(ADMIN, "陈主任")
    await admin.send("/help")
    async with bot.sessionmaker() as session:
        compound = await session.scalar(select(Place).where(Place.kind == PlaceKind.compound))
        assert compound is not None
        plan = await plans.create_plan(session, audit.COMMAND_LINE, compound.id, "全面改造方案")
        for n in range(1, 31):
            draft = plans.ItemDraft(list(ItemClass)[n % 3], f"项目{n:02d}", "综合", "包括拆除、铺设、恢复路面和绿化等多道工序。" * 2, Decimal(10000 * n))
            await plans.add_item(session, audit.COMMAND_LINE, plan.id, draft)
        await session.commit()
    shown = await admin.send("/plans")
    assert len(shown) > 2 and all(len(m.text) <= MAX_MESSAGE_CHARS for m in shown)
    assert [m.buttons != () for m in shown] == [False] * (len(shown) - 1) + [True]  # the options under the last
    text = "\n".join(m.text for m in shown)
    assert text.index("基础类") < text.index("完善类") < text.index("提升类")
    assert all(f"项目{n:02d}" in text for n in range(1, 31)) and "共 30 项，总预算 ¥4,650,000.00" in text


async def test_a_resident_on_wechat_sees_and_pledges_their_share_by_number(wechat_bot: RunningBot) -> None:
    assert wechat_bot.wechat_client is not None
    resident = wechat_bot.wechat_client.user("oPlanResident02")
    await resident.follow()
    await resident.send(wechat_bot.sample.building_code)
    await resident.send("2")  # 2单元
    await resident.send("502")
    async with wechat_bot.sessionmaker() as session:
        compound = await session.scalar(select(Place).where(Place.kind == PlaceKind.compound))
        assert compound is not None
        plan = await plans.create_plan(session, audit.COMMAND_LINE, compound.id, "加装电梯")
        buildings = await plans.buildings_named(session, compound.id, ["1栋"])
        draft = plans.ItemDraft(ItemClass.improvement, "加装电梯", funding_government=Decimal("300000"), funding_residents=Decimal("240000"), building_ids=tuple(buildings))
        item = await plans.add_item(session, audit.COMMAND_LINE, plan.id, draft)
        plan.status = PlanStatus.adopted
        await plan_costs.split_item(session, audit.COMMAND_LINE, item.id)
        await session.commit()
    [share] = await resident.send("分摊")
    assert "1栋2单元502" in share and "5楼系数 0.9" in share and "回复 1：认缴" in share
    [pledged] = await resident.send("1")
    assert "已认缴 ¥" in pledged
    async with wechat_bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CostShare).where(CostShare.status == ShareStatus.pledged)) == 1


async def test_an_admin_puts_an_adopted_plans_items_to_a_vote_of_the_compound(bot: RunningBot) -> None:
    async with bot.sessionmaker() as session:
        compound = await session.scalar(select(Place).where(Place.kind == PlaceKind.compound))
        assert compound is not None
        plan = await plans.create_plan(session, audit.COMMAND_LINE, compound.id, "2027年改造方案")
        buildings = tuple(await plans.buildings_named(session, compound.id, ["1栋"]))
        for title in ("雨污分流", "加装电梯", "屋面防水"):
            await plans.add_item(session, audit.COMMAND_LINE, plan.id, plans.ItemDraft(ItemClass.basic, title, funding_government=Decimal("100000"), building_ids=buildings))
        plan.status = PlanStatus.adopted
        await session.commit()
    admin = bot.client.user(ADMIN, "陈主任")
    *_, view = await admin.send("/plans")
    [how_many] = await admin.press("投票", view)
    assert "1. 雨污分流\n2. 加装电梯\n3. 屋面防水" in how_many.text and "每户最多可以选几项" in how_many.text
    await admin.send("2")
    [preview] = await admin.send("12-31 18:00")
    [opened] = await admin.press("开始投票", preview)
    assert "投票已开始" in opened.text
    async with bot.sessionmaker() as session:
        vote = await session.scalar(select(Vote))
        assert vote is not None and vote.place_id == compound.id and vote.max_choices == 2 and vote.title == "2027年改造方案"
        assert list(await session.scalars(select(VoteOption.label).order_by(VoteOption.position))) == ["雨污分流", "加装电梯", "屋面防水"]
