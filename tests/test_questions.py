"""Questions to grid workers, end to end through the Bot API and WeChat emulators: FAQ first,
then the grid's queue, a grid worker's answer relayed back (across channels too), follow-ups,
transfer, closing and rating; claims that never collide on SQLite and PostgreSQL; reminders and
escalation done once by the sweep, whatever restarts in between."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import scheduling
from bot.config import Settings
from bot.emulator.client import UserChat
from bot.replies import render_text, reply_from_json
from bot.services import access, audit, people, questions
from bot.services.errors import DomainError
from bot.services.similarity import THRESHOLD, Candidate, closest
from storage.db import create_engine, create_sessionmaker
from storage.models import FaqEntry, OutboxDelivery, OutboxMessage, Place, PlaceKind, Question, QuestionStatus, Role, utcnow
from tests.conftest import RunningBot
from tests.test_notices import arrives, join

GRID, VOLUNTEER, ADMIN = 1002, 1003, 1004  # of the sample community (bot/demo.py)

# A small FAQ and questions residents might type, with the entry that answers each (None: none
# does, and nothing may be shown). THRESHOLD is tuned on these.
FAQ = [
    "加装电梯每户要出多少钱？",
    "楼道灯坏了找谁修？",
    "老旧小区改造什么时候开工？",
    "停车位怎么申请？",
    "水管漏水怎么报修？",
    "垃圾分类几点投放？",
    "电梯加装需要多少户同意？",
]
LABELLED = [
    ("加装电梯要交多少钱？", 0),
    ("装电梯我家要出多少钱", 0),
    ("楼道里路灯坏了", 1),
    ("小区改造啥时候开工", 2),
    ("车位怎么申请", 3),
    ("家里水管漏水了", 4),
    ("加装电梯要几户同意", 6),
    ("今天天气怎么样", None),
    ("我想办理低保", None),
    ("狗叫声太吵", None),
    ("医保卡怎么办理", None),
    ("社区活动室几点开门", None),
    ("楼上装修太吵了", None),
    ("垃圾什么时间扔", None),  # related, but too few shared words: a person answers it
]


def test_the_threshold_shows_the_right_entry_first_and_nothing_unrelated() -> None:
    candidates = [Candidate("faq", number, question, "…") for number, question in enumerate(FAQ)]
    for text, expected in LABELLED:
        found = closest(text, candidates)
        if expected is None:
            assert found == [], (text, found)
        else:
            assert found and found[0][0].id == expected and found[0][1] >= THRESHOLD, (text, found)


async def add_faq(bot: RunningBot, question: str, answer: str) -> None:
    async with bot.sessionmaker.begin() as session:
        await questions.add_faq(session, audit.COMMAND_LINE, bot.sample.community_id, question, answer)


async def ask(resident: UserChat, text: str) -> str:
    [prompt] = await resident.send("/ask")
    assert "请用自己的话写下您的问题" in prompt.text
    [answer] = await resident.send(text)
    return answer.text


async def test_an_faq_answer_serves_the_resident_and_an_unmatched_question_joins_the_queue(bot: RunningBot) -> None:
    await add_faq(bot, "加装电梯每户要出多少钱？", "按楼层系数乘以面积分摊，一、二楼不出钱。")
    await add_faq(bot, "楼道灯坏了找谁修？", "打物业电话 8888。")
    grid_worker = bot.client.user(GRID, "李网格")
    [empty] = await grid_worker.send("队列")
    assert "没有等待的问题" in empty.text and empty.button_texts == []
    await join(bot, 8101, "王阿姨")
    resident = bot.client.user(8101, "王阿姨")

    [prompt] = await resident.send("提问")
    [offer] = await resident.send("装电梯我家要出多少钱")
    assert "按楼层系数" in offer.text and "物业电话" not in offer.text
    assert offer.button_texts == ["答案 1 解决了我的问题", "问工作人员"]
    [thanks] = await resident.press("答案 1")
    assert "很高兴" in thanks.text

    [queued] = await resident.send("/ask 狗叫声太吵，晚上睡不着")  # the question may follow the command
    assert "排在第 1 位" in queued.text and "还没有通常的等待时间" in queued.text
    async with bot.sessionmaker() as session:
        statuses = list(await session.scalars(select(Question.status).order_by(Question.id)))
        figures = await questions.figures(session, utcnow() - timedelta(days=1), utcnow() + timedelta(days=1))
    assert statuses == [QuestionStatus.self_served, QuestionStatus.waiting]
    assert (figures.asked, figures.self_served, figures.answered) == (2, 1, 0)
    await arrives(grid_worker, "有一个新问题在排队")


async def test_a_question_goes_to_the_grid_worker_and_the_answer_comes_back(bot: RunningBot) -> None:
    grid_worker = bot.client.user(GRID, "李网格")
    await grid_worker.send("/queue")
    await join(bot, 8201, "赵大爷")
    resident = bot.client.user(8201, "赵大爷")
    assert "排在第 1 位" in await ask(resident, "小区门口的快递柜能不能挪个地方？")
    [details] = await resident.send("现在挡着消防通道")
    assert "已补充" in details.text
    await arrives(grid_worker, "有一个新问题在排队")

    [queue] = await grid_worker.send("/queue")
    assert "有 1 个问题在等待" in queue.text
    [question] = await grid_worker.press("接下一个问题", queue)
    assert "赵大爷 的问题" in question.text and "快递柜" in question.text and "居民：现在挡着消防通道" in question.text
    [sent] = await grid_worker.send("已经联系物业，下周一挪到北门。")
    assert "已发给 赵大爷" in sent.text
    answer = await arrives(resident, "下周一挪到北门")
    assert answer.text.startswith("李网格 的答复") and answer.button_texts == ["回复", "问题已解决，谢谢"]
    await grid_worker.send_photo("photo-of-the-new-place", caption="新位置在这里")
    photo = await arrives(resident, "新位置在这里")
    assert photo.photo

    [follow_up] = await resident.send("北门那里晚上有灯吗？")  # still in the question: goes to the worker
    assert "已发给 李网格" in follow_up.text
    relayed = await arrives(grid_worker, "北门那里晚上有灯吗")
    assert relayed.text.startswith("赵大爷 对问题") and relayed.button_texts == ["回复"]
    await resident.send_photo("photo-of-the-dark-corner", caption="就是这个角落")
    assert (await arrives(grid_worker, "就是这个角落")).photo
    [shown] = await grid_worker.press("回复", relayed)
    assert "北门那里晚上有灯吗" in shown.text
    await grid_worker.send("有灯，物业装了两盏。")
    await arrives(resident, "物业装了两盏")

    [closed] = await grid_worker.press("办结问题")
    assert "已办结" in closed.text
    rating = await arrives(resident, "请打分")
    assert rating.button_texts == ["1", "2", "3", "4", "5"]
    [thanks] = await resident.press("4", rating)
    assert "谢谢您的评价" in thanks.text
    [after] = await resident.send("好的")
    assert "您的问题已经办结" in after.text

    # The answer becomes an FAQ entry, its question rewritten, its answer kept.
    [edit] = await grid_worker.press("加入常见问题", closed)
    assert "快递柜" in edit.text and edit.button_texts == ["保持原样"]
    [answer_prompt] = await grid_worker.send("快递柜挡着消防通道，会挪吗？")
    assert "有灯，物业装了两盏" in answer_prompt.text
    [saved] = await grid_worker.send("会，物业已挪到北门，晚上有灯。")
    assert "已加入常见问题" in saved.text

    await join(bot, 8202, "钱阿姨", room="302")
    neighbour = bot.client.user(8202, "钱阿姨")
    offer = await ask(neighbour, "快递柜能挪走吗")
    # The past answer (its first) and the FAQ entry made of it, closest first.
    assert offer.index("下周一挪到北门") < offer.index("物业已挪到北门")
    [queued] = await neighbour.press("问工作人员")
    assert "排在第 1 位" in queued.text and "通常大约 1 分钟内得到答复" in queued.text  # the first question's wait
    [withdrawn] = await neighbour.press("撤回问题", (await neighbour.send("/ask"))[0])
    assert "已撤回" in withdrawn.text

    async with bot.sessionmaker() as session:
        figures = await questions.figures(session, utcnow() - timedelta(days=1), utcnow() + timedelta(days=1))
        [grid_person] = [w for w in figures.per_worker]
    assert (figures.asked, figures.answered, grid_person.name, grid_person.answered, grid_person.mean_rating) == (2, 1, "李网格", 1, 4)
    assert grid_person.mean_wait_hours < 0.1
    *_, month = await bot.client.user(ADMIN, "陈主任").send("统计")  # the reports' figures, then the questions'
    assert "常见问题自助解决 0 个，工作人员答复 1 个" in month.text and "李网格：答复 1 个" in month.text and "评分 4.0（1 人评价）" in month.text


async def community_with_questions(sessionmaker: async_sessionmaker[AsyncSession], residents: int, workers: int) -> list[audit.Actor]:
    """The sample community with `workers` grid workers over it and one waiting question from
    each of `residents` residents; returns the workers."""
    from bot.demo import sample_households
    from bot.services import places

    async with sessionmaker.begin() as session:
        await places.import_households(session, sample_households(), actor=audit.COMMAND_LINE)
        community = await session.scalar(select(Place).where(Place.kind == PlaceKind.community))
        assert community is not None
        actors = []
        for number in range(workers):
            worker = await people.get_or_create_person(session, people.TELEGRAM, str(9000 + number), f"网格员{number}")
            await access.grant_role(session, worker.id, Role.grid_worker, access.Scope(PlaceKind.community, community.id), actor=audit.COMMAND_LINE)
            actors.append(audit.Actor(people.TELEGRAM, worker.id))
        household_ids = [h.id for h in (await places.list_places(session)) if h.kind is PlaceKind.household][:residents]
        for number, household_id in enumerate(household_ids):
            resident = await people.get_or_create_person(session, people.TELEGRAM, str(5000 + number), f"居民{number}")
            await people.join_household(session, resident.id, household_id, verified=False)
            await questions.ask(session, resident.id, f"问题 {number}")
    return actors


async def test_workers_taking_at_once_never_get_the_same_question(database_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    workers = await community_with_questions(sessionmaker, residents=12, workers=4)
    # Each worker on its own connection, as in separate bot processes.
    engines = [create_engine(database_url) for _ in workers]
    start = asyncio.Event()

    async def keep_taking(worker: audit.Actor, own: async_sessionmaker[AsyncSession]) -> list[int]:
        taken = []
        await start.wait()
        while True:
            async with own.begin() as session:
                question = await questions.take_next(session, worker)
            if question is None:
                return taken
            taken.append(question.id)

    try:
        runs = [keep_taking(worker, create_sessionmaker(engine)) for worker, engine in zip(workers, engines)]
        tasks = [asyncio.ensure_future(run) for run in runs]
        await asyncio.sleep(0.05)
        start.set()
        taken = await asyncio.gather(*tasks)
    finally:
        for engine in engines:
            await engine.dispose()
    every = [question_id for worker_took in taken for question_id in worker_took]
    assert len(every) == len(set(every)) == 12
    async with sessionmaker() as session:
        holders = dict((await session.execute(select(Question.id, Question.claimed_by))).all())
    for worker, worker_took in zip(workers, taken):
        assert all(holders[question_id] == worker.person_id for question_id in worker_took)


async def test_a_claim_in_progress_does_not_hand_the_same_question_to_another(database_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The first worker's transaction is still open when the second presses: on PostgreSQL the
    second skips the locked row and gets the next question at once; on SQLite it waits for the
    write lock and then gets the next one."""
    first, second = await community_with_questions(sessionmaker, residents=2, workers=2)
    other_engine = create_engine(database_url)
    try:
        async with sessionmaker.begin() as holding:
            mine = await questions.take_next(holding, first)
            assert mine is not None
            theirs_task = asyncio.ensure_future(_take_in(create_sessionmaker(other_engine), second))
            await asyncio.sleep(0.3)
            if database_url.startswith("postgresql"):
                assert theirs_task.done()  # not held up by the first worker's lock
        theirs = await theirs_task
    finally:
        await other_engine.dispose()
    assert theirs is not None and {mine.id, theirs} == {1, 2}


async def _take_in(own: async_sessionmaker[AsyncSession], worker: audit.Actor) -> int | None:
    async with own.begin() as session:
        question = await questions.take_next(session, worker)
        return question.id if question else None


async def grant(bot: RunningBot, user_id: int, role: Role) -> None:
    async with bot.sessionmaker.begin() as session:
        person = await people.find_person(session, people.TELEGRAM, str(user_id))
        assert person is not None
        await access.grant_role(session, person.id, role, access.Scope(PlaceKind.community, bot.sample.community_id), actor=audit.COMMAND_LINE)


async def test_a_question_is_transferred_to_another_grid_worker_and_then_to_the_admins(bot: RunningBot) -> None:
    grid_worker, colleague, admin = bot.client.user(GRID, "李网格"), bot.client.user(1010, "周网格"), bot.client.user(ADMIN, "陈主任")
    for person in (grid_worker, colleague, admin):
        await person.send("/help")
    await grant(bot, 1010, Role.grid_worker)
    await join(bot, 8301, "孙奶奶")
    resident = bot.client.user(8301, "孙奶奶")
    await ask(resident, "加装电梯的补贴什么时候发？")
    await arrives(grid_worker, "有一个新问题在排队")  # the notices to both grid workers are out
    await arrives(colleague, "有一个新问题在排队")

    [question] = await grid_worker.press("接下一个问题", (await grid_worker.send("/queue"))[0])
    [whom] = await grid_worker.press("转交", question)
    assert whom.button_texts == ["周网格", "社区管理员"]
    [passed] = await grid_worker.press("周网格", whom)
    assert "已转交给 周网格" in passed.text
    note = await arrives(colleague, "李网格 把问题")
    assert "补贴" in note.text and note.button_texts == ["去答复"]
    await arrives(resident, "已转交给 周网格 处理")
    assert await grid_worker.press("办结问题", question) == []  # no longer theirs: refused, nothing changes
    refusal = await bot.client.callback_answer(grid_worker.last_callback_id or "")
    assert refusal is not None and "不归您处理" in refusal["text"]

    await colleague.press("去答复", note)
    await colleague.send("补贴批下来后一个月内发。")
    await arrives(resident, "一个月内发")
    [whom] = await colleague.press("转交")
    [passed] = await colleague.press("社区管理员", whom)
    assert "已转交给社区管理员" in passed.text
    await arrives(admin, "有一个问题转交给了社区管理员")
    [admin_queue] = await admin.send("/queue")
    assert "有 1 个问题在等待" in admin_queue.text
    [taken] = await admin.press("接下一个问题", admin_queue)
    assert "孙奶奶 的问题" in taken.text and "答复：补贴批下来后一个月内发" in taken.text
    assert "没有等待的问题" in (await grid_worker.send("/queue"))[0].text  # the admins' now, not the grid's
    async with bot.sessionmaker() as session:
        question_row = await session.scalar(select(Question))
        admin_person = await people.find_person(session, people.TELEGRAM, str(ADMIN))
    assert question_row is not None and admin_person is not None and question_row.claimed_by == admin_person.id


async def test_residents_cannot_use_grid_worker_commands_or_forged_buttons(bot: RunningBot) -> None:
    await join(bot, 8401, "吴阿姨")
    await join(bot, 8402, "郑叔叔", room="302")
    resident, other = bot.client.user(8401, "吴阿姨"), bot.client.user(8402, "郑叔叔")
    await ask(other, "小区什么时候装充电桩？")
    [refused] = await resident.send("/queue")
    assert "没有这个权限" in refused.text
    [faq] = await resident.send("/faq")
    assert "常见问题由社区管理员维护" in faq.text
    [grid_faq] = await bot.client.user(GRID, "李网格").send("/faq")
    assert "常见问题由社区管理员维护" in grid_faq.text
    [help_] = await resident.send("/help")
    assert "/ask" in help_.text and "/queue" not in help_.text

    message_id = (await resident.last()).message_id
    async with bot.sessionmaker() as session:
        question_id = await session.scalar(select(Question.id))
    for forged in ("qnext", f"qwork:{question_id}:3", f"qwork:{question_id}:4", f"qto:{question_id}:1", f"qact:{question_id}:2", f"qrate:{question_id}:1"):
        assert await resident.press_data(message_id, forged) == [], forged
        answer = await bot.client.callback_answer(resident.last_callback_id or "")
        assert answer is not None and answer.get("show_alert"), forged
    async with bot.sessionmaker() as session:
        question = await session.get(Question, question_id)
        assert question is not None and (question.status, question.claimed_by, question.rating) == (QuestionStatus.waiting, None, None)
        assert await session.scalar(select(func.count()).select_from(FaqEntry)) == 0


async def test_reminders_and_escalation_are_done_once_whatever_restarts(start_bot: Callable[..., AbstractAsyncContextManager[RunningBot]]) -> None:
    async with start_bot() as bot:
        await join(bot, 8501, "冯大爷")
        await ask(bot.client.user(8501, "冯大爷"), "楼顶漏水，能不能修？")
        asked_at = utcnow()
    # A restart: another process, on the same database, with nothing kept in memory. (The new
    # emulator numbers its updates on from the old one's, which the database remembers as handled.)
    async with start_bot(first_update_id=1000) as bot:
        grid_worker, admin = bot.client.user(GRID, "李网格"), bot.client.user(ADMIN, "陈主任")
        await grid_worker.send("/help")
        await admin.send("/help")
        sweep = scheduling.run_sweeps
        assert (await sweep(bot.sessionmaker, bot.settings, now=asked_at + timedelta(hours=3)))["question-deadlines"] == 0
        assert (await sweep(bot.sessionmaker, bot.settings, now=asked_at + timedelta(hours=5)))["question-deadlines"] == 1
        reminder = await arrives(grid_worker, "已等待超过 4 小时")
        assert reminder.button_texts == ["接下一个问题"]
        assert "没有等待的问题" in (await admin.send("/queue"))[0].text  # not the admins' yet

        assert (await sweep(bot.sessionmaker, bot.settings, now=asked_at + timedelta(hours=25)))["question-deadlines"] == 1
        assert (await sweep(bot.sessionmaker, bot.settings, now=asked_at + timedelta(hours=26)))["question-deadlines"] == 0
        escalated = await arrives(admin, "24 小时没有答复")
        assert "楼顶漏水" in escalated.text
        [taken] = await admin.press("接下一个问题", escalated)
        assert "冯大爷 的问题" in taken.text
        async with bot.sessionmaker() as session:
            deliveries = await session.scalar(select(func.count()).select_from(OutboxDelivery))
        # The first process's notice of the new question (to the grid worker), one reminder, one escalation.
        assert deliveries == 3


async def queued_for_wechat(bot: RunningBot, openid: str, words: str) -> str:
    """The text of a message waiting in the outbox for this WeChat user that contains `words`.

    The outbox's WeChat sender is built on the wechat branch (issue #9); until it is merged, a
    message to WeChat is proved by its row: the right channel, the person's openid, the text.
    Once merged, this becomes a wait for the emulator to show it (WeChatUser.seen)."""
    for _ in range(100):
        async with bot.sessionmaker() as session:
            rows = await session.scalars(
                select(OutboxMessage.reply).join(OutboxDelivery, OutboxDelivery.message_id == OutboxMessage.id)
                .where(OutboxDelivery.channel == people.WECHAT, OutboxDelivery.chat_id == openid)
            )
            found = [reply for reply in rows if words in render_text(reply_from_json(reply).text, "zh_CN")]
        if found:
            return render_text(reply_from_json(found[-1]).text, "zh_CN")
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message with {words!r} for {openid}")


async def test_a_wechat_resident_and_a_telegram_grid_worker_and_the_other_way_round(wechat_bot: RunningBot) -> None:
    assert wechat_bot.wechat_client is not None
    grid_worker = wechat_bot.client.user(GRID, "李网格")
    await grid_worker.send("/help")
    on_wechat = wechat_bot.wechat_client.user("oAsker0000001")
    await on_wechat.send("加入 " + wechat_bot.sample.building_code)
    await on_wechat.send("1单元")
    await on_wechat.send("301")
    assert "请用自己的话写下您的问题" in (await on_wechat.send("提问"))[0]
    [queued] = await on_wechat.send("楼下的路灯坏了一个月了")
    assert "排在第 1 位" in queued and "回复 1" not in queued

    await arrives(grid_worker, "有一个新问题在排队")
    [question] = await grid_worker.press("接下一个问题", (await grid_worker.send("/queue"))[0])
    assert "路灯坏了一个月" in question.text
    await grid_worker.send("明天电工来修。")
    await queued_for_wechat(wechat_bot, "oAsker0000001", "明天电工来修")
    [sent] = await on_wechat.send("好的，谢谢，修好了告诉我一声")
    assert "已发给 李网格" in sent
    await arrives(grid_worker, "修好了告诉我一声")

    # The other way round: a Telegram resident, a grid worker on WeChat.
    wechat_worker = wechat_bot.wechat_client.user("oGridWorker01")
    await wechat_worker.follow()
    await grant_on(wechat_bot, people.WECHAT, "oGridWorker01", Role.grid_worker)
    await join(wechat_bot, 8601, "褚阿姨", room="302")
    resident = wechat_bot.client.user(8601, "褚阿姨")
    await ask(resident, "垃圾清运车几点来？")
    [waiting] = await wechat_worker.send("队列")
    assert "有 1 个问题在等待" in waiting and "回复 1：接下一个问题" in waiting
    [shown] = await wechat_worker.send("1")
    assert "褚阿姨 的问题" in shown and "垃圾清运车" in shown
    await wechat_worker.send("每天早上七点。")
    reply = await arrives(resident, "每天早上七点")
    assert reply.button_texts == ["回复", "问题已解决，谢谢"]
    await resident.send("周末也来吗？")
    await queued_for_wechat(wechat_bot, "oGridWorker01", "周末也来吗")


async def grant_on(bot: RunningBot, channel: str, external_id: str, role: Role) -> None:
    async with bot.sessionmaker.begin() as session:
        person = await people.find_person(session, channel, external_id)
        assert person is not None
        await access.grant_role(session, person.id, role, access.Scope(PlaceKind.community, bot.sample.community_id), actor=audit.COMMAND_LINE)


async def test_admins_keep_the_faq_and_a_resident_withdraws_a_waiting_question(bot: RunningBot) -> None:
    admin = bot.client.user(ADMIN, "陈主任")
    [*_, empty] = await admin.send("/faq")
    assert "常见问题共 0 条" in empty.text
    [write] = await admin.press("新增一条", empty)
    assert "请写问题" in write.text
    [answer_prompt] = await admin.send("小区里能养鸡吗？")
    assert "请写答复" in answer_prompt.text and answer_prompt.button_texts == []
    [saved] = await admin.send("不能，影响邻居和卫生。")
    assert "已加入常见问题" in saved.text
    [entry, summary] = await admin.send("常见问题")
    assert "问：小区里能养鸡吗？\n答：不能，影响邻居和卫生。" in entry.text and "共 1 条" in summary.text

    await join(bot, 8701, "蒋阿姨")
    resident = bot.client.user(8701, "蒋阿姨")
    offer = await ask(resident, "我想在楼下养几只鸡")
    assert "影响邻居和卫生" in offer
    [queued] = await resident.press("问工作人员")
    assert "排在第 1 位" in queued.text
    [again] = await resident.send("/ask")  # one open question at a time: /ask shows it
    assert "排在第 1 位" in again.text and again.button_texts == ["撤回问题"]
    [withdrawn] = await resident.press("撤回问题", again)
    assert "已撤回" in withdrawn.text
    assert "没有等待的问题" in (await bot.client.user(GRID, "李网格").send("/queue"))[0].text

    [deleted] = await admin.press("删除", entry)
    assert "已从常见问题中删除" in deleted.text
    [*_, none_left] = await admin.send("/faq")
    assert "常见问题共 0 条" in none_left.text
    async with bot.sessionmaker() as session:
        statuses = list(await session.scalars(select(Question.status)))
    assert statuses == [QuestionStatus.withdrawn]


async def test_a_question_taken_and_left_unanswered_goes_back_to_the_queue_for_the_admins(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    [worker] = await community_with_questions(sessionmaker, residents=1, workers=1)
    async with sessionmaker.begin() as session:
        taken = await questions.take_next(session, worker)
        admin = await people.get_or_create_person(session, people.TELEGRAM, "9900", "陈主任")
        community_id = await session.scalar(select(Place.id).where(Place.kind == PlaceKind.community))
        await access.grant_role(session, admin.id, Role.admin, access.Scope(PlaceKind.community, community_id or 0), actor=audit.COMMAND_LINE)
    assert taken is not None
    settings = Settings(_env_file=None)
    done = await scheduling.run_sweeps(sessionmaker, settings, now=taken.created_at + timedelta(hours=25))
    assert done["question-deadlines"] == 1
    async with sessionmaker.begin() as session:
        with pytest.raises(DomainError):
            await questions.answer(session, worker, taken.id, "迟到的答复", None)  # no longer theirs
    async with sessionmaker.begin() as session:
        again = await questions.take_next(session, audit.Actor(people.TELEGRAM, admin.id))
    assert again is not None and again.id == taken.id and again.claimed_by == admin.id and again.escalated_at is not None
