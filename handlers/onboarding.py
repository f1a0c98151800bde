"""Joining a household: /start with an invite code (deep link, QR code, or typed)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, current_locale
from bot.services import invites, people, places
from handlers.callbacks import RoomChoice, RoomPage, UnitChoice
from handlers.feature_router import FeatureRouter
from handlers.keyboards import rooms_keyboard, units_keyboard
from handlers.render import address_line, escape
from storage.models import Person

router = FeatureRouter("onboarding")
MAX_CODE_LENGTH = 64


class Joining(StatesGroup):
    waiting_code = State()
    choosing_room = State()  # data: building_id, unit_id (once a unit is chosen)


@router.message(CommandStart(deep_link=True))
async def start_with_code(message: Message, command: CommandObject, session: AsyncSession, person: Person, state: FSMContext) -> None:
    await redeem_code(message, command.args or "", session, person, state)


@router.message(CommandStart())
async def start_without_code(message: Message, state: FSMContext) -> None:
    await state.set_state(Joining.waiting_code)
    await message.answer(
        _(
            "Welcome to 共建! Here residents report problems, vote on the renovation of their compound and follow the works.\n\n"
            "To join your household, scan the QR code posted in your stairwell, or type the invite code printed on it "
            "or on the paper from your community office. Type the code now:"
        )
    )


@router.message(Joining.waiting_code, F.text, ~F.text.startswith("/"))
async def typed_code(message: Message, session: AsyncSession, person: Person, state: FSMContext) -> None:
    await redeem_code(message, message.text or "", session, person, state)


async def redeem_code(message: Message, code: str, session: AsyncSession, person: Person, state: FSMContext) -> None:
    if len(code) > MAX_CODE_LENGTH:
        await message.answer(_("That is too long to be an invite code. A code has 8 letters and digits, like K7MQ2XPA."))
        return
    try:
        result = await invites.redeem(session, code, person.id)
    except invites.InviteError as error:
        await state.set_state(Joining.waiting_code)
        await message.answer(error.render(current_locale(), escape))
        return
    if isinstance(result, invites.BuildingInvite):
        await state.set_state(Joining.choosing_room)
        await state.set_data({"building_id": result.building_id})
        await _ask_for_unit_or_room(message, session, result)
        return
    await state.clear()
    await message.answer(_joined_text(result))


async def _ask_for_unit_or_room(message: Message, session: AsyncSession, invite: invites.BuildingInvite) -> None:
    units = await places.units_of_building(session, invite.building_id)
    where = _("{compound}, {building}").format(compound=escape(invite.compound), building=escape(invite.building))
    if len(units) == 1:
        rooms = await places.rooms_of_unit(session, units[0][0])
        await message.answer(
            _("You are joining {where}. Which room do you live in? Press it, or type the room number.").format(where=where),
            reply_markup=rooms_keyboard(units[0][0], rooms, 0),
        )
        return
    await message.answer(
        _("You are joining {where}. Which unit do you live in?").format(where=where),
        reply_markup=units_keyboard(units),
    )


@router.callback_query(UnitChoice.filter())
async def unit_chosen(
    query: CallbackQuery, callback_data: UnitChoice, session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    if not await _unit_being_joined(session, state, callback_data.unit_id):
        _stale(callback_answer)
        return
    await state.update_data(unit_id=callback_data.unit_id)
    await _show_rooms(query, session, callback_data.unit_id, 0)


@router.callback_query(RoomPage.filter())
async def room_page(
    query: CallbackQuery, callback_data: RoomPage, session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    if not await _unit_being_joined(session, state, callback_data.unit_id):
        _stale(callback_answer)
        return
    await _show_rooms(query, session, callback_data.unit_id, callback_data.page)


async def _show_rooms(query: CallbackQuery, session: AsyncSession, unit_id: int, page: int) -> None:
    rooms = await places.rooms_of_unit(session, unit_id)
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Which room do you live in? Press it, or type the room number."),
            reply_markup=rooms_keyboard(unit_id, rooms, page),
        )


@router.callback_query(RoomChoice.filter())
async def room_chosen(
    query: CallbackQuery,
    callback_data: RoomChoice,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    # The household must lie in the building this person is joining: button data can be forged.
    building_id = await _building_in_progress(state)
    if building_id is None or await places.building_of_household(session, callback_data.household_id) != building_id:
        _stale(callback_answer)
        return
    result = await people.join_household(session, person.id, callback_data.household_id, verified=False)
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_text(_joined_text(result))


@router.message(Joining.choosing_room, F.text, ~F.text.startswith("/"))
async def typed_room(message: Message, session: AsyncSession, person: Person, state: FSMContext) -> None:
    data = await state.get_data()
    room = (message.text or "").strip().removesuffix("室").removesuffix("号")
    matches = await places.find_room_in_building(session, data["building_id"], room[:50], data.get("unit_id"))
    if len(matches) == 1:
        result = await people.join_household(session, person.id, matches[0], verified=False)
        await state.clear()
        await message.answer(_joined_text(result))
        return
    if len(matches) > 1:
        units = await places.units_of_building(session, data["building_id"])
        await message.answer(_("Room {room} exists in several units. Which unit do you live in?").format(room=escape(room)), reply_markup=units_keyboard(units))
        return
    await message.answer(_("There is no room {room} in this building. Please check the number, or press your room above.").format(room=escape(room[:50])))


async def _unit_being_joined(session: AsyncSession, state: FSMContext, unit_id: int) -> bool:
    """Whether the unit lies in the building this person is joining: button data can be forged."""
    building_id = await _building_in_progress(state)
    return building_id is not None and unit_id in dict(await places.units_of_building(session, building_id))


async def _building_in_progress(state: FSMContext) -> int | None:
    if await state.get_state() != Joining.choosing_room.state:
        return None
    return (await state.get_data()).get("building_id")


def _stale(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is no longer valid. Send /start with your invite code again.")
    callback_answer.show_alert = True


def _joined_text(result: people.JoinResult) -> str:
    address = address_line(result.address)
    if result.verified:
        text = _("You are now a verified member of the household {address}. You can vote for your household.")
    elif result.already_member:
        text = _("You are already a member of the household {address}.")
    else:
        text = _(
            "You have joined the household {address}. To vote, ask your building leader or grid worker to confirm you, "
            "or use the one-time code your community office gives each household."
        )
    return text.format(address=address) + "\n\n" + _("Send /me to see your households, /help for what you can do.")
