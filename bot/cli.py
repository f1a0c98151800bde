"""The `gongjian` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.wechat import commands as wechat_commands
from bot.config import Settings
from bot.i18n import N_, _, set_locale
from bot.routing.commands import add_route_commands
from bot.services import access, audit, invites, people, places
from bot.services.errors import DomainError
from bot.services.households_import import read_households
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import PlaceKind, Role

EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gongjian", description="共建: residents take part in the renovation of old compounds.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook (aiohttp) instead of long polling")
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser("demo", help="try the bot offline in this terminal")
    demo.add_argument("--channel", choices=("telegram", "wechat"), default="telegram", help="chat as a Telegram or a WeChat user")
    demo.set_defaults(handler=cmd_demo)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="upgrade to the newest schema").set_defaults(handler=cmd_db_upgrade)

    import_ = commands.add_parser("import", help="import places")
    import_commands = import_.add_subparsers(dest="import_command", required=True)
    households = import_commands.add_parser("households", help="households from a .csv or .xlsx file")
    households.add_argument("file", type=Path)
    households.set_defaults(handler=cmd_import_households)

    for name, handler in (("grant", cmd_grant), ("revoke", cmd_revoke)):
        role = commands.add_parser(name, help=f"{name} a role")
        role.add_argument("role", choices=[r.value for r in Role])
        role.add_argument("telegram_id", type=int)
        role.add_argument("--scope", required=True, help="community:ID, compound:ID or building:ID")
        role.set_defaults(handler=handler)

    places_ = commands.add_parser("places", help="list places with their ids")
    places_.add_argument("--json", action="store_true", help="print a JSON list")
    places_.set_defaults(handler=cmd_places)

    invite = commands.add_parser("invite", help="invite codes")
    invite_commands = invite.add_subparsers(dest="invite_command", required=True)
    building = invite_commands.add_parser("building", help="a building's link and QR code, for the stairwell")
    building.add_argument("id", type=int)
    building.add_argument("--out", type=Path, help="where to write the QR code PNG")
    building.add_argument("--channel", choices=("telegram", "wechat"), default="telegram", help="a t.me link, or a WeChat parametric QR code")
    building.set_defaults(handler=cmd_invite_building)
    household = invite_commands.add_parser("household", help="a household's one-time code")
    household.add_argument("id", type=int)
    household.set_defaults(handler=cmd_invite_household)

    add_route_commands(commands)
    wechat_commands.add_wechat_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    set_locale(settings.default_locale)
    try:
        return int(args.handler(args, settings) or 0)
    except DomainError as error:
        print(error.render(settings.default_locale), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 0


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[int | None]]) -> int:
    """Run `work` in one transaction on an upgraded database: all of it is written, or none."""

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            async with create_sessionmaker(engine).begin() as session:
                return int(await work(session) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.bot_token is None and not settings.wechat_enabled:
        print(
            _("Set GONGJIAN_BOT_TOKEN to your bot's token (from @BotFather), or the GONGJIAN_WECHAT_ settings of your Official Account, "
              "to run the bot; `gongjian demo` runs offline and needs neither."),
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot import app

    if settings.bot_token is None:
        asyncio.run(app.run_wechat(settings))
    else:
        asyncio.run(app.run_webhook(settings) if args.webhook else app.run_polling(settings))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    asyncio.run(run_demo(settings.default_locale, channel=args.channel))
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def nothing(session: AsyncSession) -> None:
        return None

    _with_session(settings, nothing)
    print(_("The database is up to date."))
    return 0


def cmd_import_households(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    if not path.is_file():
        print(_("No such file: {path}").format(path=path), file=sys.stderr)
        return EXIT_FAILED
    rows = read_households(path)

    async def work(session: AsyncSession) -> None:
        summary = await places.import_households(session, rows)
        await audit.record(session, audit.COMMAND_LINE, "import_households", str(path), rows=len(rows))
        created = ", ".join(f"{kind} {summary.created[kind.value]}" for kind in PlaceKind if summary.created[kind.value])
        print(_("Read {rows} rows. Created: {created}.").format(rows=len(rows), created=created or _("nothing new")))
        if summary.updated_households:
            print(_("Updated floor or area of {count} households.").format(count=summary.updated_households))

    return _with_session(settings, work)


def _role_command(change: Callable[..., Awaitable[bool]], done: str, unchanged: str) -> Callable[[argparse.Namespace, Settings], int]:
    def command(args: argparse.Namespace, settings: Settings) -> int:
        scope = access.Scope.parse(args.scope)

        async def work(session: AsyncSession) -> None:
            person = await people.get_or_create_person(session, people.TELEGRAM, str(args.telegram_id))
            changed = await change(session, person.id, Role(args.role), scope, actor=audit.COMMAND_LINE)
            print(_(done if changed else unchanged).format(role=args.role, id=args.telegram_id, scope=scope))

        return _with_session(settings, work)

    return command


cmd_grant = _role_command(
    access.grant_role, N_("Granted {role} on {scope} to Telegram user {id}."), N_("Telegram user {id} already is {role} on {scope}.")
)
cmd_revoke = _role_command(
    access.revoke_role, N_("Revoked {role} on {scope} from Telegram user {id}."), N_("Telegram user {id} was not {role} on {scope}.")
)


def cmd_places(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> None:
        nodes = await places.list_places(session)
        if args.json:
            print(json.dumps([_node_json(node) for node in nodes], ensure_ascii=False, indent=1))
            return
        children: dict[tuple[PlaceKind | None, int | None], list[places.PlaceNode]] = {}
        parent_kind = {kind: (list(PlaceKind)[i - 1] if i else None) for i, kind in enumerate(PlaceKind)}
        for node in nodes:
            children.setdefault((parent_kind[node.kind], node.parent_id), []).append(node)

        def show(node: places.PlaceNode, depth: int) -> None:
            print("  " * depth + f"{node.kind.value}:{node.id} {node.name}" + (f" ({node.floor}F, {node.area} m²)" if node.area else ""))
            for child in children.get((node.kind, node.id), []):
                show(child, depth + 1)

        for root in children.get((None, None), []):
            show(root, 0)
        if not nodes:
            print(_("No places yet. Import households with: gongjian import households FILE"))

    return _with_session(settings, work)


def _node_json(node: places.PlaceNode) -> dict[str, object]:
    data: dict[str, object] = {"kind": node.kind.value, "id": node.id, "name": node.name, "parent_id": node.parent_id}
    if node.kind is PlaceKind.household:
        data.update(floor=node.floor, area=str(node.area))
    return data


def cmd_invite_building(args: argparse.Namespace, settings: Settings) -> int:
    if args.channel == "wechat":
        return wechat_commands.cmd_invite_building(args, settings)

    async def work(session: AsyncSession) -> None:
        code = await invites.building_code(session, args.id, actor=audit.COMMAND_LINE)
        username = settings.bot_username or await _bot_username(settings)
        print(_("Invite code: {code}").format(code=code))
        if username is None:
            print(_("Set GONGJIAN_BOT_USERNAME (or GONGJIAN_BOT_TOKEN) to get the link and QR code."), file=sys.stderr)
            return
        link = f"https://t.me/{username}?start={code}"
        print(link)
        import segno

        out = args.out or Path(f"invite-building-{args.id}.png")
        segno.make(link, error="m").save(out, scale=10, border=4)
        print(_("QR code written to {path}").format(path=out))

    return _with_session(settings, work)


async def _bot_username(settings: Settings) -> str | None:
    if settings.bot_token is None:
        return None
    from bot.app import create_bot

    bot = create_bot(settings)
    try:
        return (await bot.get_me()).username
    finally:
        await bot.session.close()


def cmd_invite_household(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> None:
        code = await invites.household_code(session, args.id, actor=audit.COMMAND_LINE)
        print(_("One-time code for household {id}: {code}").format(id=args.id, code=code))

    return _with_session(settings, work)


if __name__ == "__main__":
    sys.exit(main())
