"""The last line of defence: log the failure with its update id and apologise, never stay silent."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.i18n import _
from handlers.feature_router import FeatureRouter

router = FeatureRouter("errors")
log = logging.getLogger(__name__)


@router.errors()
async def apologise(event: ErrorEvent, bot: Bot) -> bool:
    update = event.update
    log.exception("update %s failed", update.update_id, exc_info=event.exception)
    chat_id = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None and update.callback_query.message is not None:
        chat_id = update.callback_query.message.chat.id
    if chat_id is not None:
        try:
            await bot.send_message(
                chat_id, _("Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment.")
            )
        except TelegramAPIError:
            log.exception("could not apologise for update %s", update.update_id)
    return True
