"""Votes end to end through the emulators: an admin puts a decision step by step, residents
vote with buttons and change their vote, a building leader records a paper form with its
photo, reminders go to the households that have not voted (once, across a restart), and at
the close the result and its chart reach the compound. A consultation runs on WeChat with
numbered options."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import scheduling
from bot.emulator.client import UserChat
from bot.services import access, audit, invites, people, votes
from storage.models import Ballot, BallotChannel, Household, OutboxMessage, Place, PlaceKind, Role, Vote, VoteKind, utcnow
from tests.conftest import RunningBot
from tests.test_notices import arrives

ADMIN = 1004  # of the sample community (bot/demo.py)


async def household(bot: RunningBot, building: str, unit: str, room: str) -> int:
    async with bot.sessionmaker() as session:
        building_id = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.building, Place.name == building))
        unit_id = await session.scalar(select(Place.id).where(Place.parent_id == building_id, Place.name == unit))
        found = await session.scalar(select(Household.id).where(Household.unit_id == unit_id, Household.room == room))
    assert found is not None
    return found


async def verified_resident(bot: RunningBot, user_id: int, name: str, home: int) -> UserChat:
    """A resident who joined with their household's paper code: a verified member."""
    async with bot.sessionmaker.begin() as session:
        code = await invites.household_code(session, home, actor=audit.COMMAND_LINE)
    resident = bot.client.user(user_id, name)
    [joined] = await resident.send(f"/start {code}")
    assert "认证住户成员" in joined.text
    return resident


async def grant(bot: RunningBot, user_id: int, role: Role, kind: PlaceKind, name: str) -> None:
    async with bot.sessionmaker.begin() as session:
        place_id = await session.scalar(select(Place.id).where(Place.kind == kind, Place.name == name))
        person = await people.get_or_create_person(session, people.TELEGRAM, str(user_id), "楼栋长")
        await access.grant_role(session, person.id, role, access.Scope(kind, place_id or 0), actor=audit.COMMAND_LINE)


async def sweep(bot: RunningBot, now: datetime) -> dict[str, int]:
    return await scheduling.run_sweeps(bot.sessionmaker, bot.settings, now)


async def outbox_count(bot: RunningBot, source: str) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.source == source)) or 0


async def test_a_decision_from_creation_to_published_result(bot: RunningBot) -> None:
    wang = await verified_resident(bot, 8101, "王阿姨", await household(bot, "1栋", "1单元", "101"))
    li = await verified_resident(bot, 8102, "李叔", await household(bot, "1栋", "1单元", "102"))
    zhao = await verified_resident(bot, 8103, "赵奶奶", await household(bot, "2栋", "1单元", "101"))
    await grant(bot, 8201, Role.building_leader, PlaceKind.building, "1栋")

    admin = bot.client.user(ADMIN, "陈主任")
    [kinds] = await admin.send("发起投票")
    [places] = await admin.press("重大事项表决", kinds)
    [write] = await admin.press("西冲塘小区", places)
    assert "第一行写标题" in write.text
    [when] = await admin.send("加装电梯\n1栋1单元加装电梯，费用按楼层分摊。")
    closes = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).replace(hour=18, minute=0, second=0, microsecond=0)
    [preview] = await admin.send(closes.strftime("%Y-%m-%d %H:%M"))
    assert "加装电梯" in preview.text and "四分之三" not in preview.text and "3/4" in preview.text
    [opened] = await admin.press("开始投票", preview)
    assert "投票已开始" in opened.text
    async with bot.sessionmaker() as session:
        vote = await session.scalar(select(Vote))
    assert vote is not None and vote.kind is VoteKind.decision and vote.rule == "civil-code-major"

    assert (await sweep(bot, utcnow()))["vote_openings"] == 1
    announced = await arrives(wang, "投票开始了")
    assert "加装电梯" in announced.text and announced.button_texts == ["现在投票"]

    [ballot] = await wang.press("现在投票", announced)
    assert "1栋1单元加装电梯" in ballot.text and ballot.button_texts == ["同意", "不同意", "弃权"]
    [receipt] = await wang.press("同意", ballot)
    assert "投票回执" in receipt.text and "您家的投票已记录：同意" in receipt.text
    [changed] = await wang.press("不同意", ballot)  # the ballot stays, with its buttons, until the close
    assert "已改为：不同意" in changed.text
    [again] = await wang.send("投票")
    assert "您家目前的选择：不同意" in again.text
    await li.press("同意", (await li.send("/vote"))[0])

    # A forged button: Zhao's household is in the vote, but the button names Wang's.
    forged = ballot.button("同意").callback_data or ""
    assert await zhao.press_data((await zhao.send("/vote"))[0].message_id, forged) == []
    refusal = await bot.client.callback_answer(zhao.last_callback_id or "")
    assert refusal is not None and "已核实的业主" in refusal["text"]

    # The building leader of 1栋 records a paper form for 1栋 1单元 201.
    leader = bot.client.user(8201, "楼栋长")
    [which] = await leader.send("纸质投票")
    [room] = await leader.press("加装电梯", which)
    [options] = await leader.send("1单元 201")
    assert "1栋 1单元 201" in options.text
    [photo] = await leader.press("同意", options)
    assert "照片" in photo.text
    [recorded] = await leader.send_photo("signed-form", "")
    assert "已登记" in recorded.text
    [other] = await leader.send("纸质投票")
    await leader.press("加装电梯", other)
    [refused] = await leader.send("2栋 101")  # not the leader's building
    assert "没有参加这个投票" in refused.text
    [progress] = await leader.send("/turnout")
    assert "已有 3 户投票" in progress.text and "纸质票 1 户" in progress.text and "1栋1单元102" not in progress.text

    # Three days before the close: a reminder to Zhao's household only; not again after a restart.
    assert (await sweep(bot, vote.closes_at - timedelta(days=2, hours=23)))["vote_reminders"] == 1
    assert (await sweep(bot, vote.closes_at - timedelta(days=2, hours=22)))["vote_reminders"] == 0
    reminder = await arrives(zhao, "还没有投票")
    assert reminder.button_texts == ["现在投票"]
    assert [m for m in await wang.messages() if "还没有投票" in m.text] == []

    # The close: the result, with the chart, reaches every member of the compound.
    assert (await sweep(bot, vote.closes_at + timedelta(minutes=1)))["vote_results"] == 1
    assert (await sweep(bot, vote.closes_at + timedelta(minutes=2)))["vote_results"] == 0
    result = await arrives(li, "投票结果")
    assert result.photo and "未通过" in result.text and "参与表决：72 户中 3 户" in result.text
    assert await outbox_count(bot, f"vote:{vote.id}:result") == 1
    closed = await wang.press("同意", ballot)
    assert closed == []
    late = await bot.client.callback_answer(wang.last_callback_id or "")
    assert late is not None and "已经截止" in late["text"]
    async with bot.sessionmaker() as session:
        channels = sorted((await session.scalars(select(Ballot.channel))).all())
    assert channels == [BallotChannel.online, BallotChannel.online, BallotChannel.paper]


async def test_reminders_are_neither_lost_nor_repeated_across_a_restart(start_bot: Callable[..., AbstractAsyncContextManager[RunningBot]]) -> None:
    async with start_bot() as bot:
        zhao = await verified_resident(bot, 8103, "赵奶奶", await household(bot, "2栋", "1单元", "101"))
        async with bot.sessionmaker.begin() as session:
            compound = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.compound))
            now = utcnow()
            vote = await votes.create(session, audit.COMMAND_LINE, votes.VoteSpec(VoteKind.decision, "更换水管", compound or 0, now, now + timedelta(days=5)))
        await sweep(bot, now)
        await sweep(bot, vote.closes_at - timedelta(days=3))
        await arrives(zhao, "还没有投票")
    async with start_bot() as bot:  # the same database file, a new process
        assert (await sweep(bot, vote.closes_at - timedelta(days=2)))["vote_reminders"] == 0
        assert (await sweep(bot, vote.closes_at - timedelta(hours=23)))["vote_reminders"] == 1
        assert await outbox_count(bot, f"vote:{vote.id}:remind") == 2



async def test_a_consultation_on_wechat_with_numbered_options(wechat_bot: RunningBot) -> None:
    assert wechat_bot.wechat_client is not None
    home = await household(wechat_bot, "1栋", "1单元", "301")
    async with wechat_bot.sessionmaker.begin() as session:
        compound = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.compound))
        now = utcnow()
        spec = votes.VoteSpec(
            VoteKind.consultation, "先改哪些", compound or 0, now, now + timedelta(days=7), explanation="每户最多选两项。",
            items=("加装电梯", "屋面防水", "楼道照明"), max_choices=2,
        )
        vote = await votes.create(session, audit.COMMAND_LINE, spec)
        code = await invites.household_code(session, home, actor=audit.COMMAND_LINE)
    resident = wechat_bot.wechat_client.user("oVoter0001")
    await resident.follow()
    [joined] = await resident.send(f"加入 {code}")
    assert "认证住户成员" in joined
    [ballot] = await resident.send("投票")
    assert "先改哪些" in ballot and "回复 1：加装电梯" in ballot and "回复 4：提交我的选择（0 项）" in ballot
    [ticked] = await resident.send("2")
    assert "回复 2：✅ 屋面防水" in ticked
    [ticked] = await resident.send("3")
    [too_many] = await resident.send("1")
    assert "最多只能选 2 项" in too_many
    [receipt] = await resident.send("4")
    assert "您家的投票已记录：屋面防水、楼道照明" in receipt
    async with wechat_bot.sessionmaker() as session:
        result = await votes.result(session, vote)
    assert [item.label for item in result.ranked][:2] == ["屋面防水", "楼道照明"] and result.turnout.voted.households == 1
