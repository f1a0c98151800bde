"""`gongjian vote ...`: tally a roll without the bot, create a vote from a file, export a roll."""

from __future__ import annotations

import argparse
import csv
import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import N_, _, current_locale
from bot.replies import render_text
from bot.services import audit, places, votes
from bot.services.errors import DomainError
from bot.services.vote_counting import Choice, Counts, DecisionResult, decide, percent, rule_named, tally_roll
from bot.services.vote_file import read_vote_file, scope_matches
from bot.services.vote_roll import read_roll
from storage.models import BallotChannel, Place, Vote


def add_vote_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    vote = commands.add_parser("vote", help="renovation votes")
    vote_commands = vote.add_subparsers(dest="vote_command", required=True)

    tally = vote_commands.add_parser("tally", help="count a roll (CSV: household, area, choice); the last line is JSON")
    tally.add_argument("roll", type=Path)
    tally.add_argument("--rule", required=True, choices=("civil-code-major", "civil-code-ordinary", "custom"))
    tally.add_argument("--participation", help="at least this share must take part, e.g. 2/3")
    tally.add_argument("--consent", help="of those taking part, this share must agree: 3/4, or >1/2 for more than half")
    tally.set_defaults(handler=cmd_tally)

    create = vote_commands.add_parser("create", help="put a vote described in a .yaml or .json file (see bot/services/vote_file.py)")
    create.add_argument("file", type=Path)
    create.set_defaults(handler=cmd_create)

    export = vote_commands.add_parser("export", help="write a vote's roll: household, area, choice, channel, time")
    export.add_argument("id", type=int)
    export.add_argument("file", type=Path, help="FILE.xlsx or FILE.csv")
    export.set_defaults(handler=cmd_export)


def cmd_tally(args: argparse.Namespace, settings: Settings) -> int:
    rule = rule_named(args.rule, args.participation, args.consent)
    result = decide(tally_roll(read_roll(args.roll)), rule)
    for line in result_lines(result):
        print(line)
    print(summary_json(result))
    return 0


def _met(met: bool) -> str:
    return _("met") if met else _("not met")


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import _in_transaction  # the command line's one way to a transaction

    spec, scope_kind = read_vote_file(args.file, settings.timezone)

    async def work(session: AsyncSession) -> Vote:
        if not scope_matches(await session.get(Place, spec.place_id), scope_kind):
            raise places.no_such_place(scope_kind, spec.place_id)
        return await votes.create(session, audit.COMMAND_LINE, spec)

    vote = _in_transaction(settings, work)
    print(_("Created vote {id}: {title}, open {opens} to {closes}.").format(
        id=vote.id, title=vote.title, opens=votes.local_time(vote.opens_at, settings.timezone), closes=votes.local_time(vote.closes_at, settings.timezone)
    ))
    return 0


EXPORT_COLUMNS = ("household", "area", "choice", "channel", "time")
CHANNEL_NAMES = {BallotChannel.online: N_("online"), BallotChannel.paper: N_("paper")}


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import _in_transaction

    path: Path = args.file
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise DomainError(N_("Unsupported file type {suffix}: use .csv or .xlsx."), suffix=path.suffix or "?")

    async def work(session: AsyncSession) -> list[votes.RollRow]:
        vote = await session.get(Vote, args.id)
        if vote is None:
            raise DomainError(votes.NO_SUCH_VOTE)
        return await votes.roll(session, vote)

    rows = [_roll_cells(row, settings) for row in _in_transaction(settings, work)]
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:  # with the mark, Excel reads it as UTF-8
            writer = csv.writer(file)
            writer.writerow(EXPORT_COLUMNS)
            writer.writerows(rows)
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(EXPORT_COLUMNS)
        for cells in rows:
            sheet.append(cells)
        workbook.save(path)
    print(_("Wrote {count} households to {path}.").format(count=len(rows), path=path))
    return 0


def _roll_cells(row: votes.RollRow, settings: Settings) -> list[str]:
    """The roll as `gongjian vote tally` reads it back: a decision's choice is 同意 / 不同意 / 弃权."""
    choice = "、".join(render_text(text, current_locale()) for text in row.choices)
    when = votes.local_time(row.cast_at, settings.timezone) if row.cast_at else ""
    channel = _(CHANNEL_NAMES[row.channel]) if row.channel else ""
    return [row.household, str(row.area), choice, channel, when]


def result_lines(result: DecisionResult) -> list[str]:
    """The result as an office reads it, in the operator's language."""
    tally, rule = result.tally, result.rule
    eligible, took_part, agreed = tally.eligible, tally.participating, tally.agree
    lines = [
        _("Rule: {rule} (participation {participation}, consent {consent})").format(
            rule=rule.name, participation=rule.participation.shown(), consent=rule.consent.shown()
        ),
        _("Eligible: {households} households, {area} m²").format(households=eligible.households, area=eligible.area),
        _("Took part: {households} households ({household_share}), {area} m² ({area_share}); needs {threshold}: by households {by_households}, by area {by_area}").format(
            households=took_part.households, household_share=percent(took_part.households, eligible.households),
            area=took_part.area, area_share=percent(took_part.area, eligible.area), threshold=rule.participation.shown(),
            by_households=_met(result.participation_households_met), by_area=_met(result.participation_area_met),
        ),
        _("Agreed: {households} households ({household_share} of those taking part), {area} m² ({area_share}); needs {threshold}: by households {by_households}, by area {by_area}").format(
            households=agreed.households, household_share=percent(agreed.households, took_part.households),
            area=agreed.area, area_share=percent(agreed.area, took_part.area), threshold=rule.consent.shown(),
            by_households=_met(result.consent_households_met), by_area=_met(result.consent_area_met),
        ),
    ]
    for choice, label in ((Choice.disagree, _("Disagreed")), (Choice.abstain, _("Abstained"))):
        counts = tally.by_choice.get(choice, Counts())
        lines.append(_("{label}: {households} households, {area} m²").format(label=label, households=counts.households, area=counts.area))
    if tally.without_area:
        lines.append(
            _("No area recorded for {count} households (counted by head only, not by area): {households}").format(
                count=len(tally.without_area), households=", ".join(tally.without_area)
            )
        )
    lines.append(_("Result: passed") if result.passed else _("Result: not passed"))
    return lines


def summary_json(result: DecisionResult) -> str:
    """One JSON object; areas are written as the exact decimals they are, never through a float."""
    parts = []
    for key, value in result.summary().items():
        text = str(value) if isinstance(value, Decimal) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{json.dumps(key)}: {text}")
    return "{" + ", ".join(parts) + "}"
