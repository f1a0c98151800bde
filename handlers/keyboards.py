"""Inline keyboards built from plain data."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from handlers.callbacks import LanguageChoice, RoomChoice, RoomPage, UnitChoice

ROOMS_PER_PAGE = 40  # Telegram shows at most 100 buttons; 40 fit a phone screen
ROOMS_PER_ROW = 4


def units_keyboard(units: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for unit_id, name in units:
        builder.button(text=name, callback_data=UnitChoice(unit_id=unit_id))
    builder.adjust(3)
    return builder.as_markup()


def rooms_keyboard(unit_id: int, rooms: list[tuple[int, str]], page: int) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(rooms) // ROOMS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for household_id, room in rooms[page * ROOMS_PER_PAGE : (page + 1) * ROOMS_PER_PAGE]:
        builder.button(text=room, callback_data=RoomChoice(household_id=household_id))
    builder.adjust(ROOMS_PER_ROW)
    navigation = InlineKeyboardBuilder()
    if page > 0:
        navigation.button(text=_("◀ Previous"), callback_data=RoomPage(unit_id=unit_id, page=page - 1))
    if page < pages - 1:
        navigation.button(text=_("Next ▶"), callback_data=RoomPage(unit_id=unit_id, page=page + 1))
    builder.attach(navigation)
    return builder.as_markup()


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="中文", callback_data=LanguageChoice(locale="zh_CN"))
    builder.button(text="English", callback_data=LanguageChoice(locale="en"))
    return builder.as_markup()
