"""Assembly: settings → database → aiogram Bot and Dispatcher, run by polling or webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.categories import load_categories
from bot.config import Settings
from bot.delivery.runner import RunningSender, start_sender
from bot.i18n import load_catalogues
from bot.routing import RoutingEngine
from bot.scheduling import create_scheduler
from bot.services import routing_updates
from bot.telegram_requests import RetryAfterFlood, SplitLongMessages
from handlers import feature_routers
from handlers.commands import set_command_menus
from handlers.middlewares import PersonContext, UpdateTransaction
from storage import migrate
from storage.db import create_engine, create_sessionmaker

log = logging.getLogger(__name__)


@dataclass
class Application:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    routing: RoutingEngine


def create_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("GONGJIAN_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")))
    # The first registered is the outermost: split first, so that each part is retried alone.
    session.middleware(SplitLongMessages())
    session.middleware(RetryAfterFlood())
    return Bot(settings.bot_token.get_secret_value(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def _event_isolation(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """Updates of one chat are handled one after another (a person's second tap waits for the
    first), by every worker alike when Redis is configured. Conversation state itself is in the
    database (bot/conversations/turn.py); aiogram's FSM storage holds nothing."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(settings.redis_url)
        return storage, RedisEventIsolation(storage.redis)
    return MemoryStorage(), SimpleEventIsolation()


def create_dispatcher(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], routing: RoutingEngine) -> Dispatcher:
    storage, isolation = _event_isolation(settings)
    # Handlers receive `routing` (and `settings`, passed at start) as keyword arguments.
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation, routing=routing)
    dispatcher.update.outer_middleware(UpdateTransaction(sessionmaker))
    dispatcher.update.outer_middleware(PersonContext(settings.default_locale))
    dispatcher.include_routers(*feature_routers())
    _register_lifecycle(dispatcher, settings, sessionmaker, routing)
    return dispatcher


def _register_lifecycle(
    dispatcher: Dispatcher, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], routing: RoutingEngine
) -> None:
    scheduler = create_scheduler(settings.timezone, settings.routing_retrain_hour, routing, sessionmaker, settings.routing_training_data)
    loading: list[asyncio.Task[None]] = []
    senders: list[RunningSender] = []

    async def on_startup(bot: Bot) -> None:
        await set_command_menus(bot, settings.default_locale)
        # The model loads in the background; until it is in, the router answers from keywords.
        loading.append(asyncio.create_task(routing_updates.load_current(routing, sessionmaker)))
        scheduler.start()
        # The outbox's sender: messages the bot sends on its own (bot/delivery).
        senders.append(start_sender(settings, sessionmaker))

    async def on_shutdown() -> None:
        scheduler.shutdown(wait=False)
        for task in loading:
            task.cancel()
        while senders:
            await senders.pop().stop()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)


@asynccontextmanager
async def application(settings: Settings) -> AsyncIterator[Application]:
    """Everything the bot needs, with the database upgraded to the newest schema."""
    load_catalogues()
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        bot = create_bot(settings)
        routing = RoutingEngine(load_categories(settings.categories_file))
        dispatcher = create_dispatcher(settings, sessionmaker, routing)
        try:
            yield Application(settings, engine, sessionmaker, bot, dispatcher, routing)
        finally:
            await bot.session.close()
            await dispatcher.storage.close()
    finally:
        await engine.dispose()


async def run_polling(settings: Settings) -> None:
    async with application(settings) as app:
        await poll(app)


async def poll(app: Application, *, concurrent: bool = True) -> None:
    """Long polling until stopped (a signal, or `stop_polling`). `concurrent=False` handles one
    update at a time: tests and the demo rely on that to know when an update is finished."""
    try:
        await app.bot.delete_webhook(drop_pending_updates=False)
    except Exception as error:  # noqa: BLE001 - any answer at all (an error page, a timeout): polling works all the same
        log.warning("deleteWebhook failed: %s: %s", type(error).__name__, error)
    await app.dispatcher.start_polling(
        app.bot, settings=app.settings, handle_as_tasks=concurrent, polling_timeout=10, handle_signals=concurrent
    )


@asynccontextmanager
async def polling_in_background(app: Application) -> AsyncIterator[None]:
    """Poll (one update at a time) while the body runs; stop cleanly after. The body starts once
    the bot has started up (menus set), so what it sends is answered by a ready bot."""
    started = asyncio.Event()

    async def mark_started() -> None:
        started.set()

    app.dispatcher.startup.register(mark_started)
    task = asyncio.create_task(poll(app, concurrent=False))
    try:
        await asyncio.wait([task, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # polling ended before it started: raise why
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # polling may not have started yet
            await app.dispatcher.stop_polling()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def webhook_app(app: Application) -> web.Application:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    settings = app.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    web_app = web.Application()
    SimpleRequestHandler(app.dispatcher, app.bot, secret_token=secret, settings=settings).register(web_app, path=settings.webhook_path)
    setup_application(web_app, app.dispatcher, bot=app.bot, settings=settings)
    return web_app


async def run_webhook(settings: Settings) -> None:
    if not settings.webhook_base_url or settings.webhook_secret is None:
        raise ValueError("webhook mode needs GONGJIAN_WEBHOOK_BASE_URL and GONGJIAN_WEBHOOK_SECRET")
    async with application(settings) as app:
        url = settings.webhook_base_url.rstrip("/") + settings.webhook_path
        await app.bot.set_webhook(url, secret_token=settings.webhook_secret.get_secret_value())
        runner = web.AppRunner(webhook_app(app))
        await runner.setup()
        await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        log.info("serving the webhook at %s", url)
        try:
            await _wait_forever()
        finally:
            await runner.cleanup()


async def _wait_forever() -> None:
    await asyncio.Event().wait()
