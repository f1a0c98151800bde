"""The user side of the emulator over HTTP: act as a person and read what the bot answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    message_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...]
    photo: bool = False
    document: bool = False
    edited: bool = False

    @classmethod
    def from_api(cls, message: dict[str, Any]) -> ChatMessage:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return cls(
            message_id=message["message_id"],
            text=message.get("text") or message.get("caption") or "",
            buttons=tuple(tuple(Button(b["text"], b.get("callback_data"), b.get("url")) for b in row) for row in rows),
            photo="photo" in message,
            document="document" in message,
            edited="edit_date" in message,
        )

    @property
    def button_texts(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]

    def button(self, text: str) -> Button:
        for row in self.buttons:
            for button in row:
                if button.text == text or text in button.text:
                    return button
        raise LookupError(f"no button {text!r} in {self.button_texts}")


class EmulatorError(RuntimeError):
    pass


class EmulatorClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> EmulatorClient:
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        async with self._http.request(method, self.base_url + path, json=body) as response:
            payload = await response.json()
        if not payload.get("ok"):
            raise EmulatorError(payload.get("description", "emulator error"))
        return payload

    def user(self, user_id: int, first_name: str = "", language_code: str = "zh-hans") -> UserChat:
        return UserChat(self, user_id, first_name or f"User {user_id}", language_code)

    def group(self, chat_id: int, title: str, chat_type: str = "supergroup") -> GroupChat:
        """A group chat the bot is in: `client.group(-1001234, "1栋业主群").member(2001, "王阿姨")`."""
        return GroupChat(self, {"id": chat_id, "type": chat_type, "title": title})

    async def messages(self, chat_id: int) -> list[ChatMessage]:
        payload = await self._call("GET", f"/emulator/chats/{chat_id}/messages")
        return [ChatMessage.from_api(m) for m in payload["messages"]]

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        payload = await self._call("GET", f"/emulator/updates/{update_id}/processed?timeout={timeout}")
        if not payload["processed"]:
            raise EmulatorError(f"the bot did not process update {update_id} within {timeout} s")

    async def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        return (await self._call("GET", f"/emulator/callbacks/{callback_query_id}"))["answer"]

    async def set_blocked(self, chat_id: int, blocked: bool = True) -> None:
        await self._call("POST", f"/emulator/chats/{chat_id}/blocked", {"blocked": blocked})

    async def add_fault(
        self,
        method: str,
        error_code: int | None = None,
        description: str = "",
        *,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
        body: str | None = None,
        content_type: str = "application/json",
        delay: float = 0.0,
        reset: bool = False,
    ) -> None:
        """Answer `method` otherwise than Telegram would; see bot.emulator.server.Fault."""
        await self._call(
            "POST", "/emulator/faults",
            {"method": method, "error_code": error_code, "description": description, "retry_after": retry_after, "chat_id": chat_id,
             "times": times, "body": body, "content_type": content_type, "delay": delay, "reset": reset},
        )

    async def calls(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/emulator/calls"))["calls"]


class _Speaker:
    """A person acting in one chat. Each action waits until the bot has handled it and returns
    the messages the bot sent or edited in that chat meanwhile."""

    def __init__(self, client: EmulatorClient, user_id: int, first_name: str, language_code: str, group: dict[str, Any] | None = None) -> None:
        self.client = client
        self.user_id = user_id
        self.chat_id: int = group["id"] if group else user_id
        self.profile = {"first_name": first_name, "language_code": language_code}
        self._where = {"chat": group} if group else {}  # the server takes no chat as the private one
        self.last_callback_id: str | None = None
        self.last_message_id: int | None = None  # what this person sent last, to reply to it

    async def _act(self, path: str, body: dict[str, Any]) -> list[ChatMessage]:
        before = set(await self.messages())
        payload = await self.client._call("POST", f"/emulator/users/{self.user_id}/{path}", {**self.profile, **self._where, **body})
        self.last_callback_id = payload.get("callback_query_id")
        self.last_message_id = payload.get("message_id")
        await self.client.wait_processed(payload["update_id"])
        return [m for m in await self.messages() if m not in before]

    async def send(self, text: str) -> list[ChatMessage]:
        return await self._act("send", {"text": text})

    async def messages(self) -> list[ChatMessage]:
        """What the bot sent to this chat (to everyone in it, in a group)."""
        return await self.client.messages(self.chat_id)

    async def last(self) -> ChatMessage:
        return (await self.messages())[-1]

    async def press(self, button_text: str, message: ChatMessage | None = None) -> list[ChatMessage]:
        """Press the button whose text contains `button_text`, on `message` or the newest message with buttons."""
        if message is None:
            message = next((m for m in reversed(await self.messages()) if m.buttons), None)
            if message is None:
                raise LookupError("no message with buttons")
        data = message.button(button_text).callback_data
        if data is None:
            raise LookupError(f"button {button_text!r} has no callback data")
        return await self.press_data(message.message_id, data)

    async def press_data(self, message_id: int, data: str) -> list[ChatMessage]:
        """Send any callback data for a message: how a forged or stale button is tested."""
        return await self._act("press", {"message_id": message_id, "data": data})


class UserChat(_Speaker):
    """One person's private chat with the bot."""

    async def send_photo(self, content: str = "photo", caption: str = "", album: str | None = None) -> list[ChatMessage]:
        """A photo; photos with the same `album` are sent together (Telegram's media_group_id)."""
        return await self._act("send", {"photo": content, "caption": caption, **({"media_group_id": album} if album else {})})

    async def send_location(self, latitude: float, longitude: float) -> list[ChatMessage]:
        return await self._act("send", {"location": [latitude, longitude]})

    async def send_sticker(self, emoji: str = "🙂") -> list[ChatMessage]:
        return await self._act("send", {"sticker": emoji})


class GroupChat:
    """A group or supergroup with the bot in it; its members act through `member`."""

    def __init__(self, client: EmulatorClient, chat: dict[str, Any]) -> None:
        self.client = client
        self.chat = chat
        self.chat_id: int = chat["id"]

    def member(self, user_id: int, first_name: str = "", language_code: str = "zh-hans") -> GroupMember:
        return GroupMember(self, user_id, first_name or f"User {user_id}", language_code)

    async def messages(self) -> list[ChatMessage]:
        """What the bot sent to the group."""
        return await self.client.messages(self.chat_id)


class GroupMember(_Speaker):
    """One person in a group chat: writes, replies, joins and leaves, as every member sees it."""

    def __init__(self, group: GroupChat, user_id: int, first_name: str, language_code: str) -> None:
        super().__init__(group.client, user_id, first_name, language_code, group.chat)

    async def reply_to(self, message: ChatMessage | int, text: str) -> list[ChatMessage]:
        """Reply to a message of the group: the bot's (a ChatMessage) or a person's (its id)."""
        message_id = message.message_id if isinstance(message, ChatMessage) else message
        return await self._act("send", {"text": text, "reply_to_message_id": message_id})

    async def join(self) -> list[ChatMessage]:
        return await self._act("send", {"event": "new_chat_members"})

    async def leave(self) -> list[ChatMessage]:
        return await self._act("send", {"event": "left_chat_member"})
