"""Notices end to end through the Bot API emulator: the author picks the audience, writes,
previews and sends; the outbox's sender delivers each in the reader's language with the
party-member badge; residents acknowledge; the author follows and cancels; no one sends
beyond their role's places."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.emulator.client import ChatMessage, GroupChat, UserChat
from storage.models import DeliveryStatus, NoticeAcknowledgement, OutboxDelivery, utcnow
from tests.conftest import RunningBot

VOLUNTEER, ADMIN = 1003, 1004  # of the sample community (bot/demo.py)


async def join(bot: RunningBot, user_id: int, name: str, room: str = "301") -> None:
    resident = bot.client.user(user_id, name)
    await resident.send(f"/start {bot.sample.building_code}")
    await resident.send("1单元")
    [joined] = await resident.send(room)
    assert "1单元" in joined.text


async def arrives(chat: UserChat | GroupChat, words: str, timeout: float = 15.0) -> ChatMessage:
    """The message containing `words`, once the sender has delivered it."""
    for _ in range(int(timeout / 0.1)):
        found = [m for m in await chat.messages() if words in m.text]
        if found:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message with {words!r} arrived")


async def test_a_volunteer_notice_reaches_every_resident_in_their_language_and_is_acknowledged(bot: RunningBot) -> None:
    await join(bot, 8001, "王阿姨", room="101")
    await join(bot, 8002, "Ann", room="102")
    english = bot.client.user(8002, "Ann", language_code="en")
    await english.send("/lang en")

    volunteer = bot.client.user(VOLUNTEER, "张党员")
    [audiences] = await volunteer.send("发通知")
    assert "通化街社区的居民" in audiences.button_texts
    [write] = await volunteer.press("通化街社区的居民", audiences)
    assert "请现在写通知" in write.text
    [preview] = await volunteer.send("明天上午9点到12点停水，请提前储水。")
    assert "共 2 个聊天" in preview.text and "停水" in preview.text
    [sending] = await volunteer.press("立即发送", preview)
    assert "正在发给 2 个聊天" in sending.text

    resident = bot.client.user(8001, "王阿姨")
    notice = await arrives(resident, "停水")
    assert notice.text.startswith("【党员志愿者】张党员 的通知") and notice.button_texts == ["收到"]
    in_english = await arrives(english, "停水")
    assert in_english.text.startswith("Notice from party-member volunteer 张党员") and in_english.button_texts == ["Received"]

    await resident.press("收到", notice)
    answer = await bot.client.callback_answer(resident.last_callback_id or "")
    assert answer is not None and "已确认收到" in answer["text"]
    await resident.press("收到", notice)  # twice: still one acknowledgement
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(NoticeAcknowledgement)) == 1

    for _ in range(50):  # the sender records what it delivered a moment later
        [followed] = await volunteer.send("/notices")
        if "已送达 2" in followed.text:
            break
        await asyncio.sleep(0.1)
    assert "已送达 2" in followed.text and "已确认收到 1" in followed.text and followed.button_texts == []
    assert "停水，请提前储水" in followed.text  # as written, full-width comma and all


async def test_a_notice_to_nobody_is_not_sent(bot: RunningBot) -> None:
    volunteer = bot.client.user(VOLUNTEER, "张党员")
    await volunteer.press("通化街社区的居民", (await volunteer.send("/notice"))[0])
    [nobody] = await volunteer.send("明天停水")
    assert "还没有人能收到通知" in nobody.text and nobody.button_texts == []
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0


async def test_no_one_sends_beyond_their_places(bot: RunningBot) -> None:
    await join(bot, 8003, "刘阿姨")
    resident = bot.client.user(8003, "刘阿姨")
    [refused] = await resident.send("/notice")
    assert "志愿者、楼栋长、网格员和社区管理员" in refused.text
    # A forged option naming the whole community: refused, and nothing is queued.
    community_option = next(b.callback_data for b in (await bot.client.user(VOLUNTEER).send("/notice"))[0].buttons[0])
    assert await resident.press_data((await resident.last()).message_id, community_option or "") == []
    refusal = await bot.client.callback_answer(resident.last_callback_id or "")
    assert refusal is not None and "不能向那里发通知" in refusal["text"]
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0


async def test_a_scheduled_notice_waits_and_can_be_cancelled(bot: RunningBot) -> None:
    await join(bot, 8004, "周师傅")
    admin = bot.client.user(ADMIN, "陈主任")
    [audiences] = await admin.send("/notice")
    await admin.press("通化街社区的居民", audiences)
    [preview] = await admin.send("周六上午开业主大会，地点：社区活动室。")
    [when] = await admin.press("定时发送", preview)
    assert "什么时候发" in when.text
    [unclear] = await admin.send("过几天")
    assert "没看懂" in unclear.text
    [scheduled] = await admin.send("明天 9:00")
    assert "已定于" in scheduled.text and "9:00" in scheduled.text
    async with bot.sessionmaker() as session:
        due = await session.scalar(select(OutboxDelivery.not_before))
    assert due is not None and due > utcnow()

    [followed] = await admin.send("/notices")
    [cancelled] = await admin.press("取消未发出的", followed)
    assert "1 条消息不会再发出" in cancelled.text
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(OutboxDelivery.status)) is DeliveryStatus.cancelled
