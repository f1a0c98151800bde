"""Local emulators of Telegram's Bot API and of WeChat's Official Account platform, and clients
that play the people talking to the bot."""

from bot.emulator.client import ChatMessage, EmulatorClient, UserChat
from bot.emulator.server import BotApiEmulator
from bot.emulator.wechat_client import WeChatClient, WeChatUser
from bot.emulator.wechat_server import WeChatEmulator

__all__ = ["BotApiEmulator", "ChatMessage", "EmulatorClient", "UserChat", "WeChatClient", "WeChatEmulator", "WeChatUser"]
