"""The floor of the report flow: the least a bot can do for bench/reports.py's residents and keep
the report flow's promises, on the project's own stack. bench/reports.py --floor runs it beside
the echo bot and the real bot, to tell how much of the real bot's cost is the stack's and how
much its features'.

    python bench/report_floor.py API_URL TOKEN [--routing]   (GONGJIAN_DATABASE_URL: the benchmark's database)

Like the real bot it polls through aiogram with the same number of updates in flight, and handles
each update in one transaction of the project's engine, sessions and tables: the update claimed
(so a redelivery is not handled twice), the person found by their Telegram identity, the draft
kept in the conversation's row, and the answer sent after the commit. "/report <text>" keeps
the draft and offers four fixed categories as buttons; a category's name saves the report (one
INSERT), its history (submitted, assigned), the grid worker's notification through the outbox,
and clears the draft; the answer reads as the real bot's ("报告 #N 已受理：…"). What it leaves
out is what the real bot's features do: the routing engine, the resident's building and its grid
worker, the duplicate check, deadlines per category, the audit log, the command and menu
routers, translations beyond the two answers.

--routing adds the one feature the report flow cannot be without: the routing engine, loaded as
the bot loads it, proposes the description's three likeliest categories as the buttons (instead
of four fixed ones), so the floor with it tells how much of the margin to the echo bot one
classification per report takes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import BaseMiddleware, Bot, Dispatcher  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, TelegramObject, Update  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.app import UPDATES_IN_FLIGHT  # noqa: E402
from bot.categories import Category, load_categories  # noqa: E402
from bot.channels import telegram  # noqa: E402
from bot.conversations.turn import Turn  # noqa: E402
from bot.delivery import outbox  # noqa: E402
from bot.i18n import load_catalogues, translate  # noqa: E402
from bot.replies import Reply  # noqa: E402
from bot.routing import RoutingEngine  # noqa: E402
from bot.services import people  # noqa: E402
from storage.db import create_engine, create_sessionmaker, update_sessions  # noqa: E402
from storage.models import ProcessedUpdate, Report, ReportAction, ReportEvent, ReportStatus, utcnow  # noqa: E402

LOCALE = "zh_CN"
FIRST_WORKER_ID = 900_000  # bench/reports.py's first grid worker: every report goes to them
DRAFT = "floor.draft"
_CLAIM = insert(ProcessedUpdate.__table__)
_REPORT = insert(Report.__table__)
_EVENTS = insert(ReportEvent.__table__)


class Transaction(BaseMiddleware):
    """One transaction per update: claimed, the person found, the handler's changes; the answer
    (a Message.answer's arguments, returned by the handler) sent after the commit."""

    def __init__(self, sessionmaker: Any) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update) and event.message is not None and event.message.from_user is not None
        user = event.message.from_user
        async with self.sessionmaker() as session:
            await session.execute(_CLAIM, {"channel": telegram.CHANNEL, "update_key": str(event.update_id), "processed_at": utcnow()})
            person = await people.get_or_create_person(session, people.TELEGRAM, str(user.id), user.full_name)
            turn = Turn(session=session, person=person, channel=telegram.traits(None), chat_id=str(user.id), locale=LOCALE)
            answer = await handler(event, data | {"turn": turn})
            await turn.save(None)
            await session.commit()
        await event.message.answer(**answer)


def category_buttons(categories: list[Category]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=category.name(LOCALE), callback_data=f"c:{category.code}")] for category in categories
    ])


async def main(api_url: str, token: str, with_routing: bool) -> None:
    logging.basicConfig(level=logging.INFO)
    load_catalogues()
    engine = create_engine(os.environ["GONGJIAN_DATABASE_URL"])
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        worker = await people.find_person(session, people.TELEGRAM, str(FIRST_WORKER_ID))
    assert worker is not None, "bench/reports.py seeds the grid workers"
    categories = load_categories()
    by_name = {category.name(LOCALE): category for category in categories.values()}
    fixed_keyboard = category_buttons(list(categories.values())[:4])
    routing: RoutingEngine | None = None
    if with_routing:
        routing = RoutingEngine(categories)
        await routing.load()
    saved = translate(LOCALE, "Report #{id} is saved (受理): {category}.")
    dispatcher = Dispatcher()
    dispatcher.update.outer_middleware(Transaction(update_sessions(sessions)))

    @dispatcher.message()
    async def report(message: Message, turn: Turn) -> dict[str, Any]:
        text = message.text or ""
        if text.startswith("/report"):
            description = text.removeprefix("/report").strip()
            await turn.set_step(DRAFT, text=description)
            keyboard = fixed_keyboard if routing is None else category_buttons(
                [categories[prediction.category] for prediction in routing.classify(description)]
            )
            return {"text": translate(LOCALE, "What kind of problem is it? Please choose."), "reply_markup": keyboard}
        _, draft = await turn.step()
        category = by_name[text]
        now = utcnow()
        written = await turn.session.execute(_REPORT, {
            "reporter_id": turn.person.id, "text": draft.get("text", ""), "category": category.code, "routed_category": category.code,
            "status": ReportStatus.assigned, "priority": 0, "handler_id": worker.id, "photos": [], "location_label": "",
            "deadline": now + timedelta(days=3), "remind_at": now + timedelta(days=2), "created_at": now,
        })
        report_id = written.inserted_primary_key[0]
        await turn.session.execute(_EVENTS, [
            {"report_id": report_id, "actor_id": turn.person.id, "action": ReportAction.submitted, "from_status": None,
             "to_status": ReportStatus.submitted, "note": "", "created_at": now},
            {"report_id": report_id, "actor_id": turn.person.id, "action": ReportAction.assigned, "from_status": ReportStatus.submitted,
             "to_status": ReportStatus.assigned, "note": "", "created_at": now},
        ])
        await outbox.enqueue_to_people(turn.session, [worker.id], Reply(draft.get("text", "")), source=f"report:{report_id}")
        await turn.clear()
        return {"text": saved.format(id=report_id, category=category.name(LOCALE))}

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    try:
        await dispatcher.start_polling(bot, handle_as_tasks=True, tasks_concurrency_limit=UPDATES_IN_FLIGHT)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], with_routing="--routing" in sys.argv[3:]))
