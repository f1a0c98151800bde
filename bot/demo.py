"""`gongjian demo`: the whole bot offline, in a terminal.

It starts the local Bot API emulator, runs the real bot against it on a throw-away SQLite
file seeded with a sample community, and lets you chat as a resident, a grid worker, a
volunteer or an administrator of that community; with `--channel wechat`, as a resident on
WeChat, through the local WeChat emulator.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Application, application, polling_in_background, serving_wechat
from bot.config import Settings
from bot.emulator import BotApiEmulator, ChatMessage, EmulatorClient, UserChat, WeChatClient, WeChatEmulator
from bot.i18n import _, set_locale
from bot.services import access, audit, invites, people, places
from bot.services.households_import import HouseholdRow
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import PlaceKind, Role

# The sample follows the 2020 Yongzhou report: 西冲塘小区 in 通化街社区, 冷水滩区.
SAMPLE_PATH = ("冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区")
SAMPLE_BUILDINGS = ("1栋", "2栋", "3栋")
SAMPLE_UNITS = ("1单元", "2单元")
SAMPLE_FLOORS = range(1, 7)
SAMPLE_AREAS = (Decimal("58.60"), Decimal("72.35"))


def sample_households() -> list[HouseholdRow]:
    """Three six-storey walk-ups, two units each, two flats a floor: 72 households."""
    return [
        HouseholdRow(*SAMPLE_PATH, building, unit, floor, f"{floor}0{flat}", SAMPLE_AREAS[flat - 1])
        for building in SAMPLE_BUILDINGS
        for unit in SAMPLE_UNITS
        for floor in SAMPLE_FLOORS
        for flat in (1, 2)
    ]


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: int
    name: str
    role: Role | None


PERSONAS = (
    Persona("resident", 1001, "王阿姨", None),
    Persona("grid", 1002, "李网格", Role.grid_worker),
    Persona("volunteer", 1003, "张党员", Role.volunteer),
    Persona("admin", 1004, "陈主任", Role.admin),
)


@dataclass(frozen=True)
class SampleCommunity:
    community_id: int
    building_code: str
    household_code: str


async def seed_sample(database_url: str) -> SampleCommunity:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with create_sessionmaker(engine).begin() as session:
            await places.import_households(session, sample_households(), actor=audit.COMMAND_LINE)
            nodes = await places.list_places(session)
            community_id = next(n.id for n in nodes if n.kind.value == "community")
            building_id = next(n.id for n in nodes if n.kind.value == "building")
            household_id = next(n.id for n in nodes if n.kind.value == "household" and n.name == "301")
            for persona in PERSONAS:
                person = await people.get_or_create_person(session, people.TELEGRAM, str(persona.user_id), persona.name)
                if persona.role is not None:
                    scope = access.Scope(PlaceKind.community, community_id)
                    await access.grant_role(session, person.id, persona.role, scope, actor=audit.COMMAND_LINE)
            building_code = await invites.building_code(session, building_id, actor=audit.COMMAND_LINE)
            household_code = await invites.household_code(session, household_id, actor=audit.COMMAND_LINE)
        return SampleCommunity(community_id, building_code, household_code)
    finally:
        await engine.dispose()


def render(message: ChatMessage, first_button: int) -> tuple[str, list[str]]:
    """A bot message as terminal text; buttons are numbered from `first_button`."""
    lines = ["🤖 " + message.text.replace("\n", "\n   ")]
    data: list[str] = []
    for row in message.buttons:
        cells = []
        for button in row:
            if button.callback_data is None:
                continue
            data.append(button.callback_data)
            cells.append(f"[{first_button + len(data) - 1}] {button.text}")
        if cells:
            lines.append("   " + "  ".join(cells))
    return "\n".join(lines), data


class Terminal:
    def __init__(self, client: EmulatorClient, sample: SampleCommunity) -> None:
        self.client = client
        self.sample = sample
        self.persona = PERSONAS[0]
        self.buttons: list[tuple[int, str]] = []  # (message id, callback data) by number

    def chat(self) -> UserChat:
        return self.client.user(self.persona.user_id, self.persona.name)

    def intro(self) -> str:
        return _(
            "gongjian demo: you are {name}, a resident of the sample compound 西冲塘小区.\n"
            "Type as you would in Telegram. Try: /start {building_code} (the stairwell code of 1栋), "
            "or /start {household_code} (the one-time paper code of a household), then /me.\n"
            "A number presses that button. :as resident|grid|volunteer|admin switches who you are. :quit leaves."
        ).format(name=self.persona.name, building_code=self.sample.building_code, household_code=self.sample.household_code)

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False to leave."""
        line = line.strip()
        if line in (":quit", ":q", ":exit"):
            return False
        if line.startswith(":as"):
            self.switch(line.removeprefix(":as").strip())
            return True
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            message_id, data = self.buttons[int(line) - 1]
            self.show(await self.chat().press_data(message_id, data))
            return True
        if line:
            self.show(await self.chat().send(line))
        return True

    def switch(self, key: str) -> None:
        persona = next((p for p in PERSONAS if p.key == key), None)
        if persona is None:
            print(_("Who? Choose one of: {keys}").format(keys=", ".join(p.key for p in PERSONAS)))
            return
        self.persona = persona
        self.buttons = []
        print(_("You are now {name}.").format(name=persona.name))

    def show(self, messages: list[ChatMessage]) -> None:
        if any(m.buttons for m in messages):
            self.buttons = []
        for message in messages:
            text, data = render(message, len(self.buttons) + 1)
            self.buttons += [(message.message_id, d) for d in data]
            print(text)


class WeChatTerminal:
    """Chat as a WeChat user: menus are numbered lines, and actions WeChat has buttons for
    (scanning, following, a photo, the custom menu) are typed with a colon."""

    OPENID = "oDemo0Resident0WangAyi000000"

    def __init__(self, client: WeChatClient, sample: SampleCommunity) -> None:
        self.user = client.user(self.OPENID)
        self.sample = sample
        self.shown = 0

    def intro(self) -> str:
        return _(
            "gongjian demo on WeChat: you are a resident of the sample compound 西冲塘小区 who has found its Official Account.\n"
            "Type as you would in WeChat; a number chooses that line of a menu. Try: :scan (the QR code in the stairwell of 1栋), "
            "or 加入 {household_code} (the one-time paper code of a household), then 我的.\n"
            ":follow follows the account, :photo and :location send those, :click NAME presses a menu button "
            "(start, me, lang, help, cancel, bind). :quit leaves."
        ).format(household_code=self.sample.household_code)

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False to leave."""
        line = line.strip()
        if line in (":quit", ":q", ":exit"):
            return False
        if line == ":scan":
            await self.user.scan(scene=self.sample.building_code)
        elif line == ":follow":
            await self.user.follow()
        elif line == ":photo":
            await self.user.send_image()
        elif line == ":location":
            await self.user.send_location(26.4207, 111.6132, "西冲塘小区")
        elif line.startswith(":click"):
            await self.user.click(line.removeprefix(":click").strip())
        elif line:
            await self.user.send(line)
        seen = await self.user.seen()
        for message in seen[self.shown :]:
            print("🤖 " + (message.text or f"[image {message.image}]").replace("\n", "\n   "))
        self.shown = len(seen)
        return True


class DemoTerminal(Protocol):
    def intro(self) -> str: ...

    async def handle(self, line: str) -> bool: ...


@dataclass
class OfflineBot:
    app: Application
    emulator: BotApiEmulator
    client: EmulatorClient
    sample: SampleCommunity
    wechat: WeChatEmulator | None = None
    wechat_client: WeChatClient | None = None

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.app.sessionmaker


@asynccontextmanager
async def offline_bot(
    database_url: str, emulator: BotApiEmulator | None = None, *, wechat: WeChatEmulator | None = None, **settings: Any
) -> AsyncIterator[OfflineBot]:
    """The real bot, polling a local Bot API emulator (and, given `wechat`, serving WeChat's
    webhook to a local WeChat), on a database seeded with the sample."""
    emulator = emulator or BotApiEmulator()
    sample = await seed_sample(database_url)
    async with AsyncExitStack() as stack:
        base_url = await emulator.start()
        stack.push_async_callback(emulator.stop)
        if wechat is not None:
            await wechat.start()
            stack.push_async_callback(wechat.stop)
            settings = {**wechat_settings(wechat), **settings}
        configured = Settings(
            bot_token=SecretStr(emulator.token), telegram_api_url=base_url, database_url=database_url, _env_file=None, **settings
        )
        app = await stack.enter_async_context(application(configured))
        await stack.enter_async_context(polling_in_background(app))
        client = await stack.enter_async_context(EmulatorClient(base_url))
        port = await stack.enter_async_context(serving_wechat(app, "127.0.0.1", 0))
        wechat_client = None
        if wechat is not None:
            wechat.webhook_url = f"http://127.0.0.1:{port}{configured.wechat_path}"
            wechat_client = await stack.enter_async_context(WeChatClient(wechat.base_url))
        yield OfflineBot(app, emulator, client, sample, wechat, wechat_client)


def wechat_settings(wechat: WeChatEmulator) -> dict[str, Any]:
    """The settings of an Official Account served by the local WeChat emulator."""
    return {
        "wechat_app_id": wechat.app_id,
        "wechat_app_secret": SecretStr(wechat.app_secret),
        "wechat_token": SecretStr(wechat.token),
        "wechat_encoding_aes_key": SecretStr(wechat.encoding_aes_key) if wechat.encoding_aes_key else None,
        "wechat_api_url": wechat.base_url,
    }


async def run_demo(locale: str, lines: asyncio.Queue[str | None] | None = None, channel: str = "telegram") -> None:
    set_locale(locale)
    # The conversation is the demo; routine log lines would only hide it.
    for name in ("aiogram", "aiohttp", "alembic", "apscheduler", "bot"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="gongjian-demo-") as folder:
        wechat = WeChatEmulator() if channel == "wechat" else None
        async with offline_bot(f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}", wechat=wechat, default_locale=locale) as bot:
            terminal: DemoTerminal = Terminal(bot.client, bot.sample) if bot.wechat_client is None else WeChatTerminal(bot.wechat_client, bot.sample)
            print(terminal.intro())
            queue = lines or _stdin_lines()
            while (line := await queue.get()) is not None:
                if not await terminal.handle(line):
                    break


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Read stdin in a thread so the bot keeps running while the terminal waits for typing."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    loop.run_in_executor(None, read)
    return queue
