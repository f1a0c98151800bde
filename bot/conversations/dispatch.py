"""From what a person sent to the flow that answers it, the same on every channel.

Text is read in this order: a command (/me, or the word 我的), an option of the newest menu
(its label, or its number where options are numbered), the step the person is on (a code, a
room number), a number that is no option (any more): the newest menu again, and otherwise a
friendly pointer to /help. A pressed option's payload goes to the flow that offered it; one no
flow knows is answered as stale.
"""

from __future__ import annotations

from bot.conversations import groups
from bot.conversations.feature import NOT_UNDERSTOOD, STALE_CHOICE, Command, PayloadFlow, Where
from bot.conversations.payloads import CommandChoice, Payload
from bot.conversations.registry import (
    ANSWER_STEPS,
    BY_NAME,
    FREE_TEXT_FLOWS,
    GROUP_PAYLOADS,
    LOCATION_FLOWS,
    PAYLOAD_FLOWS,
    PHOTO_FLOWS,
    STEP_FLOWS,
    find_command,
)
from bot.conversations.turn import Turn
from bot.replies import L, Reply, Response
from bot.services.text import folded


async def run(turn: Turn, command: Command, args: str) -> Response:
    if command.where is Where.private and turn.in_group:
        return groups.private_only(turn)
    step, _ = await turn.step()
    if step in ANSWER_STEPS:  # asked for a note or a code, and sent a command instead: no longer waiting
        await turn.clear()
    return await command.flow(turn, args)


async def on_text(turn: Turn, text: str) -> Response:
    # Folded to recognise commands, options and numbers; what a person wrote is passed on as written.
    written, text = text.strip(), folded(text)
    if not text:
        return Response.of(Reply(L("Your message was empty. Send /help to see what you can do.")))
    found = find_command(text)
    if found is not None:
        return await run(turn, *found)
    if text.startswith("/"):
        return Response.of(Reply(L("I do not know that command. Send /help to see what you can do.")))
    payload = await turn.chosen_payload(text)
    if payload is not None:
        return await on_payload(turn, payload)
    step, _ = await turn.step()
    if step in STEP_FLOWS:
        return await STEP_FLOWS[step](turn, written)
    if turn.channel.numbered_options and text.isdecimal():
        return await _stale_number(turn, text)
    if not turn.in_group:
        for flow in FREE_TEXT_FLOWS:  # a complaint written straight out: offered as a report
            response = await flow(turn, written)
            if response is not None:
                return response
    return Response.of(Reply(NOT_UNDERSTOOD))


async def _stale_number(turn: Turn, number: str) -> Response:
    """A number from an older menu, or a slip: show the menu that counts now, if there is one."""
    options = await turn.offered_options()
    if not options:
        return Response.of(Reply(L("There is no menu to choose from now. Send /help to see what you can do.")))
    return Response.of(Reply(L("{number} is not in the menu. Reply with one of these numbers:", number=number), options=options))


async def on_payload(turn: Turn, data: str) -> Response:
    payload = Payload.parse(data)
    if isinstance(payload, CommandChoice) and payload.name in BY_NAME:
        return await run(turn, BY_NAME[payload.name], "")
    flow = PAYLOAD_FLOWS.get(type(payload)) if payload is not None else None
    if flow is None:
        return Response.refusal(STALE_CHOICE)
    return await run_payload(turn, payload, flow)


async def run_payload(turn: Turn, payload: Payload, flow: PayloadFlow) -> Response:
    """A pressed option, as `run` a command: in a group only what may be pressed there."""
    if turn.in_group and type(payload) not in GROUP_PAYLOADS:
        return groups.private_only(turn)
    return await flow(turn, payload)


async def on_photo(turn: Turn, file_id: str, caption: str) -> Response:
    """A photo is read where a step asks for one (a notice, a report); elsewhere it is not understood yet."""
    step, _ = await turn.step()
    if step in PHOTO_FLOWS:
        return await PHOTO_FLOWS[step](turn, file_id, caption.strip())
    return on_unreadable()


async def on_location(turn: Turn, latitude: float, longitude: float, label: str = "") -> Response:
    """A location is read where a step asks for one (a report); elsewhere it is not understood."""
    step, _ = await turn.step()
    if step in LOCATION_FLOWS:
        return await LOCATION_FLOWS[step](turn, latitude, longitude, label.strip())
    return on_unreadable()


def on_unreadable() -> Response:
    """A sticker, a photo, a voice message, a location: nothing a flow here reads yet."""
    return Response.of(Reply(L("Sorry, I can only read text messages here. Send /help to see what you can do.")))
