"""Every flow on WeChat, end to end: the real bot serves its webhook, and the WeChat emulator
pushes signed XML to it as a resident's phone would and shows what came back."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import cli
from bot.channels.wechat.menu import build_menu
from bot.emulator import WeChatClient
from bot.services import people
from storage.models import ChannelIdentity, Household, Membership, Person, Place, PlaceKind
from tests.conftest import RunningBot

UNITS = "回复 1：1单元\n回复 2：2单元"


def wechat(bot: RunningBot) -> WeChatClient:
    assert bot.wechat_client is not None
    return bot.wechat_client


async def households_of(bot: RunningBot, channel: str, external_id: str) -> list[tuple[str, bool]]:
    """(room, verified) of each household the person behind this identity belongs to."""
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(Household.room, Membership.verified)
            .join(Membership, Membership.household_id == Household.id)
            .join(ChannelIdentity, ChannelIdentity.person_id == Membership.person_id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        )
        return [(room, verified) for room, verified in rows]


async def test_joining_by_a_typed_code_with_the_unit_by_number_and_the_room_by_label(wechat_bot: RunningBot) -> None:
    resident = wechat(wechat_bot).user("oResident0001")
    [welcome] = await resident.follow()
    assert "邀请码" in welcome  # followed without a QR code: asked for the code
    [units] = await resident.send(f" {wechat_bot.sample.building_code.lower()} ")
    assert "西冲塘小区 1栋" in units and UNITS in units
    [rooms] = await resident.send("２")  # the number of "2单元", from a Chinese input method
    assert "回复 5：301" in rooms
    [joined] = await resident.send("301")  # the label
    assert "您已加入住户 西冲塘小区 1栋 2单元 301室" in joined
    [mine] = await resident.send("我的")
    assert "【您的住户】" in mine and "西冲塘小区 1栋 2单元 301室（未认证）" in mine
    assert [seen.kind for seen in await resident.seen()] == ["passive"] * 5
    assert await households_of(wechat_bot, people.WECHAT, "oResident0001") == [("301", False)]


async def test_scanning_the_stairwell_qr_code_joins_the_building(wechat_bot: RunningBot) -> None:
    client = wechat(wechat_bot)
    newcomer = client.user("oNewcomer0001")
    [units] = await newcomer.scan(scene=wechat_bot.sample.building_code)  # not following yet: subscribe with the scene
    assert UNITS in units
    assert "qrscene_" + wechat_bot.sample.building_code in wechat_bot.wechat.pushed[-1][1]  # type: ignore[union-attr]
    [rooms] = await newcomer.send("1单元")
    [joined] = await newcomer.send("3")  # the third room: 201
    assert "1单元 201室" in joined and "回复" not in joined

    follower = client.user("oFollower0001")
    await follower.follow()
    [units] = await follower.scan(scene=wechat_bot.sample.building_code)  # following already: a SCAN event
    assert UNITS in units
    assert "<Event><![CDATA[SCAN]]></Event>" in wechat_bot.wechat.pushed[-1][1]  # type: ignore[union-attr]
    assert await households_of(wechat_bot, people.WECHAT, "oNewcomer0001") == [("201", False)]


async def test_language_help_cancel_unknown_text_and_what_is_not_text(wechat_bot: RunningBot) -> None:
    resident = wechat(wechat_bot).user("oResident0002")
    [languages] = await resident.send("语言")
    assert "回复 1：中文\n回复 2：English" in languages
    assert await resident.send("2") == ["Language set to English."]
    [help_] = await resident.send("帮助")
    assert help_.startswith("【What you can do】") and "/me or 我的" in help_ and "/bind or 绑定" in help_
    [started] = await resident.send("加入")
    assert "invite code" in started
    [stopped] = await resident.send("取消")
    assert stopped.startswith("Stopped")
    [offer] = await resident.send("你好，楼道灯坏了")  # a complaint written straight out (tests/test_reports.py)
    assert offer.startswith("This sounds like a problem") and "Reply 1: Yes, report it" in offer
    [declined] = await resident.send("2")  # no, thank you: outside any flow again (a photo would have said yes)
    assert declined.startswith("All right, nothing was reported")
    [unknown] = await resident.send("你好，谢谢")
    assert unknown.startswith("Thank you for your message")
    for answer in (await resident.send_image(), await resident.send_location(26.42, 111.61, "西冲塘小区")):
        assert answer == ["Sorry, I can only read text messages here. Send /help to see what you can do."]
    assert await resident.unfollow() == []  # nothing to say to someone who left
    assert resident.last_push is not None and resident.last_push.status == 200


async def test_a_stale_number_gets_the_current_menu(wechat_bot: RunningBot) -> None:
    resident = wechat(wechat_bot).user("oResident0003")
    [no_menu] = await resident.send("3")
    assert "没有可以选择的菜单" in no_menu
    await resident.send("语言")
    await resident.send("帮助")
    [stale] = await resident.send("5")  # from an older, longer menu, or a slip
    assert "菜单里没有 5" in stale and "回复 1：中文\n回复 2：English" in stale
    assert await resident.send("1") == ["已切换为中文。"]
    await resident.send("加入 " + wechat_bot.sample.building_code)
    [rooms] = await resident.send("1")
    assert "回复 1：101" in rooms
    [missing] = await resident.send("909")  # while choosing a room, any number may be a room number
    assert "没有 909 室" in missing
    [odd] = await resident.send("加入 A]]>B<x>")  # what a person typed comes back intact in the reply's XML
    assert "A]]>B<x>" in odd


async def test_menu_clicks_run_commands_and_the_menu_is_made_from_the_command_list(
    wechat_bot: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_the_bots_wechat_settings(wechat_bot, monkeypatch)
    assert await asyncio.to_thread(cli.main, ["wechat", "menu"]) == 0
    assert "参与 (报告, 提问, 投票, 方案) | 我的 (加入, 我的, 语言, 绑定) | 帮助 (帮助, 取消)" in capsys.readouterr().out
    state = await wechat(wechat_bot).state()
    assert state["menu"] == build_menu("zh_CN")
    keys = [sub["key"] for button in state["menu"]["button"] for sub in button.get("sub_button", [button])]
    assert keys == ["report", "ask", "vote", "plans", "start", "me", "lang", "bind", "help", "cancel"]

    resident = wechat(wechat_bot).user("oResident0004")
    [me] = await resident.click("me")
    assert "您还没有加入住户" in me
    [languages] = await resident.click("lang")
    assert "回复 2：English" in languages
    [help_] = await resident.click("help")
    [report] = await resident.click("report")
    assert "报告需要知道您住哪栋楼" in report  # not joined yet: said before they write a word
    [unknown] = await resident.click("nosuchcommand")
    assert "/me 或 我的" in help_ and "没有这个命令" in unknown


async def test_invite_building_on_wechat_makes_a_qr_code_that_joins_the_building(
    wechat_bot: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    use_the_bots_wechat_settings(wechat_bot, monkeypatch)
    async with wechat_bot.sessionmaker() as session:
        building_id = await session.scalar(select(func.min(Place.id)).where(Place.kind == PlaceKind.building))
    poster = tmp_path / "poster.png"
    assert await asyncio.to_thread(cli.main, ["invite", "building", str(building_id), "--channel", "wechat", "--out", str(poster)]) == 0
    assert wechat_bot.sample.building_code in capsys.readouterr().out
    assert poster.read_bytes().startswith(b"\x89PNG")
    state = await wechat(wechat_bot).state()
    [(ticket, scene)] = state["tickets"].items()
    assert scene == wechat_bot.sample.building_code
    assert [c["params"]["action_name"] for c in state["calls"] if c["path"] == "qrcode/create"] == ["QR_LIMIT_STR_SCENE"]

    [units] = await wechat(wechat_bot).user("oScanner0001").scan(ticket=ticket)
    assert UNITS in units


async def test_one_person_on_both_channels(wechat_bot: RunningBot) -> None:
    """Joined on Telegram with the household's paper code, and on WeChat (the same flat, by the
    stairwell code) before knowing better: linked, it is one person with one membership."""
    telegram = wechat_bot.client.user(7001, "周奶奶")
    await telegram.send("/start " + wechat_bot.sample.household_code)
    on_wechat = wechat(wechat_bot).user("oGrandma00001")
    await on_wechat.send("加入 " + wechat_bot.sample.building_code)
    await on_wechat.send("1单元")
    await on_wechat.send("301")
    assert await households_of(wechat_bot, people.WECHAT, "oGrandma00001") == [("301", False)]
    async with wechat_bot.sessionmaker() as session:
        merged = await people.find_person(session, people.WECHAT, "oGrandma00001")
        assert merged is not None

    [me] = await telegram.send("/me")
    code = re.search(r"绑定 ([A-Z0-9]{6})", me.text)
    assert code is not None and "301室（已认证）" in me.text
    [wrong] = await on_wechat.send("绑定 ZZZZ22")
    assert "无效或已过期" in wrong
    [linked] = await on_wechat.send(code.group(1).lower())  # still waiting for the code: typed alone
    assert "绑定成功" in linked
    [mine] = await on_wechat.send("我的")
    assert "西冲塘小区 1栋 1单元 301室（已认证）" in mine and "未认证" not in mine
    [again] = await on_wechat.send("绑定 " + code.group(1))
    assert "无效或已过期" in again  # a code links once

    async with wechat_bot.sessionmaker() as session:
        person_ids = set(await session.scalars(select(ChannelIdentity.person_id).where(ChannelIdentity.external_id.in_(["7001", "oGrandma00001"]))))
        assert len(person_ids) == 1
        assert await session.scalar(select(func.count()).select_from(Membership).where(Membership.person_id.in_(person_ids))) == 1
        assert await session.get(Person, merged.id) is None
    [on_telegram] = await telegram.send("/me")
    assert "301室（已认证）" in on_telegram.text


def use_the_bots_wechat_settings(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line of the same deployment: the bot's database and WeChat account."""
    settings = bot.settings
    assert settings.wechat_app_secret and settings.wechat_token
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "WECHAT_APP_ID": settings.wechat_app_id,
        "WECHAT_APP_SECRET": settings.wechat_app_secret.get_secret_value(),
        "WECHAT_TOKEN": settings.wechat_token.get_secret_value(),
        "WECHAT_API_URL": settings.wechat_api_url,
    }.items():
        monkeypatch.setenv("GONGJIAN_" + name, str(value))
