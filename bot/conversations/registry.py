"""Every feature's commands, payloads and steps, joined; and finding the command a text asks for."""

from __future__ import annotations

from typing import TypeVar

from bot.conversations import groups, help, linking, notices, onboarding, plans, profile, questions, reports, roles, stats, tickets, votes
from bot.conversations.feature import Command, Feature, FreeTextFlow, LocationFlow, PayloadFlow, PhotoFlow, TextFlow
from bot.conversations.payloads import Payload

# In the order /help and the menus list them.
FEATURES: tuple[Feature, ...] = (
    onboarding.FEATURE, reports.FEATURE, questions.FEATURE, profile.FEATURE, tickets.FEATURE, stats.FEATURE, notices.FEATURE, votes.FEATURE, plans.FEATURE, roles.FEATURE,
    linking.FEATURE, groups.FEATURE, help.FEATURE,
)


K = TypeVar("K")
V = TypeVar("V")


def _joined(tables: list[dict[K, V]]) -> dict[K, V]:
    joined: dict[K, V] = {}
    for table in tables:
        for key, value in table.items():
            if key in joined:
                raise ValueError(f"{key!r} is declared by two features")
            joined[key] = value
    return joined


COMMANDS: tuple[Command, ...] = tuple(command for feature in FEATURES for command in feature.commands)
BY_NAME: dict[str, Command] = _joined([{c.name: c} for c in COMMANDS])
BY_WORD: dict[str, Command] = _joined([{word.casefold(): c for word in c.words} for c in COMMANDS])
PAYLOAD_FLOWS: dict[type[Payload], PayloadFlow] = _joined([dict(f.payloads) for f in FEATURES])
ANSWER_STEPS: frozenset[str] = frozenset().union(*(f.answers for f in FEATURES))
GROUP_PAYLOADS: frozenset[type[Payload]] = frozenset().union(*(f.group_payloads for f in FEATURES))
STEP_FLOWS: dict[str, TextFlow] = _joined([dict(f.steps) for f in FEATURES])
PHOTO_FLOWS: dict[str, PhotoFlow] = _joined([dict(f.photo_steps) for f in FEATURES])
LOCATION_FLOWS: dict[str, LocationFlow] = _joined([dict(f.location_steps) for f in FEATURES])
# Asked in order about text nothing else took; the first that answers, answers.
FREE_TEXT_FLOWS: tuple[FreeTextFlow, ...] = tuple(f.free_text for f in FEATURES if f.free_text is not None)


def find_command(text: str) -> tuple[Command, str] | None:
    """The command a message asks for, with its arguments: "/start K7MQ2XPA", "加入 K7MQ2XPA",
    "我的". A slash name may carry a bot's @name, which the channel has checked already."""
    head, _, args = text.strip().partition(" ")
    if head.startswith("/"):
        command = BY_NAME.get(head[1:].split("@", 1)[0].lower())
    else:
        command = BY_WORD.get(head.casefold())
    return (command, args.strip()) if command else None
