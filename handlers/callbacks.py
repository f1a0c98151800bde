"""Typed callback data. Telegram allows 64 bytes, so only ids travel; whatever a button claims
is checked again on the server when it is pressed."""

from aiogram.filters.callback_data import CallbackData


class UnitChoice(CallbackData, prefix="unit"):
    unit_id: int


class RoomChoice(CallbackData, prefix="room"):
    household_id: int


class RoomPage(CallbackData, prefix="rooms"):
    unit_id: int
    page: int


class LanguageChoice(CallbackData, prefix="lang"):
    locale: str
