"""Group chats, end to end through the emulator: the bot speaks only when addressed, never shows
a person's household in a group, onboards in private only, and lets a building's leader or an
administrator link the building's group (/link)."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversations.feature import Where
from bot.conversations.payloads import MyReport, TicketAction, TicketOpen
from bot.conversations.registry import COMMANDS
from bot.conversations.tickets import ACCEPT
from bot.emulator.client import ChatMessage, GroupChat
from bot.i18n import translate
from bot.services import access, audit, people
from storage.models import GroupChat as LinkedGroup
from storage.models import InviteCode, InviteKind, Place, PlaceKind, ReportStatus, Role
from tests.conftest import RunningBot
from tests.test_notices import arrives, join
from tests.test_onboarding import memberships_of
from tests.test_reports import ELEVATOR, GRID_WORKER, number_of, on_duty, stored

GROUP_ID = -1001234
HELP_TITLE = "您可以做什么"
PRIVATE_CHAT = "https://t.me/gongjian_test_bot"


def building_group(bot: RunningBot) -> GroupChat:
    return bot.client.group(GROUP_ID, "1栋业主群")


async def building_of_code(bot: RunningBot, code: str) -> int:
    async with bot.sessionmaker() as session:
        building_id = await session.scalar(select(InviteCode.place_id).where(InviteCode.code == code, InviteCode.kind == InviteKind.building))
    assert building_id is not None
    return building_id


async def another_building(bot: RunningBot, building_id: int) -> int:
    async with bot.sessionmaker() as session:
        return next(i for i in await session.scalars(select(Place.id).where(Place.kind == PlaceKind.building)) if i != building_id)


async def make_leader(bot: RunningBot, user_id: int, building_id: int) -> None:
    async with bot.sessionmaker.begin() as session:
        person = await people.get_or_create_person(session, people.TELEGRAM, str(user_id))
        scope = access.Scope(PlaceKind.building, building_id)
        await access.grant_role(session, person.id, Role.building_leader, scope, actor=audit.COMMAND_LINE)


async def linked_building(bot: RunningBot, chat_id: int = GROUP_ID) -> int | None:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(LinkedGroup.place_id).where(LinkedGroup.chat_id == str(chat_id)))


def assert_points_to_private_chat(answer: ChatMessage) -> None:
    """The answer to something private in a group: a link to a private chat, nothing about the person."""
    assert [b.url for row in answer.buttons for b in row] == [PRIVATE_CHAT]
    assert "私聊" in answer.text
    for private in ("301", "1单元", "已认证", "未认证", "住户成员"):
        assert private not in answer.text


async def test_neighbours_talk_joins_and_leaves_get_no_answer(bot: RunningBot) -> None:
    group = building_group(bot)
    wang, li = group.member(2101, "王阿姨"), group.member(2102, "李师傅")
    assert await wang.join() == []
    assert await wang.send("大家好，我是3楼的，今天几点停水？") == []
    assert await li.send("帮助") == []  # a command word, but said to the neighbours
    assert await li.reply_to(wang.last_message_id or 0, "我的也停了") == []  # a reply to a neighbour is not for the bot
    assert await li.leave() == []
    assert await group.messages() == []


async def test_commands_meant_for_another_bot_get_no_answer(bot: RunningBot) -> None:
    group = building_group(bot)
    admin = group.member(1004, "陈主任")  # could link the group, if the command were for us
    assert await admin.send("/start@other_bot") == []
    assert await admin.send("/help@other_bot") == []
    assert await admin.send(f"/link@other_bot {bot.sample.building_code}") == []
    assert await admin.send("@gongjian_test_bot_old 帮助") == []  # another bot whose name begins like ours
    assert await group.messages() == []
    assert await linked_building(bot) is None


async def test_help_when_addressed_by_command_mention_or_reply(bot: RunningBot) -> None:
    member = building_group(bot).member(2103, "赵大爷")
    for addressed in ("/help", "/help@gongjian_test_bot", "@gongjian_test_bot 帮助", "@GongJian_Test_Bot 帮助"):
        [help_] = await member.send(addressed)
        assert HELP_TITLE in help_.text, addressed
        assert "/lang" in help_.text and "/me" not in help_.text and "/start" not in help_.text  # only what works in a group
    [answer] = await member.reply_to(help_, "帮助")
    assert HELP_TITLE in answer.text


async def test_private_things_in_a_group_answer_with_a_link_to_a_private_chat(bot: RunningBot) -> None:
    resident = bot.client.user(2104, "王阿姨")
    await resident.send(f"/start {bot.sample.building_code}")
    await resident.press("1单元")
    [joined] = await resident.press("301")
    assert "301室" in joined.text  # there is a household that could leak

    member = building_group(bot).member(2104, "王阿姨")
    [me] = await member.send("/me")
    assert_points_to_private_chat(me)
    [mine] = await member.send("@gongjian_test_bot 我的")
    assert_points_to_private_chat(mine)
    [replied] = await member.reply_to(me, "我的")
    assert_points_to_private_chat(replied)
    [start] = await member.send(f"/start {bot.sample.household_code}")
    assert_points_to_private_chat(start)
    assert [verified for _, verified in await memberships_of(bot, 2104)] == [False]  # the code did nothing in the group


async def test_every_private_command_in_a_group_points_to_a_private_chat(bot: RunningBot) -> None:
    """Reports, tickets, votes, plans, shares, questions, figures ...: whatever names a household,
    a room or a person's figures is answered in the group only with a link, even to an admin."""
    admin = building_group(bot).member(1004, "陈主任")
    private = [command.name for command in COMMANDS if command.where is Where.private]
    assert {"report", "myreports", "tickets", "vote", "paper", "plans", "shares", "ask", "queue", "stats"} <= set(private)
    for name in private:
        [answer] = await admin.send(f"/{name}")
        assert_points_to_private_chat(answer)


async def test_onboarding_happens_in_private_only(bot: RunningBot) -> None:
    member = building_group(bot).member(2105, "周奶奶")
    [start] = await member.send(f"/start@gongjian_test_bot {bot.sample.household_code}")
    assert_points_to_private_chat(start)
    [word] = await member.send(f"@gongjian_test_bot 加入 {bot.sample.household_code}")
    assert_points_to_private_chat(word)
    assert await memberships_of(bot, 2105) == []
    [joined] = await bot.client.user(2105, "周奶奶").send(f"/start {bot.sample.household_code}")
    assert "认证住户成员" in joined.text  # the one-time code is still unused


async def test_a_building_leader_links_the_group_with_the_building_code(bot: RunningBot) -> None:
    building_id = await building_of_code(bot, bot.sample.building_code)
    await make_leader(bot, 2106, building_id)
    [linked] = await building_group(bot).member(2106, "楼栋长").send(f"/link {bot.sample.building_code}")
    assert "已绑定到 西冲塘小区 1栋" in linked.text
    assert await linked_building(bot) == building_id
    async with bot.sessionmaker() as session:
        group = await session.scalar(select(LinkedGroup).where(LinkedGroup.chat_id == str(GROUP_ID)))
    assert group is not None and group.title == "1栋业主群"


async def test_a_resident_or_another_buildings_leader_cannot_link(bot: RunningBot) -> None:
    group = building_group(bot)
    [refused] = await group.member(2107, "住户").send(f"/link {bot.sample.building_code}")
    assert refused.text == translate("zh_CN", access.NOT_ALLOWED)
    other = await another_building(bot, await building_of_code(bot, bot.sample.building_code))
    await make_leader(bot, 2108, other)
    [also_refused] = await group.member(2108, "2栋楼长").send(f"/link {bot.sample.building_code}")
    assert also_refused.text == translate("zh_CN", access.NOT_ALLOWED)
    assert await linked_building(bot) is None


async def test_link_alone_links_the_one_building_its_leader_leads(bot: RunningBot) -> None:
    other = await another_building(bot, await building_of_code(bot, bot.sample.building_code))
    await make_leader(bot, 2109, other)
    [linked] = await building_group(bot).member(2109, "楼栋长").send("/link@gongjian_test_bot")
    assert "已绑定到" in linked.text
    assert await linked_building(bot) == other


async def test_the_community_admin_links_with_the_code_but_must_name_the_building(bot: RunningBot) -> None:
    admin = building_group(bot).member(1004, "陈主任")
    [which] = await admin.send("/link")  # an admin of the whole community leads no one building
    assert "属于哪栋楼" in which.text
    assert await linked_building(bot) is None
    [linked] = await admin.send(f"/link {bot.sample.building_code}")
    assert "已绑定到 西冲塘小区 1栋" in linked.text
    assert await linked_building(bot) == await building_of_code(bot, bot.sample.building_code)


async def test_buttons_pressed_in_a_group_act_there_only_for_notices(bot: RunningBot) -> None:
    """A notice posted to the group is acknowledged there; anything else pressed there (a forged
    button of one's reports or work orders) gets the way to a private chat and changes nothing."""
    admin = bot.client.user(1004, "陈主任")
    await building_group(bot).member(1004, "陈主任").send(f"/link {bot.sample.building_code}")
    [audiences] = await admin.send("发通知")
    [write] = await admin.press("群聊 1栋业主群", audiences)
    [preview] = await admin.send("今晚8点楼下开会，讨论加装电梯。")
    await admin.press("立即发送", preview)
    notice = await arrives(building_group(bot), "讨论加装电梯")
    assert notice.button_texts == ["收到"]

    await on_duty(bot)
    await join(bot, 2110, "王阿姨")
    resident = bot.client.user(2110, "王阿姨")
    await resident.send("/report")
    [proposal] = await resident.send(f"{ELEVATOR}，我家301室，电话13800001111")
    report_id = number_of((await resident.press("电梯", proposal))[0])

    member, worker = building_group(bot).member(2110, "王阿姨"), building_group(bot).member(GRID_WORKER, "李网格")
    await member.press("收到", notice)
    acknowledged = await bot.client.callback_answer(member.last_callback_id or "")
    assert acknowledged is not None and "已确认收到" in acknowledged["text"]
    [mine] = await member.press_data(notice.message_id, MyReport(report_id).pack())  # their own report, forged onto the notice
    assert_points_to_private_chat(mine)
    assert "13800001111" not in mine.text and "电梯" not in mine.text
    [work_order] = await worker.press_data(notice.message_id, TicketOpen(report_id).pack())
    assert_points_to_private_chat(work_order)
    [accept] = await worker.press_data(notice.message_id, TicketAction(report_id, ACCEPT).pack())
    assert_points_to_private_chat(accept)
    assert (await stored(bot, report_id)).status is ReportStatus.assigned
    assert not [m for m in await building_group(bot).messages() if "13800001111" in m.text]


async def test_lang_works_in_a_group_buttons_and_all(bot: RunningBot) -> None:
    member = building_group(bot).member(2111, "Ann")
    [languages] = await member.send("/lang")
    [chosen] = await member.press("English", languages)
    assert chosen.text == "Language set to English."
    async with bot.sessionmaker() as session:
        person = await people.find_person(session, people.TELEGRAM, "2111")
    assert person is not None and person.locale == "en"

