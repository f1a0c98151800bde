"""`gongjian wechat menu` and `gongjian invite building ID --channel wechat`.

Both call WeChat's API with the token every worker shares (Redis or the database), never a
token of their own: fetching one would cut the running workers' token off.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.wechat.api import WeChatApi, WeChatApiError, open_api
from bot.channels.wechat.menu import build_menu
from bot.config import Settings
from bot.i18n import _
from bot.services import audit, invites
from storage import migrate
from storage.db import create_engine, create_sessionmaker

EXIT_FAILED = 1


def add_wechat_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    wechat = commands.add_parser("wechat", help="the WeChat Official Account")
    wechat_commands = wechat.add_subparsers(dest="wechat_command", required=True)
    menu = wechat_commands.add_parser("menu", help="set the account's custom menu from the bot's commands")
    menu.set_defaults(handler=cmd_menu)


def cmd_menu(args: argparse.Namespace, settings: Settings) -> int:
    menu = build_menu(settings.default_locale)

    async def work(sessionmaker: async_sessionmaker[AsyncSession], api: WeChatApi) -> None:
        await api.create_menu(menu)

    if not _run(settings, work):
        return EXIT_FAILED
    print(_("The WeChat menu is set: {buttons}").format(buttons=" | ".join(_describe(button) for button in menu["button"])))
    return 0


def _describe(button: dict[str, Any]) -> str:
    subs = button.get("sub_button")
    return button["name"] + (" (" + ", ".join(sub["name"] for sub in subs) + ")" if subs else "")


def cmd_invite_building(args: argparse.Namespace, settings: Settings) -> int:
    """The building's code as a permanent parametric QR code: scanning it follows the account
    and joins the building, as the Telegram link does. WeChat answers with the text the code
    encodes, and segno draws it here (no second call to fetch WeChat's picture)."""
    import segno

    async def work(sessionmaker: async_sessionmaker[AsyncSession], api: WeChatApi) -> None:
        # The code in a transaction of its own: the token store may be this very database.
        async with sessionmaker.begin() as session:
            code = await invites.building_code(session, args.id, actor=audit.COMMAND_LINE)
        print(_("Invite code: {code}").format(code=code))
        qr = await api.create_permanent_qr(code)
        out = args.out or Path(f"invite-building-{args.id}-wechat.png")
        segno.make(qr.url, error="m").save(out, scale=10, border=4)
        print(_("QR code written to {path}").format(path=out))

    return 0 if _run(settings, work) else EXIT_FAILED


def _run(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession], WeChatApi], Awaitable[None]]) -> bool:
    missing = settings.wechat_missing()
    if missing:
        print(_("Set {settings} to use WeChat.").format(settings=", ".join(missing)), file=sys.stderr)
        return False

    async def run() -> None:
        async with _database(settings) as sessionmaker, open_api(settings, sessionmaker) as api:
            await work(sessionmaker, api)

    try:
        asyncio.run(run())
    except WeChatApiError as error:
        print(_("WeChat answered {code}: {message}").format(code=error.errcode, message=error.errmsg), file=sys.stderr)
        return False
    return True


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
