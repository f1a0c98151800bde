"""The emulator answers as Telegram does, so the real aiogram Bot raises what it would in production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import BotApiEmulator, EmulatorClient

USER = 4242


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    server = BotApiEmulator(per_chat_rate=1, global_rate=30)
    await server.start()
    await server.user_message(USER, {"text": "hi"})  # a chat exists once the user wrote
    yield server
    await server.stop()


@pytest.fixture
async def api(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    yield bot
    await bot.session.close()


async def test_get_me_and_updates(api: Bot) -> None:
    me = await api.get_me()
    assert me.is_bot and me.username == "gongjian_test_bot"
    [update] = await api.get_updates(timeout=0)
    assert update.message is not None and update.message.text == "hi" and update.message.chat.id == USER
    assert await api.get_updates(offset=update.update_id + 1, timeout=0) == []


async def test_bad_requests_have_telegrams_shapes(api: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await api.send_message(USER, "长" * 4097)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await api.send_message(999, "hello")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="房" * 22)]])
        await api.send_message(USER, "hello", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await api.send_message(USER, "<b>unclosed", parse_mode="HTML")


async def test_editing_to_the_same_content_is_not_modified(api: Bot, emulator: BotApiEmulator) -> None:
    message = await api.send_message(USER, "<b>楼道灯</b>", parse_mode="HTML")
    assert emulator.messages[USER][-1]["text"] == "楼道灯"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await api.edit_message_text("楼道灯", chat_id=USER, message_id=message.message_id)


async def test_rate_limits_blocked_users_and_bad_tokens(api: Bot, emulator: BotApiEmulator) -> None:
    await api.send_message(USER, "one")
    with pytest.raises(TelegramRetryAfter) as flood:
        await api.send_message(USER, "two")
    assert flood.value.retry_after == 1
    emulator.blocked.add(USER)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await api.send_photo(USER, BufferedInputFile(b"png", "p.png"))
    stranger = Bot("999:WRONG", session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()


async def test_the_user_side_presses_buttons_and_reads_answers(api: Bot, emulator: BotApiEmulator) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="收到", callback_data="ack:1")]])
    sent = await api.send_message(USER, "停水通知", reply_markup=markup)
    async with EmulatorClient(emulator.base_url) as client:
        [message] = [m for m in await client.messages(USER) if m.message_id == sent.message_id]
        assert message.button_texts == ["收到"]
        update_id, query_id = await emulator.user_press(USER, {"message_id": sent.message_id, "data": "ack:1"})
        updates = await api.get_updates(timeout=0)
        assert updates[-1].callback_query is not None and updates[-1].callback_query.data == "ack:1"
        assert await api.answer_callback_query(query_id, text="好的")
        assert (await client.callback_answer(query_id)) == {"text": "好的", "show_alert": False}
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await api.answer_callback_query(query_id)
