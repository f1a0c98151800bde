"""The `gongjian` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.wechat import commands as wechat_commands
from bot.config import Settings
from bot.i18n import N_, _, current_locale, ngettext, set_locale
from bot.plans_commands import add_costs_commands, import_plan
from bot.routing.commands import add_route_commands
from bot.services import access, audit, invites, people, places, report_export
from bot.services.errors import DomainError
from bot.services.households_import import read_households
from bot.services.report_figures import Period
from bot.table_files import Cell, check_table_path, write_table
from bot.vote_commands import add_vote_commands
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import PlaceKind, Role

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped with Ctrl-C

T = TypeVar("T")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gongjian", description="共建: residents take part in the renovation of old compounds.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log everything, and show the traceback of an unexpected error")
    parser.set_defaults(log_level=logging.WARNING)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook (aiohttp) instead of long polling")
    run.set_defaults(handler=cmd_run, log_level=logging.INFO)  # a server's log

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
    plan = import_commands.add_parser("plan", help="a compound's plan (a draft) from a .csv or .xlsx file, one item a row")
    plan.add_argument("file", type=Path)
    plan.add_argument("--compound", type=int, required=True, help="the compound's id (gongjian places)")
    plan.add_argument("--title", help="the plan's title; the file's name by default")
    plan.set_defaults(handler=cmd_import_plan)

    for name, handler in (("grant", cmd_grant), ("revoke", cmd_revoke)):
        role = commands.add_parser(name, help=f"{name} a role")
        role.add_argument("role", choices=[r.value for r in Role])
        role.add_argument("telegram_id", type=int)
        role.add_argument("--scope", required=True, help="community:ID, compound:ID or building:ID")
        role.set_defaults(handler=handler)

    export = commands.add_parser("export", help="export records to .xlsx or .csv")
    export_commands = export.add_subparsers(dest="what", required=True)
    reports_export = export_commands.add_parser("reports", help="problem reports made between two dates, with their history")
    reports_export.add_argument("--from", dest="first", required=True, type=_day, help="first day, 2026-10-01")
    reports_export.add_argument("--to", dest="last", required=True, type=_day, help="last day, 2026-10-31")
    reports_export.add_argument("--scope", help="only within a place: community:ID, compound:ID or building:ID")
    reports_export.add_argument("file", type=Path, help="FILE.xlsx or FILE.csv")
    reports_export.set_defaults(handler=cmd_export_reports)

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
    add_costs_commands(commands)
    add_vote_commands(commands)
    wechat_commands.add_wechat_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(logging.DEBUG if args.verbose else args.log_level)
    try:
        settings = Settings()
        set_locale(settings.default_locale)
        status = int(args.handler(args, settings) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is reported below rather than at exit
        return status
    except DomainError as error:
        print(error.render(current_locale()), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # nothing half-done is kept: the transaction rolls back
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whatever read the output (head, a pager) has stopped: say so once, where it can still be read.
        _stop_writing_to(sys.stdout)
        try:
            print(_("The output was closed before all of it was written (by head or a pager, for example)."), file=sys.stderr, flush=True)
        except BrokenPipeError:  # stderr went into the same pipe
            _stop_writing_to(sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # an operator reads one line; the traceback is for --verbose
        if args.verbose:
            traceback.print_exc()
        print(_("Something went wrong: {error}; run with --verbose for details.").format(error=_one_line(error)), file=sys.stderr)
        return EXIT_FAILED


def _configure_logging(level: int) -> None:
    """Warnings only, except for the bot itself (`run`) and under --verbose: an operator's
    command says what it did in its own words, not in libraries' log lines."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    if level > logging.DEBUG:
        # aiogram logs a line for every update handled: at a city's evening peak that is
        # thousands a second of noise, and time taken from answering. --verbose shows them.
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)


def _stop_writing_to(stream: TextIO) -> None:
    """Point the stream at /dev/null, so that Python's own flush at exit finds nothing to complain about."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on an upgraded database: all of it is written, or none.
    Commands print after it, so that output cut short can never undo what was done."""

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            async with create_sessionmaker(engine).begin() as session:
                return await work(session)
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

    _in_transaction(settings, nothing)
    print(_("The database is up to date."))
    return 0


def cmd_import_households(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    if not path.is_file():
        print(_("No such file: {path}").format(path=path), file=sys.stderr)
        return EXIT_FAILED
    watched = sys.stderr.isatty()  # progress for a person waiting, not for a script's log
    file = read_households(path, _show_rows_read if watched else None)
    if file.sheet_count > 1:
        print(_("The workbook has {count} sheets; read the sheet {sheet}.").format(count=file.sheet_count, sheet=file.sheet), file=sys.stderr)

    async def work(session: AsyncSession) -> places.ImportSummary:
        return await places.import_households(session, file.rows, actor=audit.COMMAND_LINE, source=path.name, progress=_show_households_saved if watched else None)

    summary = _in_transaction(settings, work)
    print(_summary(len(file.rows), summary))
    return 0


def cmd_import_plan(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        print(_("No such file: {path}").format(path=args.file), file=sys.stderr)
        return EXIT_FAILED
    title = args.title or args.file.stem

    async def work(session: AsyncSession) -> tuple[int, str, int]:
        plan, count = await import_plan(session, audit.COMMAND_LINE, args.compound, title, args.file)
        return plan.id, plan.title, count

    plan_id, plan_title, count = _in_transaction(settings, work)
    print(_("Plan #{id} {title}: {count} items, saved as a draft. Publish it in the chat with /plans.").format(id=plan_id, title=plan_title, count=count))
    return 0


def _show_rows_read(done: int) -> None:
    print(_("Read {done} rows…").format(done=f"{done:,}"), file=sys.stderr, flush=True)


def _show_households_saved(done: int, total: int) -> None:
    print(_("Saved {done} of {total} households…").format(done=f"{done:,}", total=f"{total:,}"), file=sys.stderr, flush=True)


PLACE_COUNTS: dict[PlaceKind, Callable[[int], str]] = {
    PlaceKind.district: lambda n: ngettext("{count} district", "{count} districts", n),
    PlaceKind.street: lambda n: ngettext("{count} street", "{count} streets", n),
    PlaceKind.community: lambda n: ngettext("{count} community", "{count} communities", n),
    PlaceKind.compound: lambda n: ngettext("{count} compound", "{count} compounds", n),
    PlaceKind.building: lambda n: ngettext("{count} building", "{count} buildings", n),
    PlaceKind.unit: lambda n: ngettext("{count} unit", "{count} units", n),
    PlaceKind.household: lambda n: ngettext("{count} household", "{count} households", n),
}


def _summary(rows: int, summary: places.ImportSummary) -> str:
    """What the import did, in the operator's language: "Read 3 rows. New: 1 district, 2 buildings, 3 households." """
    created = _(", ").join(PLACE_COUNTS[kind](count).format(count=f"{count:,}") for kind in PlaceKind if (count := summary.created[kind]))
    text = ngettext("Read {rows} row. New: {created}.", "Read {rows} rows. New: {created}.", rows).format(rows=f"{rows:,}", created=created or _("nothing"))
    if summary.updated_households:
        updated = summary.updated_households
        text += " " + ngettext("Updated the floor or area of {count} household.", "Updated the floor or area of {count} households.", updated).format(count=f"{updated:,}")
    return text


# Telegram's user ids have at most 52 significant bits.
TELEGRAM_ID_LIMIT = 2**52


def _role_command(change: Callable[..., Awaitable[bool]], done: str, unchanged: str) -> Callable[[argparse.Namespace, Settings], int]:
    def command(args: argparse.Namespace, settings: Settings) -> int:
        scope = access.Scope.parse(args.scope)
        if not 0 < args.telegram_id < TELEGRAM_ID_LIMIT:
            raise DomainError(N_("{id} is not a Telegram user id."), id=str(args.telegram_id))

        async def work(session: AsyncSession) -> bool:
            person = await people.get_or_create_person(session, people.TELEGRAM, str(args.telegram_id))
            return await change(session, person.id, Role(args.role), scope, actor=audit.COMMAND_LINE)

        changed = _in_transaction(settings, work)
        print(_(done if changed else unchanged).format(role=args.role, id=args.telegram_id, scope=scope))
        return 0

    return command


cmd_grant = _role_command(
    access.grant_role, N_("Granted {role} on {scope} to Telegram user {id}."), N_("Telegram user {id} already is {role} on {scope}.")
)
cmd_revoke = _role_command(
    access.revoke_role, N_("Revoked {role} on {scope} from Telegram user {id}."), N_("Telegram user {id} was not {role} on {scope}.")
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(_("{text} is not a date like 2026-10-01").format(text=text)) from None


def cmd_export_reports(args: argparse.Namespace, settings: Settings) -> int:
    check_table_path(args.file)
    if args.last < args.first:
        raise DomainError(N_("The last day comes before the first."))
    period = Period(args.first, args.last)
    locale = current_locale()

    async def work(session: AsyncSession) -> list[Sequence[Cell]]:
        within = await access.scope_place(session, access.Scope.parse(args.scope)) if args.scope else None
        return await report_export.report_rows(session, period, settings.timezone, locale, within)

    rows = _in_transaction(settings, work)
    written = write_table(args.file, [_(header) for header in report_export.HEADERS], rows, sheet=_("reports"))
    print(ngettext("Wrote {count} report to {path}.", "Wrote {count} reports to {path}.", written).format(count=f"{written:,}", path=args.file))
    return 0


def cmd_places(args: argparse.Namespace, settings: Settings) -> int:
    nodes = _in_transaction(settings, places.list_places)
    if args.json:
        print(json.dumps([_node_json(node) for node in nodes], ensure_ascii=False, indent=1))
    elif nodes:
        for line in _tree_lines(nodes):
            print(line)
    else:
        print(_("No places yet. Import households with: gongjian import households FILE"))
    return 0


def _tree_lines(nodes: list[places.PlaceNode]) -> Iterator[str]:
    """The hierarchy indented, each place with its kind and id: "  街道 #2 梅湾街道"."""
    children: dict[int | None, list[places.PlaceNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def lines(node: places.PlaceNode, depth: int) -> Iterator[str]:
        yield "  " * depth + f"{_(places.KIND_NAMES[node.kind])} #{node.id} {_place_text(node)}"
        if node.kind is not PlaceKind.household:  # household ids are not place ids
            for child in children.get(node.id, []):
                yield from lines(child, depth + 1)

    for root in children.get(None, []):
        yield from lines(root, 0)


def _place_text(node: places.PlaceNode) -> str:
    if node.kind is not PlaceKind.household:
        return node.name
    return _("{room} (floor {floor}, {area} m²)").format(room=node.name, floor=node.floor, area=node.area)


def _node_json(node: places.PlaceNode) -> dict[str, object]:
    data: dict[str, object] = {"kind": node.kind.value, "id": node.id, "name": node.name, "parent_id": node.parent_id}
    if node.kind is PlaceKind.household:
        data.update(floor=node.floor, area=str(node.area))
    return data


def cmd_invite_building(args: argparse.Namespace, settings: Settings) -> int:
    if args.channel == "wechat":
        return wechat_commands.cmd_invite_building(args, settings)

    async def work(session: AsyncSession) -> str:
        return await invites.building_code(session, args.id, actor=audit.COMMAND_LINE)

    code = _in_transaction(settings, work)
    print(_("Invite code: {code}").format(code=code))
    username = settings.bot_username or asyncio.run(_bot_username(settings))
    if username is None:
        print(_("Set GONGJIAN_BOT_USERNAME (or GONGJIAN_BOT_TOKEN) to get the link and QR code."), file=sys.stderr)
        return 0
    from aiogram.utils.deep_linking import create_deep_link  # aiogram is slow to import: only here

    link = create_deep_link(username, "start", code)  # plain: the code is also typed off the poster
    print(link)
    import segno

    out = args.out or Path(f"invite-building-{args.id}.png")
    segno.make(link, error="m").save(out, scale=10, border=4)
    print(_("QR code written to {path}").format(path=out))
    return 0


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
    async def work(session: AsyncSession) -> str:
        return await invites.household_code(session, args.id, actor=audit.COMMAND_LINE)

    code = _in_transaction(settings, work)
    print(_("One-time code for household {id}: {code}").format(id=args.id, code=code))
    return 0


if __name__ == "__main__":
    sys.exit(main())
