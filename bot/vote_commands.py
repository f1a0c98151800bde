"""`gongjian vote ...`: tally a roll without the bot, create a vote from a file, export a roll."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

from bot.config import Settings
from bot.i18n import _
from bot.services.vote_counting import Choice, Counts, DecisionResult, decide, percent, rule_named, tally_roll
from bot.services.vote_roll import read_roll


def add_vote_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    vote = commands.add_parser("vote", help="renovation votes")
    vote_commands = vote.add_subparsers(dest="vote_command", required=True)

    tally = vote_commands.add_parser("tally", help="count a roll (CSV: household, area, choice); the last line is JSON")
    tally.add_argument("roll", type=Path)
    tally.add_argument("--rule", required=True, choices=("civil-code-major", "civil-code-ordinary", "custom"))
    tally.add_argument("--participation", help="at least this share must take part, e.g. 2/3")
    tally.add_argument("--consent", help="of those taking part, this share must agree: 3/4, or >1/2 for more than half")
    tally.set_defaults(handler=cmd_tally)


def cmd_tally(args: argparse.Namespace, settings: Settings) -> int:
    rule = rule_named(args.rule, args.participation, args.consent)
    result = decide(tally_roll(read_roll(args.roll)), rule)
    for line in result_lines(result):
        print(line)
    print(summary_json(result))
    return 0


def _met(met: bool) -> str:
    return _("met") if met else _("not met")


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
