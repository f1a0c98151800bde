"""The emulator answers as Telegram does, so the real aiogram Bot raises what it would in production."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import BotApiEmulator, EmulatorClient
from bot.emulator.server import Fault

USER = 4242
GROUP = {"id": -1004242, "type": "supergroup", "title": "2栋业主群"}


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


async def test_a_group_as_the_bot_sees_it(api: Bot, emulator: BotApiEmulator) -> None:
    await emulator.user_message(5001, {"chat": GROUP, "event": "new_chat_members", "first_name": "王阿姨"})
    await emulator.user_message(5001, {"chat": GROUP, "text": "/help@gongjian_test_bot 楼道 @li_shifu_01"})
    joined, command = (u.message for u in await api.get_updates(offset=2, timeout=0))
    assert joined is not None and joined.text is None and [m.id for m in joined.new_chat_members or []] == [5001]
    assert command is not None and command.chat.type == "supergroup" and command.chat.title == "2栋业主群"
    assert [(e.type, e.offset, e.length) for e in command.entities or []] == [("bot_command", 0, 23), ("mention", 27, 12)]

    sent = await api.send_message(GROUP["id"], "收到")
    async with EmulatorClient(emulator.base_url) as client:
        group = client.group(GROUP["id"], GROUP["title"])
        assert [m.text for m in await group.messages()] == ["收到"]  # stored under the group, not the person
        reply_id = await emulator.user_message(5002, {"chat": GROUP, "text": "好的", "reply_to_message_id": sent.message_id})
        await emulator.user_message(5002, {"chat": GROUP, "event": "left_chat_member"})
    reply, left = (u.message for u in await api.get_updates(offset=reply_id, timeout=0))
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.text == "收到" and reply.reply_to_message.from_user is not None and reply.reply_to_message.from_user.is_bot
    assert left is not None and left.left_chat_member is not None and left.left_chat_member.id == 5002
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await api.send_message(5002, "私聊")  # seen in the group only: no bot may write first


async def test_answers_that_are_not_telegrams(api: Bot, emulator: BotApiEmulator) -> None:
    async with EmulatorClient(emulator.base_url) as client:
        await client.add_fault("deleteWebhook", 404, body=json.dumps({"message": "not found"}))
    with pytest.raises(ClientDecodeError, match="deserialize"):
        await api.delete_webhook()
    emulator.faults.append(Fault("deleteWebhook", 502, body="<html><body>502 Bad Gateway</body></html>", content_type="text/html"))
    with pytest.raises(ClientDecodeError, match="502 Bad Gateway"):
        await api.delete_webhook()
    emulator.faults.append(Fault("deleteWebhook", reset=True))
    with pytest.raises(TelegramNetworkError, match="ServerDisconnected"):
        await api.delete_webhook()
    emulator.faults.append(Fault("deleteWebhook", delay=30))
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await api.delete_webhook(request_timeout=0.2)  # type: ignore[arg-type]
    emulator.faults.append(Fault("getMe", delay=0.2))
    started = time.monotonic()
    assert (await api.get_me()).username == "gongjian_test_bot"  # late, but the real answer
    assert time.monotonic() - started >= 0.2
    assert await api.delete_webhook()  # each fault was used up: the server answers as before
