"""The last line of defence: log the failure with its update id and apologise, never stay silent.
The update's transaction was rolled back, so nothing half-done was saved."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.i18n import N_, translate

log = logging.getLogger(__name__)
APOLOGY = N_("Sorry, something went wrong on our side. Nothing you sent is lost; please try again in a moment.")


def create_router() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def apologise(event: ErrorEvent, bot: Bot, **data: Any) -> bool:
        update = event.update
        log.error("update %s failed", update.update_id, exc_info=event.exception)
        chat_id = None
        if update.message is not None:
            chat_id = update.message.chat.id
        elif update.callback_query is not None:
            chat_id = update.callback_query.from_user.id
        if chat_id is not None:
            try:
                await bot.send_message(chat_id, translate(data.get("locale", "zh_CN"), APOLOGY))
            except TelegramAPIError:
                log.exception("could not apologise for update %s", update.update_id)
        return True

    return router
