"""Whatever no feature took: unknown commands, free text, stickers and other content, old buttons."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.i18n import _
from handlers.feature_router import FeatureRouter

router = FeatureRouter("fallback")


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know that command. Send /help to see what you can do."))


@router.message(F.text)
async def free_text(message: Message) -> None:
    await message.answer(_("Thank you for your message. To get started, send /help to see what you can do here."))


@router.message()
async def unsupported_content(message: Message) -> None:
    await message.answer(_("Sorry, I can only read text messages here. Send /help to see what you can do."))


@router.callback_query()
async def unknown_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is no longer valid. Send /help to start again.")
    callback_answer.show_alert = True
