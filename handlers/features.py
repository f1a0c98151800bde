"""One aiogram Router per feature, made from what the feature declares (bot/conversations):
a Command filter per command, a payload filter per kind of option. Each handler passes what
the update says to the channel-neutral flow and returns its Response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.conversations import dispatch
from bot.conversations.feature import Command as FeatureCommand
from bot.conversations.feature import Feature, PayloadFlow
from bot.conversations.payloads import Payload
from bot.conversations.registry import FEATURES
from bot.conversations.turn import Turn
from bot.replies import Response
from handlers.filters import CommandIn, PayloadIn, PayloadOf


def _on_command(declared: FeatureCommand) -> Callable[..., Awaitable[Response]]:
    async def handle(message: Message, command: CommandObject, turn: Turn) -> Response:
        # t.me/<bot>?start=<code> arrives as "/start <code>": the code is printed plain, not encoded.
        return await dispatch.run(turn, declared, command.args or "")

    return handle


def _on_payload(flow: PayloadFlow) -> Callable[..., Awaitable[Response]]:
    async def handle(query: CallbackQuery, payload: Payload, turn: Turn) -> Response:
        return await dispatch.run_payload(turn, payload, flow)

    return handle


def feature_router(feature: Feature) -> Router:
    router = Router(name=feature.name)
    router.message.filter(CommandIn(frozenset(command.name for command in feature.commands)))
    router.callback_query.filter(PayloadIn(frozenset(kind.prefix for kind in feature.payloads)))
    for command in feature.commands:
        router.message.register(_on_command(command), Command(command.name, ignore_case=True))
    for kind, flow in feature.payloads.items():
        router.callback_query.register(_on_payload(flow), PayloadOf(kind))
    return router


def create_router() -> Router:
    """Every feature's router, behind one gate of all their commands and payload kinds: most
    messages are words (an answer to a step, a menu's label), which no feature router takes, and
    one set lookup lets them pass on to the fallback instead of a visit to each router."""
    router = Router(name="features")
    router.message.filter(CommandIn(frozenset(command.name for feature in FEATURES for command in feature.commands)))
    router.callback_query.filter(PayloadIn(frozenset(kind.prefix for feature in FEATURES for kind in feature.payloads)))
    router.include_routers(*(feature_router(feature) for feature in FEATURES))
    return router
