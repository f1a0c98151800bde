"""Signing up as building leader or party-member volunteer, approval by the community, and
revoking roles, end to end through the Bot API emulator."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import people
from storage.models import ApplicationStatus, ChannelIdentity, Place, Role, RoleApplication, RoleGrant
from tests.conftest import RunningBot
from tests.test_notices import arrives, join

GRID_WORKER, ADMIN = 1002, 1004  # of the sample community (bot/demo.py)


async def grants_of(bot: RunningBot, user_id: int) -> set[tuple[Role, str]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(RoleGrant.role, Place.name)
            .join(Place, Place.id == RoleGrant.place_id)
            .join(ChannelIdentity, ChannelIdentity.person_id == RoleGrant.person_id)
            .where(ChannelIdentity.channel == people.TELEGRAM, ChannelIdentity.external_id == str(user_id))
        )
        return {(role, name) for role, name in rows}


async def test_a_resident_becomes_building_leader_when_a_grid_worker_approves(bot: RunningBot) -> None:
    grid = bot.client.user(GRID_WORKER, "李网格")
    await grid.send("/help")  # Telegram lets the bot write only to people who wrote to it
    await join(bot, 7001, "刘阿姨")
    resident = bot.client.user(7001, "刘阿姨")
    [sent] = await resident.send("当楼栋长")
    assert "楼栋长" in sent.text and "社区" in sent.text
    [again] = await resident.send("/leader")
    assert "已经报过名" in again.text

    told = await arrives(grid, "刘阿姨 申请当1栋的楼栋长。发送 /applications 审批")  # through the outbox
    assert told.buttons == ()
    [header, application] = await grid.send("/applications")
    assert "1 份" in header.text
    assert "刘阿姨 申请当1栋的楼栋长" in application.text and application.button_texts == ["批准", "不通过"]

    # Someone without the role presses a copy of the button: refused, nothing changes.
    intruder = bot.client.user(7002)
    await intruder.send("/help")
    assert await intruder.press_data((await intruder.last()).message_id, application.button("批准").callback_data or "") == []
    refusal = await bot.client.callback_answer(intruder.last_callback_id or "")
    assert refusal is not None and "没有这个权限" in refusal["text"]
    assert await grants_of(bot, 7001) == set()

    [approved] = await grid.press("批准", application)
    assert "已批准" in approved.text
    assert await grants_of(bot, 7001) == {(Role.building_leader, "1栋")}
    await grid.press_data(application.message_id, application.button("批准").callback_data or "")  # twice
    assert "已经处理过" in ((await bot.client.callback_answer(grid.last_callback_id or "")) or {}).get("text", "")
    await arrives(resident, "您申请当1栋的楼栋长，已获批准")
    [me] = await resident.send("/me")
    assert "1栋 楼栋长" in me.text


async def test_a_volunteer_states_party_membership_and_a_rejection_carries_its_reason(bot: RunningBot) -> None:
    await join(bot, 7003, "周师傅", room="401")
    resident = bot.client.user(7003, "周师傅")
    [question] = await resident.send("/volunteer")
    assert question.button_texts == ["是，我是党员", "不是"]
    [where] = await resident.press("是，我是党员")
    assert where.button_texts == ["1栋", "西冲塘小区", "通化街社区"]
    [sent] = await resident.press("通化街社区")
    assert "党员志愿者" in sent.text

    admin = bot.client.user(ADMIN, "陈主任")
    [_, application] = await admin.send("审批")
    assert "党员：是" in application.text
    # The outbox's word of the application, retried once the admin has written, may land
    # among these answers at any moment: each answer is picked by what it says.
    asks = await admin.press("不通过", application)
    assert any("理由" in ask.text for ask in asks)
    rejected = await admin.send("本社区志愿者名额已满，欢迎明年再报")
    assert any("不予通过" in answer.text for answer in rejected)
    async with bot.sessionmaker() as session:
        row = await session.scalar(select(RoleApplication))
    assert row is not None and row.status is ApplicationStatus.rejected and row.reason.startswith("本社区志愿者名额已满") and row.party_member
    await arrives(resident, "未获通过。理由：本社区志愿者名额已满，欢迎明年再报")
    assert await grants_of(bot, 7003) == set()


async def test_signing_up_needs_a_household_and_deciding_needs_the_role(bot: RunningBot) -> None:
    [refused] = await bot.client.user(7004).send("/leader")
    assert "请先加入您的住户" in refused.text
    [nothing] = await bot.client.user(7004).send("/applications")
    assert "没有待您审批" in nothing.text


async def test_an_admin_lists_and_revokes_roles(bot: RunningBot) -> None:
    admin = bot.client.user(ADMIN, "陈主任")
    [listing] = await admin.send("/roles")
    assert "李网格：通化街社区 网格员" in listing.text
    [revoked] = await admin.press("撤销：李网格")
    assert "李网格 不再是通化街社区的网格员" in revoked.text
    assert await grants_of(bot, GRID_WORKER) == set()
    [grid_now] = await bot.client.user(GRID_WORKER).send("/roles")
    assert "没有由您管理的角色" in grid_now.text
