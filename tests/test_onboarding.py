"""Joining a household, end to end: the real bot, over HTTP, through the Bot API emulator."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.services import people
from storage.models import ChannelIdentity, Membership
from tests.conftest import RunningBot


async def memberships_of(bot: RunningBot, telegram_id: int) -> list[tuple[int, bool]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(Membership.household_id, Membership.verified)
            .join(ChannelIdentity, ChannelIdentity.person_id == Membership.person_id)
            .where(ChannelIdentity.channel == people.TELEGRAM, ChannelIdentity.external_id == str(telegram_id))
        )
        return [(household_id, verified) for household_id, verified in rows]


async def test_building_code_then_unit_and_room_buttons(bot: RunningBot) -> None:
    resident = bot.client.user(2001, "王阿姨")
    [question] = await resident.send(f"/start {bot.sample.building_code}")
    assert "西冲塘小区 1栋" in question.text
    assert question.button_texts == ["1单元", "2单元"]

    [rooms] = await resident.press("2单元")
    assert rooms.message_id == question.message_id  # the same message, edited
    assert "101" in rooms.button_texts and "602" in rooms.button_texts
    assert resident.last_callback_id and await bot.client.callback_answer(resident.last_callback_id) is not None

    [joined] = await resident.press("301")
    assert "西冲塘小区 1栋 2单元 301室" in joined.text
    assert "认证" in joined.text  # tells how to become verified
    assert [verified for _, verified in await memberships_of(bot, 2001)] == [False]

    [me] = await resident.send("/me")
    assert "西冲塘小区 1栋 2单元 301室（未认证）" in me.text.replace(" (", "（").replace(")", "）")


async def test_code_typed_after_plain_start_and_room_typed(bot: RunningBot) -> None:
    resident = bot.client.user(2002)
    [welcome] = await resident.send("/start")
    assert "邀请码" in welcome.text
    [question] = await resident.send(f"  {bot.sample.building_code.lower()} ")
    assert question.button_texts == ["1单元", "2单元"]
    [ambiguous] = await resident.send("502")
    assert "多个单元" in ambiguous.text and ambiguous.button_texts == ["1单元", "2单元"]
    await resident.press("1单元", ambiguous)
    [missing] = await resident.send("909")
    assert "没有 909 室" in missing.text
    [joined] = await resident.send("502室")
    assert "1单元 502室" in joined.text
    assert len(await memberships_of(bot, 2002)) == 1


async def test_household_code_makes_a_verified_member_once(bot: RunningBot) -> None:
    first, second = bot.client.user(2003), bot.client.user(2004)
    [joined] = await first.send(f"/start {bot.sample.household_code}")
    assert "认证住户成员" in joined.text and "301室" in joined.text
    assert [verified for _, verified in await memberships_of(bot, 2003)] == [True]

    [again] = await first.send(f"/start {bot.sample.household_code}")
    assert "301室" in again.text  # the same person may follow the link again
    [refused] = await second.send(f"/start {bot.sample.household_code}")
    assert "已经用过" in refused.text
    assert await memberships_of(bot, 2004) == []


async def test_unknown_and_overlong_codes_are_refused_politely(bot: RunningBot) -> None:
    resident = bot.client.user(2005)
    [unknown] = await resident.send("/start NOSUCH99")
    assert "无效" in unknown.text
    [retry] = await resident.send("ALSOBAD2")  # still waiting for a code
    assert "无效" in retry.text
    [markup] = await resident.send("<b>ABC&")  # what a person typed is shown as typed, never as markup
    assert "<b>ABC&" in markup.text and "无效" in markup.text
    [too_long] = await resident.send("码" * 5000)
    assert "太长" in too_long.text
    assert await memberships_of(bot, 2005) == []


async def test_forged_and_stale_buttons_change_nothing(bot: RunningBot) -> None:
    resident = bot.client.user(2006)
    [question] = await resident.send(f"/start {bot.sample.building_code}")
    # Household 70 lies in 3栋: well-formed callback data, but not the building being joined.
    forged = await resident.press_data(question.message_id, "room:70")
    assert forged == []
    answer = await bot.client.callback_answer(resident.last_callback_id or "")
    assert answer is not None and answer["show_alert"] and "失效" in answer["text"]
    await resident.press_data(question.message_id, "garbage-data")
    assert (await bot.client.callback_answer(resident.last_callback_id or ""))["show_alert"]
    assert await memberships_of(bot, 2006) == []

    # After joining, the old room buttons are stale.
    rooms = (await resident.press("1单元"))[0]
    await resident.press("101", rooms)
    await resident.press_data(rooms.message_id, rooms.buttons[0][1].callback_data or "")
    assert "失效" in (await bot.client.callback_answer(resident.last_callback_id or ""))["text"]
    assert len(await memberships_of(bot, 2006)) == 1


async def test_language_follows_client_then_choice(bot: RunningBot) -> None:
    english = bot.client.user(2007, "Ann", language_code="en")
    [help_en] = await english.send("/help")
    assert "What you can do" in help_en.text
    chinese = bot.client.user(2008, "李", language_code="zh-hans")
    [menu] = await chinese.send("/lang")
    [switched] = await chinese.press("English", menu)
    assert switched.text == "Language set to English."
    [me] = await chinese.send("/me")
    assert "You have not joined a household yet" in me.text
    [back] = await chinese.send("/lang zh")
    assert back.text == "已切换为中文。"


async def test_help_depends_on_roles(bot: RunningBot) -> None:
    [resident_help] = await bot.client.user(2009).send("/help")
    [admin_help] = await bot.client.user(1004).send("/help")  # 陈主任, admin of the sample community
    assert "社区管理员" in admin_help.text and "gongjian import" in admin_help.text
    assert "社区管理员" not in resident_help.text
    [me] = await bot.client.user(1004).send("/me")
    assert "通化街社区 社区管理员" in me.text


async def test_unsupported_input_gets_a_helpful_answer(bot: RunningBot) -> None:
    resident = bot.client.user(2010)
    [unknown] = await resident.send("/frobnicate")
    assert "没有这个命令" in unknown.text
    [sticker] = await resident.send_sticker()
    assert "只能识别文字" in sticker.text
    [photo] = await resident.send_photo()
    assert "只能识别文字" in photo.text
    [location] = await resident.send_location(26.42, 111.61)
    assert "只能识别文字" in location.text
    [huge] = await resident.send("很长的留言" * 900)
    assert "/help" in huge.text


async def test_command_menus_are_published_in_both_languages(bot: RunningBot) -> None:
    menus = {
        (json.loads(call["params"]["scope"])["type"], call["params"].get("language_code")): {
            c["command"]: c["description"] for c in json.loads(call["params"]["commands"])
        }
        for call in await bot.client.calls()
        if call["method"] == "setMyCommands"
    }
    private, group = "all_private_chats", "all_group_chats"
    assert menus[(private, "zh")]["start"] == "用邀请码加入您的住户"
    assert menus[(private, "en")]["start"] == "Join your household with an invite code"
    assert menus[(private, None)] == menus[(private, "zh")]  # the menu without a language is in the default locale
    assert "start" not in menus[(group, "zh")] and "me" not in menus[(group, "zh")]  # nothing private in a group's menu
    assert "help" in menus[(group, "zh")]
