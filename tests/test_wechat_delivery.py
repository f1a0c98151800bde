"""What the bot sends on its own to people on WeChat, end to end through the WeChat emulator:
customer-service messages within 48 hours of the person's last message; outside them a template
message where one is configured, else the message waits until the person writes again (and the
notice's author sees how many wait); a token that expires during a send; photos and charts."""

from __future__ import annotations

import asyncio
import re
import time

from sqlalchemy import select

from bot.charts import bar_chart_png
from bot.delivery import outbox
from bot.emulator import WeChatEmulator, WeChatUser
from bot.emulator.wechat_client import Seen
from bot.replies import Attachment, L, Reply
from bot.services import people
from storage.models import ChannelIdentity, DeliveryPriority, DeliveryStatus, OutboxDelivery, OutboxMessage
from tests.conftest import RunningBot
from tests.test_notices import VOLUNTEER, arrives, join
from tests.test_wechat_conversations import wechat

NOTICE = "明天上午9点到12点停水，请提前储水。"


async def join_on_wechat(bot: RunningBot, openid: str, room: str) -> WeChatUser:
    resident = wechat(bot).user(openid)
    await resident.send("加入 " + bot.sample.building_code)
    await resident.send("1单元")
    [joined] = await resident.send(room)
    assert "1单元" in joined
    return resident


async def seen_containing(user: WeChatUser, words: str, timeout: float = 10.0) -> Seen:
    """The first thing the person saw that contains `words`, once it arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [s for s in await user.seen() if words in s.text]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{user.openid} saw nothing with {words!r}: {await user.seen()}")


async def send_notice_from_telegram(bot: RunningBot, text: str = NOTICE) -> None:
    volunteer = bot.client.user(VOLUNTEER, "张党员")
    [audiences] = await volunteer.send("发通知")
    await volunteer.press("通化街社区的居民", audiences)
    [preview] = await volunteer.send(text)
    await volunteer.press("立即发送", preview)


async def statuses(bot: RunningBot, chat_id: str) -> list[DeliveryStatus]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(OutboxDelivery.status).where(OutboxDelivery.chat_id == chat_id).order_by(OutboxDelivery.id)))


async def eventually_status(bot: RunningBot, chat_id: str, expected: list[DeliveryStatus]) -> None:
    """The sender records what happened a moment after it happened."""
    for _ in range(100):
        if await statuses(bot, chat_id) == expected:
            return
        await asyncio.sleep(0.05)
    assert await statuses(bot, chat_id) == expected


async def test_outside_48_hours_a_notice_waits_until_the_person_writes_and_its_author_sees_how_many_wait(start_wechat_bot, database_url: str) -> None:  # type: ignore[no-untyped-def]
    async with start_wechat_bot(database_url=database_url) as bot:
        near = await join_on_wechat(bot, "oNearWindow001", "101")
        far = await join_on_wechat(bot, "oFarWindow0001", "102")
        await far.age(hours=49)  # last wrote two days ago: customer-service messages no longer reach them
        # The token expires while the notice goes out: refreshed, and the message sent once more.
        await wechat(bot).add_fault("message/custom/send", 42001, "access_token expired")

        await send_notice_from_telegram(bot)
        notice = await seen_containing(near, "停水")
        assert notice.kind == "custom" and "张党员 的通知" in notice.text and "回复 1：收到" in notice.text
        await eventually_status(bot, near.openid, [DeliveryStatus.sent])
        await eventually_status(bot, far.openid, [DeliveryStatus.waiting])
        assert not [s for s in await far.seen() if "停水" in s.text]
        assert (await wechat(bot).state())["tokens_issued"] == 2

        volunteer = bot.client.user(VOLUNTEER, "张党员")
        [progress] = await volunteer.send("/notices")
        assert "已送达 1" in progress.text and "待发送 0" in progress.text
        assert "另有 1 位微信用户超过 48 小时没给公众号发消息" in progress.text
        assert progress.button_texts == ["取消未发出的"]

        [passive] = await far.send("我的")  # writing opens the window: what waited comes now
        assert "102室" in passive
        late = await seen_containing(far, "停水")
        assert late.kind == "custom" and "回复 1：收到" in late.text
        await eventually_status(bot, far.openid, [DeliveryStatus.sent])
        [progress] = await volunteer.send("/notices")
        assert "已送达 2" in progress.text and "微信用户" not in progress.text and progress.button_texts == []

        # The notice's menu is the newest either person saw: replying its number chooses from it.
        [acknowledged] = await near.send("1")
        assert "收到" in acknowledged and "不在菜单" not in acknowledged
        for _ in range(50):
            [progress] = await volunteer.send("/notices")
            if "已确认收到 1" in progress.text:
                break
            await asyncio.sleep(0.1)
        assert "已确认收到 1" in progress.text


async def test_outside_48_hours_a_configured_template_message_is_sent(start_wechat_bot) -> None:  # type: ignore[no-untyped-def]
    emulator = WeChatEmulator(templates={"TPL-notice-01": "社区通知（模板）"}, customer_service_limit=1)
    async with start_wechat_bot(emulator, wechat_templates={"notice": "TPL-notice-01"}) as bot:
        far = await join_on_wechat(bot, "oTemplate00001", "101")
        used_up = await join_on_wechat(bot, "oUsedUp000001", "102")
        await far.age(hours=49)
        # The one customer-service message allowed since this person last wrote is used (45047).
        await bot.app.wechat.api.send_text(used_up.openid, "早上好")

        await send_notice_from_telegram(bot)
        for person in (far, used_up):
            template = await seen_containing(person, "社区通知（模板）")
            assert template.kind == "template"
            assert re.search(r"title: .*张党员 的通知", template.text) and re.search(r"content: .*停水", template.text, re.S)
            assert re.search(r"time: \d{4}-\d\d-\d\d \d\d:\d\d", template.text)
            await eventually_status(bot, person.openid, [DeliveryStatus.sent])
        assert not [s for s in await far.seen() if s.kind == "custom"]


async def test_a_chart_reaches_a_wechat_user_as_an_image_and_a_telegram_photo_as_a_note(wechat_bot: RunningBot) -> None:
    resident = await join_on_wechat(wechat_bot, "oChartReader01", "101")
    chart = bar_chart_png("停水影响", ["1栋", "2栋"], {"户数": [12, 7]})
    async with wechat_bot.sessionmaker.begin() as session:
        person = await people.find_person(session, people.WECHAT, resident.openid)
        assert person is not None
        to = await outbox.recipients(session, [person.id])
        await outbox.enqueue(session, to, Reply(L("Language set to English."), attachment=Attachment("photo", content=chart, filename="chart.png")), source="report:1")
        await outbox.enqueue(session, to, Reply("楼道灯修好了", attachment=Attachment("photo", file_id="AgACAgUAAxkBAAIBd2VhY2Y")), source="report:1")

    caption = await seen_containing(resident, "已切换为中文")
    image = await seen_containing_image(resident)
    assert caption.kind == image.kind == "custom"
    assert wechat_bot.wechat is not None and wechat_bot.wechat.media[image.image or ""] == chart
    note = await seen_containing(resident, "楼道灯修好了")
    assert note.text == "楼道灯修好了\n（这条消息附有一张照片，但在这里无法显示。）"
    assert len([s for s in await resident.seen() if s.image]) == 1  # a Telegram file id is never sent to WeChat


async def test_a_photo_taken_on_telegram_reaches_a_wechat_resident_as_a_picture(wechat_bot: RunningBot) -> None:
    """A volunteer on Telegram sends a notice with a photo: WeChat cannot send Telegram's file id,
    so the sender fetches the photo from Telegram and uploads it to WeChat."""
    resident = await join_on_wechat(wechat_bot, "oTelegramPic1", "101")
    volunteer = wechat_bot.client.user(VOLUNTEER, "张党员")
    [audiences] = await volunteer.send("发通知")
    await volunteer.press("通化街社区的居民", audiences)
    [preview] = await volunteer.send_photo("stairwell, freshly painted", caption="楼道刷漆，请勿靠墙。")
    await volunteer.press("立即发送", preview)

    words = await seen_containing(resident, "楼道刷漆")
    image = await seen_containing_image(resident)
    assert words.kind == image.kind == "custom" and "无法显示" not in words.text
    assert wechat_bot.wechat is not None and wechat_bot.wechat.media[image.image or ""] == b"stairwell, freshly painted"


async def seen_containing_image(user: WeChatUser, timeout: float = 10.0) -> Seen:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        images = [s for s in await user.seen() if s.image]
        if images:
            return images[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{user.openid} saw no image")


async def test_a_photo_sent_on_wechat_makes_a_notice_and_reaches_both_channels(wechat_bot: RunningBot) -> None:
    """The volunteer links a WeChat identity and writes the notice there: the photo first (WeChat
    has no captions), then the words. A WeChat resident gets the photo itself, a Telegram
    resident the text and a note."""
    await join(wechat_bot, 8101, "王阿姨", room="101")
    on_telegram = wechat_bot.client.user(8101, "王阿姨")
    on_wechat = await join_on_wechat(wechat_bot, "oPhotoReader1", "102")
    [me] = await wechat_bot.client.user(VOLUNTEER, "张党员").send("/me")
    code = re.search(r"绑定 ([A-Z0-9]{6})", me.text)
    assert code is not None
    volunteer = wechat(wechat_bot).user("oVolunteer001")
    assert "绑定成功" in (await volunteer.send("绑定 " + code.group(1)))[0]

    [audiences] = await volunteer.send("发通知")
    assert "通化街社区的居民" in audiences
    await volunteer.send("通化街社区的居民")
    [kept] = await volunteer.send_image()
    assert "照片已保存" in kept
    [preview] = await volunteer.send("楼道刷漆，请勿靠墙。")
    assert "共 2 个聊天" in preview and "回复 1：立即发送" in preview
    await volunteer.send("1")

    words = await seen_containing(on_wechat, "楼道刷漆")
    image = await seen_containing_image(on_wechat)
    assert words.kind == image.kind == "custom"
    assert wechat_bot.wechat is not None and wechat_bot.wechat.media[image.image or ""] == b"photo of the stairwell"
    telegram_notice = await arrives(on_telegram, "楼道刷漆")
    assert "（这条消息附有一张照片，但在这里无法显示。）" in telegram_notice.text


async def test_a_late_reply_goes_through_the_outbox_ahead_of_bulk(start_wechat_bot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    original = people.memberships_of

    async def slow(*args: object) -> list[people.MembershipView]:
        await asyncio.sleep(0.6)
        return await original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(people, "memberships_of", slow)
    async with start_wechat_bot(wechat_reply_seconds=0.3) as bot:
        resident = wechat(bot).user("oLateOutbox01")
        assert await resident.send("我的") == []  # "success" at once: no passive reply
        late = await seen_containing(resident, "您还没有加入住户")
        assert late.kind == "custom"
        await eventually_status(bot, resident.openid, [DeliveryStatus.sent])
        async with bot.sessionmaker() as session:
            [(source, priority)] = (await session.execute(select(OutboxMessage.source, OutboxDelivery.priority).join(OutboxDelivery))).all()
        assert (source, priority) == ("reply:oLateOutbox01", DeliveryPriority.personal)


async def test_an_unfollowed_person_is_written_to_no_more_and_a_busy_wechat_is_tried_again(start_wechat_bot) -> None:  # type: ignore[no-untyped-def]
    emulator = WeChatEmulator(templates={"TPL-notice-01": "社区通知（模板）"})
    async with start_wechat_bot(emulator, wechat_templates={"notice": "TPL-notice-01"}) as bot:
        following = await join_on_wechat(bot, "oStillHere001", "101")
        gone = await join_on_wechat(bot, "oUnfollowed01", "102")
        await gone.unfollow()
        await wechat(bot).add_fault("message/custom/send", -1, "system error")  # WeChat busy once: tried again

        await send_notice_from_telegram(bot)
        assert (await seen_containing(following, "停水")).kind == "custom"
        await eventually_status(bot, gone.openid, [DeliveryStatus.failed])  # 45015, then the template: 43004
        await eventually_status(bot, following.openid, [DeliveryStatus.sent])
        async with bot.sessionmaker() as session:
            attempts = await session.scalars(select(OutboxDelivery.attempts))
            assert sum(attempts) == 3  # one of the two was tried twice
            identity = await session.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == gone.openid))
            assert identity is not None and identity.unreachable_at is not None
        assert not [s for s in await gone.seen() if "停水" in s.text]
