"""Questions to grid workers, end to end through the Bot API and WeChat emulators: FAQ first,
then the grid's queue, a grid worker's answer relayed back (across channels too), follow-ups,
transfer, closing and rating; claims that never collide on SQLite and PostgreSQL; reminders and
escalation done once by the sweep, whatever restarts in between."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import scheduling
from bot.config import Settings
from bot.emulator.client import UserChat
from bot.services import access, audit, people, questions
from bot.services.similarity import THRESHOLD, Candidate, closest
from storage.db import create_engine, create_sessionmaker
from storage.models import FaqEntry, OutboxDelivery, Place, PlaceKind, Question, QuestionStatus, Role, utcnow
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
    grid_worker = bot.client.user(GRID, "李网格")
    await arrives(grid_worker, "有一个新问题在排队")
