"""Replies rendered for Telegram: entities for the title (no HTML, so nothing a person typed
can break the markup), inline buttons for options, a URL button for a link; and delivery of
a whole response to the chat an update came from, after the update's transaction committed."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from aiogram.utils.formatting import Bold, Text

from bot.conversations.turn import ChannelTraits
from bot.replies import Reply, Response, render_text, shown_on

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def traits(bot_username: str | None) -> ChannelTraits:
    return ChannelTraits(CHANNEL, numbered_options=False, private_chat_link=f"https://t.me/{bot_username}" if bot_username else None)


def keyboard(reply: Reply, locale: str) -> InlineKeyboardMarkup | None:
    """The options in rows of `reply.columns`, then the link on a row of its own. Built as the
    markup itself: aiogram's InlineKeyboardBuilder deep-copies every button on export, which
    cost more than the rest of rendering a reply."""
    if not reply.options and reply.link is None:
        return None
    buttons = [InlineKeyboardButton(text=render_text(option.label, locale), callback_data=option.payload) for option in reply.options]
    columns = max(1, reply.columns)
    rows = [buttons[start:start + columns] for start in range(0, len(buttons), columns)]
    if reply.link is not None:
        rows.append([InlineKeyboardButton(text=render_text(reply.link.label, locale), url=reply.link.url)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def message_kwargs(reply: Reply, locale: str) -> dict[str, Any]:
    """text (or caption), entities and buttons for one reply."""
    body = render_text(reply.text, locale)
    if reply.title is None:  # plain text, no entities to work out
        return {"text": body, "entities": None, "reply_markup": keyboard(reply, locale)}
    return {**Text(Bold(render_text(reply.title, locale)), "\n", body).as_kwargs(), "reply_markup": keyboard(reply, locale)}


def _is_not_modified(error: TelegramBadRequest) -> bool:
    return "message is not modified" in error.message


async def send(bot: Bot, chat_id: int | str, reply: Reply, locale: str, *, edit: Message | None = None) -> None:
    reply = shown_on(reply, CHANNEL)
    await send_rendered(bot, chat_id, reply, message_kwargs(reply, locale), edit=edit)


async def send_rendered(bot: Bot, chat_id: int | str, reply: Reply, kwargs: dict[str, Any], *, edit: Message | None = None) -> None:
    """Send a reply already rendered by message_kwargs: a notice is rendered once per language,
    not once per recipient."""
    attachment = reply.attachment
    if attachment is not None:
        media = attachment.file_id or BufferedInputFile(attachment.content or b"", attachment.filename)
        caption = {"caption": kwargs["text"], "caption_entities": kwargs["entities"], "reply_markup": kwargs["reply_markup"]}
        if attachment.kind == "photo":
            await bot.send_photo(chat_id, media, **caption)
        else:
            await bot.send_document(chat_id, media, **caption)
        return
    if edit is not None and reply.replace:
        try:
            await edit.edit_text(**kwargs)
        except TelegramBadRequest as error:
            if not _is_not_modified(error):  # the same button pressed twice: nothing to change
                raise
        return
    await bot.send_message(chat_id, **kwargs)


async def deliver(bot: Bot, update: Update, response: Response | None, locale: str) -> None:
    """Show the response where the update came from. Every pressed button is answered, so the
    client stops its spinner, even when no handler took it."""
    query = update.callback_query
    if query is not None:
        await _answer_query(query, response, locale)
    if response is None:
        return
    chat_id, message = _origin(update)
    if chat_id is None:
        return
    replies = response.replies
    if not replies and response.notice is not None and query is None:
        replies = [Reply(response.notice)]  # no button to attach a notice to: say it
    try:
        for reply in replies:
            await send(bot, chat_id, reply, locale, edit=message if query is not None else None)
    except TelegramForbiddenError:
        log.warning("chat %s blocked the bot; its answer to update %s was not delivered", chat_id, update.update_id)


async def _answer_query(query: CallbackQuery, response: Response | None, locale: str) -> None:
    notice = response.notice if response is not None else None
    try:
        await query.answer(render_text(notice, locale) if notice is not None else None, show_alert=bool(response and response.alert))
    except TelegramBadRequest as error:  # too old to answer: the person sees the result all the same
        log.info("callback query %s could not be answered: %s", query.id, error.message)


def _origin(update: Update) -> tuple[int | None, Message | None]:
    if update.message is not None:
        return update.message.chat.id, None
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        return query.message.chat.id, query.message
    if query is not None:
        return query.from_user.id, None
    return None, None
