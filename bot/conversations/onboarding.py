"""Joining a household with an invite code (a deep link, a QR code, or typed), on any channel.

A building's code asks for the unit and room (options, or the room typed); a household's
one-time code makes a verified member at once. Which rooms may be chosen is decided here, on
the server, from the building being joined: an option's ids can be forged.
"""

from __future__ import annotations

from bot.conversations.feature import Command, Feature, MenuSection, Where
from bot.conversations.payloads import RoomChoice, RoomPage, UnitChoice
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Msg, Option, Reply, Response
from bot.services import invites, people, places
from bot.services.errors import DomainError
from bot.services.text import compact

WAITING_CODE = "onboarding.code"
CHOOSING_ROOM = "onboarding.room"  # data: building_id, and unit_id once a unit is chosen
MAX_CODE_LENGTH = 64
MAX_ROOM_LENGTH = 50
ROOMS_PER_PAGE = 40  # Telegram shows at most 100 buttons; 40 fit a phone screen
ROOMS_PER_ROW = 4
STALE = L("This choice is no longer valid. Send /start with your invite code again.")


async def start(turn: Turn, code: str) -> Response:
    if not code.strip():
        await turn.set_step(WAITING_CODE)
        return Response.of(
            Reply(
                L(
                    "Welcome to 共建! Here residents report problems, vote on the renovation of their compound and follow the works.\n\n"
                    "To join your household, scan the QR code posted in your stairwell, or type the invite code printed on it "
                    "or on the paper from your community office. Type the code now:"
                )
            )
        )
    return await redeem(turn, code)


async def redeem(turn: Turn, code: str) -> Response:
    if len(code) > MAX_CODE_LENGTH:
        return Response.of(Reply(L("That is too long to be an invite code. A code has 8 letters and digits, like K7MQ2XPA.")))
    try:
        result = await invites.redeem(turn.session, code, turn.person.id)
    except DomainError as error:
        await turn.set_step(WAITING_CODE)
        return Response.of(Reply(error.text()))
    if isinstance(result, invites.BuildingInvite):
        await turn.set_step(CHOOSING_ROOM, building_id=result.building_id)
        return await _ask_for_unit_or_room(turn, result)
    await turn.clear()
    return Response.of(_joined(result))


async def typed_code(turn: Turn, text: str) -> Response:
    return await redeem(turn, text)


async def _ask_for_unit_or_room(turn: Turn, invite: invites.BuildingInvite) -> Response:
    units = await places.units_of_building(turn.session, invite.building_id)
    where = L("{compound}, {building}", compound=invite.compound, building=invite.building)
    if len(units) == 1:
        await turn.update_data(unit_id=units[0][0])
        rooms = await _rooms_reply(turn, units[0][0], 1)
        text = L("You are joining {where}. Which room do you live in? Choose it, or type the room number.", where=where)
        return Response.of(Reply(text, options=rooms.options, columns=ROOMS_PER_ROW))
    text = L("You are joining {where}. Which unit do you live in?", where=where)
    return Response.of(Reply(text, options=_unit_options(units), columns=3))


def _unit_options(units: list[tuple[int, str]]) -> tuple[Option, ...]:
    return tuple(Option(name, UnitChoice(unit_id).pack()) for unit_id, name in units)


async def _rooms_reply(turn: Turn, unit_id: int, page: int) -> Reply:
    rooms = await places.rooms_of_unit(turn.session, unit_id)
    pages = max(1, -(-len(rooms) // ROOMS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = rooms[(page - 1) * ROOMS_PER_PAGE : page * ROOMS_PER_PAGE]
    options = [Option(room, RoomChoice(household_id).pack()) for household_id, room in shown]
    if page > 1:
        options.append(Option(L("◀ Previous"), RoomPage(unit_id, page - 1).pack()))
    if page < pages:
        options.append(Option(L("Next ▶"), RoomPage(unit_id, page + 1).pack()))
    return Reply(L("Which room do you live in? Choose it, or type the room number."), options=tuple(options), columns=ROOMS_PER_ROW, replace=True)


async def _building_in_progress(turn: Turn) -> int | None:
    step, data = await turn.step()
    return data.get("building_id") if step == CHOOSING_ROOM else None


async def _unit_being_joined(turn: Turn, unit_id: int) -> bool:
    """Whether the unit lies in the building this person is joining."""
    building_id = await _building_in_progress(turn)
    return building_id is not None and unit_id in dict(await places.units_of_building(turn.session, building_id))


async def unit_chosen(turn: Turn, payload: UnitChoice) -> Response:
    if not await _unit_being_joined(turn, payload.unit_id):
        return Response.refusal(STALE)
    await turn.update_data(unit_id=payload.unit_id)
    return Response.of(await _rooms_reply(turn, payload.unit_id, 1))


async def room_page(turn: Turn, payload: RoomPage) -> Response:
    if not await _unit_being_joined(turn, payload.unit_id):
        return Response.refusal(STALE)
    return Response.of(await _rooms_reply(turn, payload.unit_id, payload.page))


async def room_chosen(turn: Turn, payload: RoomChoice) -> Response:
    building_id = await _building_in_progress(turn)
    if building_id is None or await places.building_of_household(turn.session, payload.household_id) != building_id:
        return Response.refusal(STALE)
    return await _join(turn, payload.household_id, replace=True)


async def typed_room(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    room = compact(text).removesuffix("室").removesuffix("号")[:MAX_ROOM_LENGTH]
    matches = await places.find_room_in_building(turn.session, data["building_id"], room, data.get("unit_id"))
    if len(matches) == 1:
        return await _join(turn, matches[0])
    if len(matches) > 1:
        units = await places.units_of_building(turn.session, data["building_id"])
        return Response.of(Reply(L("Room {room} exists in several units. Which unit do you live in?", room=room), options=_unit_options(units), columns=3))
    return Response.of(Reply(L("There is no room {room} in this building. Please check the number, or choose your room above.", room=room)))


async def _join(turn: Turn, household_id: int, *, replace: bool = False) -> Response:
    result = await people.join_household(turn.session, turn.person.id, household_id, verified=False)
    await turn.clear()
    return Response.of(_joined(result, replace=replace))


def _joined(result: people.JoinResult, *, replace: bool = False) -> Reply:
    address = address_text(result.address)
    if result.verified:
        text = L("You are now a verified member of the household {address}. You can vote for your household.", address=address)
    elif result.already_member:
        text = L("You are already a member of the household {address}.", address=address)
    else:
        text = L(
            "You have joined the household {address}. To vote, ask your building leader or grid worker to confirm you, "
            "or use the one-time code your community office gives each household.",
            address=address,
        )
    return Reply(L("{joined}\n\nSend /me to see your households, /help for what you can do.", joined=text), replace=replace)


def address_text(address: places.HouseholdAddress) -> Msg:
    return L("{compound} {building} {unit} room {room}", compound=address.compound, building=address.building, unit=address.unit, room=address.room)


FEATURE = Feature(
    "onboarding",
    commands=(Command("start", ("加入", "开始", "join"), N_("Join your household with an invite code"), start, Where.private, section=MenuSection.mine),),
    payloads={UnitChoice: unit_chosen, RoomPage: room_page, RoomChoice: room_chosen},
    steps={WAITING_CODE: typed_code, CHOOSING_ROOM: typed_room},
    answers=frozenset({WAITING_CODE}),
)
