"""A local Telegram Bot API emulator and a client that plays the people talking to the bot."""

from bot.emulator.client import ChatMessage, EmulatorClient, UserChat
from bot.emulator.server import BotApiEmulator

__all__ = ["BotApiEmulator", "ChatMessage", "EmulatorClient", "UserChat"]
