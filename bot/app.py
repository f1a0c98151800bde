"""Assembly: settings → database → aiogram Bot and Dispatcher, run by polling or webhook; and
WeChat's webhook in the same process, beside Telegram or alone."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.methods import SendMessage
from aiogram.types import Message, Update
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import aiogram_models
from bot.categories import load_categories, with_deadlines
from bot.channels.wechat.channel import WeChatChannel, wechat_channel
from bot.config import Settings
from bot.delivery.runner import RunningSender, start_sender, start_wechat_sender
from bot.i18n import load_catalogues
from bot.routing import RoutingEngine
from bot.scheduling import create_scheduler
from bot.services import routing_updates
from bot.telegram_requests import RESPONSE_TYPES, RetryAfterFlood, SplitLongMessages
from handlers import feature_routers
from handlers.commands import describe_failure, set_command_menus
from handlers.middlewares import PersonContext, UpdateTransaction
from storage import migrate
from storage.db import create_engine, create_sessionmaker

log = logging.getLogger(__name__)
# Calls at start the bot works without (command menus, deleting a webhook) wait this long at most,
# so a server that never answers delays the start by seconds, not by aiogram's default minute.
OPTIONAL_CALL_TIMEOUT = 5  # seconds
MODEL_LOAD_WAIT_SECONDS = 10
# Updates handled at once when polling. aiogram asks for the next batch (which confirms the one
# before to Telegram) only once every update of the batch has a slot, so a crash loses at most
# this many and one batch; and a burst waits at Telegram instead of as thousands of tasks in
# memory queueing for a handful of database connections (measured: 30-second pool timeouts on
# PostgreSQL, and 1,332 confirmed updates lost to a kill, with no limit; bench/reports.py).
UPDATES_IN_FLIGHT = 32


@dataclass
class Application:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bot: Bot | None  # None: no Telegram token, the process serves WeChat alone
    dispatcher: Dispatcher
    routing: RoutingEngine
    wechat: WeChatChannel | None = None  # None: WeChat is not configured


def create_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("GONGJIAN_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")))
    # The first registered is the outermost: split first, so that each part is retried alone.
    session.middleware(SplitLongMessages())
    session.middleware(RetryAfterFlood())
    # No parse mode: replies carry entities (bot/channels/telegram.py), so nothing a person typed
    # is ever read as markup.
    return Bot(settings.bot_token.get_secret_value(), session=session)


def _event_isolation(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """Updates of one chat are handled one after another (a person's second tap waits for the
    first), by every worker alike when Redis is configured. Conversation state itself is in the
    database (bot/conversations/turn.py); aiogram's FSM storage holds nothing."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(settings.redis_url)
        return storage, RedisEventIsolation(storage.redis)
    return MemoryStorage(), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], routing: RoutingEngine, wechat: WeChatChannel | None = None
) -> Dispatcher:
    storage, isolation = _event_isolation(settings)
    # Handlers receive `routing` (and `settings`, passed at start) as keyword arguments.
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation, routing=routing)
    dispatcher.update.outer_middleware(UpdateTransaction(sessionmaker))
    dispatcher.update.outer_middleware(PersonContext(settings))
    dispatcher.include_routers(*feature_routers())
    _register_lifecycle(dispatcher, settings, sessionmaker, routing, wechat)
    return dispatcher


def _register_lifecycle(
    dispatcher: Dispatcher, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], routing: RoutingEngine, wechat: WeChatChannel | None
) -> None:
    scheduler = create_scheduler(settings, routing, sessionmaker)
    loading: list[asyncio.Task[None]] = []
    senders: list[RunningSender] = []

    async def on_startup(bot: Bot | None) -> None:
        if bot is not None:
            await set_command_menus(bot, settings.default_locale, request_timeout=OPTIONAL_CALL_TIMEOUT)
        # The model loads in the background; until it is in, the router answers from keywords.
        loading.append(asyncio.create_task(routing_updates.load_current(routing, sessionmaker)))
        scheduler.start()
        # The outbox's senders, one per channel served: messages the bot sends on its own
        # (bot/delivery), and on WeChat the replies that missed the passive answer.
        if bot is not None:
            senders.append(start_sender(settings, sessionmaker))
        if wechat is not None:
            senders.append(start_wechat_sender(settings, sessionmaker, wechat.api))
        # The models every update uses, built now rather than for the first resident (they are
        # built on first use: bot/aiogram_models.py), and so frozen with the rest below. Message
        # first: the others then refer to its schema instead of building it again (0.35 s, not 0.8).
        aiogram_models.build((Message, Update, SendMessage, *RESPONSE_TYPES))
        # What start-up built (aiogram's and pydantic's classes, SQLAlchemy's mappers: some
        # 260,000 objects) lives as long as the process; frozen, the collector stops walking it,
        # which took 100-350 ms a time and made the slowest answers slow.
        gc.collect()
        gc.freeze()

    async def on_shutdown() -> None:
        # The sender first: it records its last messages while nothing else is being cut off.
        while senders:
            await senders.pop().stop()
        scheduler.shutdown(wait=False)
        # Loading the model takes a fraction of a second: let it finish rather than cancel it
        # mid-query, which could leave SQLite's one pooled connection checked out.
        if loading:
            await asyncio.wait(loading, timeout=MODEL_LOAD_WAIT_SECONDS)
        for task in loading:
            task.cancel()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)


@asynccontextmanager
async def application(settings: Settings) -> AsyncIterator[Application]:
    """Everything the bot needs, with the database upgraded to the newest schema."""
    load_catalogues()
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    try:
        await migrate.upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        bot = create_bot(settings) if settings.bot_token is not None else None
        routing = RoutingEngine(with_deadlines(load_categories(settings.categories_file), settings.report_deadlines))
        try:
            async with wechat_channel(settings, sessionmaker, routing) as wechat:
                dispatcher = create_dispatcher(settings, sessionmaker, routing, wechat)
                try:
                    yield Application(settings, engine, sessionmaker, bot, dispatcher, routing, wechat)
                finally:
                    await dispatcher.storage.close()
        finally:
            if bot is not None:
                await bot.session.close()
    finally:
        await engine.dispose()


async def run_polling(settings: Settings) -> None:
    async with application(settings) as app, serving_wechat(app):
        await poll(app)


async def poll(app: Application, *, concurrent: bool = True) -> None:
    """Long polling until stopped (a signal, or `stop_polling`). `concurrent=False` handles one
    update at a time: tests and the demo rely on that to know when an update is finished."""
    bot = telegram_bot(app)
    try:
        await bot.delete_webhook(drop_pending_updates=False, request_timeout=OPTIONAL_CALL_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any answer at all (an error page, a timeout): polling works all the same
        log.warning("deleteWebhook failed: %s", describe_failure(error))
    await app.dispatcher.start_polling(
        bot, settings=app.settings, handle_as_tasks=concurrent, polling_timeout=10, handle_signals=concurrent,
        tasks_concurrency_limit=UPDATES_IN_FLIGHT,
    )


def telegram_bot(app: Application) -> Bot:
    if app.bot is None:
        raise ValueError("GONGJIAN_BOT_TOKEN is not set")
    return app.bot


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
    bot = telegram_bot(app)
    # Answered once handled, not at once: Telegram keeps an update until it has our 200, so one cut
    # short by a crash is delivered again (and handled once, by its claimed update id).
    SimpleRequestHandler(app.dispatcher, bot, handle_in_background=False, secret_token=secret, settings=settings).register(
        web_app, path=settings.webhook_path
    )
    setup_application(web_app, app.dispatcher, bot=bot, settings=settings)
    if app.wechat is not None:
        app.wechat.register(web_app)  # one server, one port: WeChat's path beside Telegram's
    return web_app


async def run_webhook(settings: Settings) -> None:
    if not settings.webhook_base_url or settings.webhook_secret is None:
        raise ValueError("webhook mode needs GONGJIAN_WEBHOOK_BASE_URL and GONGJIAN_WEBHOOK_SECRET")
    async with application(settings) as app:
        url = settings.webhook_base_url.rstrip("/") + settings.webhook_path
        await telegram_bot(app).set_webhook(url, secret_token=settings.webhook_secret.get_secret_value())
        async with serve(webhook_app(app), settings.webhook_host, settings.webhook_port):
            log.info("serving the webhook at %s", url)
            await _wait_forever()


async def _wait_forever() -> None:
    await asyncio.Event().wait()


async def run_wechat(settings: Settings) -> None:
    """WeChat alone: its webhook, and the process's own work (the scheduler, the routing model)
    that a Telegram dispatcher would otherwise start."""
    log.info("Telegram channel off: GONGJIAN_BOT_TOKEN is not set")
    async with application(settings) as app, serving_wechat(app):
        await app.dispatcher.emit_startup(bot=None)
        try:
            await _wait_forever()
        finally:
            await app.dispatcher.emit_shutdown()


@asynccontextmanager
async def serving_wechat(app: Application, host: str | None = None, port: int | None = None) -> AsyncIterator[int | None]:
    """WeChat's webhook on GONGJIAN_WEBHOOK_HOST:PORT (or `host`, `port`; 0 picks a free port)
    while the body runs; yields the port, or None when WeChat is off."""
    if app.wechat is None:
        yield None
        return
    web_app = web.Application()
    app.wechat.register(web_app)
    host = host or app.settings.webhook_host
    async with serve(web_app, host, app.settings.webhook_port if port is None else port) as bound:
        log.info("serving the WeChat webhook at http://%s:%s%s", host, bound, app.wechat.path)
        yield bound


@asynccontextmanager
async def serve(web_app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """An aiohttp app on host:port while the body runs; yields the port it is bound to."""
    runner = web.AppRunner(web_app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()
