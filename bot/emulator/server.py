"""A local Bot API server that answers as Telegram does, for tests and the offline demo.

Bot side: the methods gongjian calls, with Telegram's result and error shapes (400 for bad
requests, 403 for blocked users, 429 with retry_after when a rate limit is exceeded).
User side (under /emulator/): post what a person does (text, command, photo, location,
sticker, button press), in their private chat or in a group (a message, a reply, joining or
leaving), and read what the bot sent to a chat. An update counts as processed when the bot asks
for updates past it, which with sequential polling means its handler ended.

Faults stand in for everything else a server or the way to it may answer: Telegram's errors,
pages that are not Telegram's JSON (a proxy's 502), answers too late, connections reset.

In a group every message reaches the bot, as Telegram delivers them to a bot that administers
the group whatever its privacy mode, so the bot must itself stay quiet about what is not for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
SEND_METHODS = {"sendmessage", "sendphoto", "senddocument", "sendlocation", "copymessage", "forwardmessage"}
GROUP_TYPES = ("group", "supergroup")
GROUP_EVENTS = ("new_chat_members", "left_chat_member")
MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")  # a username as Telegram marks it: letters, digits, underscores
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "blockquote", "span"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad_request(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


@dataclass
class Fault:
    """How to answer one method (in one chat, when given) instead of as Telegram would, `times` times.

    With `error_code` alone: Telegram's own error shape (description, retry_after). With `body`:
    that text, with status `error_code` and `content_type`, as a proxy or some other server
    answers (`{"message": "not found"}`, an HTML page). `delay`: any answer comes only after that
    many seconds, the real result too when nothing else is given, so a client with a shorter
    timeout gives up first. `reset`: the connection is closed and nothing is answered.
    """

    method: str
    error_code: int | None = None
    description: str = ""
    retry_after: int | None = None
    chat_id: int | None = None
    times: int = 1
    body: str | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    reset: bool = False


@dataclass
class RateLimit:
    per_second: int
    sent: deque[float] = field(default_factory=deque)

    def wait_needed(self, now: float) -> int | None:
        """The seconds to wait when the last second is full already, else None."""
        while self.sent and now - self.sent[0] >= 1.0:
            self.sent.popleft()
        if len(self.sent) >= self.per_second:
            return max(1, int(1.0 - (now - self.sent[0]) + 0.999))
        return None


class _HtmlToPlain(HTMLParser):
    """Checks parse_mode=HTML the way Telegram does and keeps the text a person sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise bad_request(f"can't parse entities: unsupported start tag \"{tag}\"")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise bad_request(f"can't parse entities: can't find end tag corresponding to start tag \"{tag}\"")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @classmethod
    def plain(cls, text: str) -> str:
        parser = cls()
        parser.feed(text)
        parser.close()
        if parser.open:
            raise bad_request(f"can't parse entities: can't find end tag corresponding to start tag \"{parser.open[-1]}\"")
        return "".join(parser.parts)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class BotApiEmulator:
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "gongjian_test_bot",
        *,
        global_rate: int | None = None,
        per_chat_rate: int | None = None,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": "共建", "username": bot_username}
        self.global_limit = RateLimit(global_rate) if global_rate else None
        self.per_chat_rate = per_chat_rate
        self.chat_limits: dict[int, RateLimit] = {}
        self.users: dict[int, dict[str, Any]] = {}  # everyone who wrote, in private or in a group
        # The chats the bot may write to: private chats of people who wrote to it, groups it is in.
        self.chats: dict[int, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []  # not yet confirmed by the bot
        self.updates_seen: list[dict[str, Any]] = []  # every update, for tests that replay one
        self.confirmed_offset = 0
        self.messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.callback_answers: dict[str, dict[str, Any] | None] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # Every message sent (time.monotonic(), chat), and the 429s the rate limits answered:
        # how tests and the broadcast benchmark see rates, losses and duplicates.
        self.sent_log: list[tuple[float, int | None]] = []
        self.rate_limited = 0
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, bytes] = {}
        self.blocked: set[int] = set()
        self.faults: list[Fault] = []
        self.webhook_url = ""
        self._ids = itertools.count(1)
        # Telegram's update ids keep growing when the bot restarts: a test that restarts the bot
        # on the same database starts the new emulator beyond the ids it has seen.
        self._update_ids = itertools.count(first_update_id)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.app = self._make_app()

    # --- lifecycle --------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_post("/emulator/users/{user_id}/send", self._user_sends)
        app.router.add_post("/emulator/users/{user_id}/press", self._user_presses)
        app.router.add_get("/emulator/updates/{update_id}/processed", self._wait_processed)
        app.router.add_get("/emulator/chats/{chat_id}/messages", self._chat_messages)
        app.router.add_post("/emulator/chats/{chat_id}/blocked", self._set_blocked)
        app.router.add_get("/emulator/callbacks/{callback_id}", self._callback_answer)
        app.router.add_post("/emulator/faults", self._add_fault)
        app.router.add_get("/emulator/calls", self._calls)
        app.router.add_get("/emulator/stats", self._stats)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._closing = False  # started again after a stop: a bot restarting against the same server
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{bound[1]}"
        return self.base_url

    async def stop(self) -> None:
        # Release long polls at once: the server's shutdown waits for open requests.
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- bot side -----------------------------------------------------------------------------

    async def _bot_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        params = await _read_params(request)
        self.calls.append((method, {k: v for k, v in params.items() if not isinstance(v, bytes)}))
        fault = self._take_fault(method.lower(), params)
        if fault is not None:
            answer = await self._answer_fault(fault, request)
            if answer is not None:
                return answer
        try:
            self._apply_limits(method.lower(), params)
            handler = getattr(self, "api_" + method.lower(), None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            return _error_response(error)
        if method.lower() in SEND_METHODS:
            self._count_send(_int_or_none(params.get("chat_id")))
        return web.json_response({"ok": True, "result": result})

    def _limits_for(self, chat_id: int | None) -> list[RateLimit]:
        limits = [self.global_limit] if self.global_limit else []
        if self.per_chat_rate and chat_id is not None:
            limits.append(self.chat_limits.setdefault(chat_id, RateLimit(self.per_chat_rate)))
        return limits

    def _count_send(self, chat_id: int | None) -> None:
        """Only messages really sent count towards the limits."""
        now = time.monotonic()
        self.sent_log.append((now, chat_id))
        for limit in self._limits_for(chat_id):
            limit.sent.append(now)

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        chat_id = _int_or_none(params.get("chat_id"))
        for fault in self.faults:
            if fault.method.lower() == method and fault.chat_id in (None, chat_id) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def _answer_fault(self, fault: Fault, request: web.Request) -> web.Response | None:
        """The fault's answer; None when it only delays the real one."""
        if fault.delay:
            await self._sleep_unless_closing(fault.delay)
        if fault.reset:
            if request.transport is not None:
                request.transport.close()  # the client reads end of stream: a server disconnect
            return web.Response()  # never written: aiohttp drops a response to a closed connection
        if fault.body is not None:
            return web.Response(status=fault.error_code or 200, text=fault.body, content_type=fault.content_type)
        if fault.error_code is not None:
            return _error_response(ApiError(fault.error_code, fault.description, fault.retry_after))
        return None

    async def _sleep_unless_closing(self, seconds: float) -> None:
        """Wait, but not past `stop`: its shutdown waits for open requests."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self._closing), seconds)

    def _apply_limits(self, method: str, params: dict[str, Any]) -> None:
        if method not in SEND_METHODS:
            return
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        now = time.monotonic()
        for limit in self._limits_for(chat_id):
            wait = limit.wait_needed(now)
            if wait:
                self.rate_limited += 1
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)

    async def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            if offset > self.confirmed_offset:
                self.confirmed_offset = offset
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                self._changed.notify_all()
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._closing or bool(self._pending(offset))), timeout)
            except TimeoutError:
                pass
            return self._pending(offset)[:limit]

    def _pending(self, offset: int) -> list[dict[str, Any]]:
        return [u for u in self.updates if u["update_id"] >= max(offset, self.confirmed_offset)]

    async def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text") or "")
        plain = self._visible_text(text, params.get("parse_mode"))
        if not plain.strip():
            raise bad_request("message text is empty")
        if utf16_length(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        return await self._store(params, text=plain)

    async def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(params, "photo")

    async def api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media(params, "document")

    async def _send_media(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        media = params.get(kind)
        if isinstance(media, str) and media.startswith("attach://"):  # an upload: the file is the form's part of that name
            media = params.get(media.removeprefix("attach://"))
        if media is None or media == "":
            raise bad_request(f"there is no {kind} in the request")
        caption = self._visible_text(str(params.get("caption") or ""), params.get("parse_mode"))
        if utf16_length(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        file_id = self._file_id_for(media, kind)
        if kind == "photo":
            extra = {"photo": [{"file_id": file_id, "file_unique_id": file_id[-12:], "width": 512, "height": 512, "file_size": len(self.files[file_id])}]}
        else:
            extra = {"document": {"file_id": file_id, "file_unique_id": file_id[-12:], "file_size": len(self.files[file_id])}}
        return await self._store(params, caption=caption or None, **extra)

    def _file_id_for(self, media: Any, kind: str) -> str:
        if isinstance(media, bytes):
            file_id = f"{kind}-{next(self._ids)}-{len(media)}"
            self.files[file_id] = media
            return file_id
        if str(media) not in self.files:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return str(media)

    async def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find_message(params)
        text = self._visible_text(str(params.get("text") or ""), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = self._markup(params)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        _set_markup(message, markup)
        return await self._edited(message)

    async def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find_message(params)
        markup = self._markup(params)
        if message.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
            )
        _set_markup(message, markup)
        return await self._edited(message)

    async def api_deletemessage(self, params: dict[str, Any]) -> bool:
        message = self._find_message(params)
        self.messages[message["chat"]["id"]].remove(message)
        return True

    async def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if self.callback_answers.get(query_id, "unknown") is not None:  # unknown, or answered already
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = {"text": params.get("text"), "show_alert": _truthy(params.get("show_alert"))}
        return True

    async def api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = _json_param(params.get("commands")) or []
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not (1 <= len(name) <= 32) or not name.replace("_", "").isalnum() or name != name.lower():
                raise bad_request("BOT_COMMAND_INVALID")
            if not (1 <= len(description) <= 256):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_menu_key(params)] = commands
        return True

    async def api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(_menu_key(params), [])

    async def api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        return True

    async def api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._pending(0))}

    async def api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True

    async def api_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id[-12:], "file_size": len(self.files[file_id]), "file_path": f"files/{file_id}"}

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].removeprefix("files/")
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    def _visible_text(self, text: str, parse_mode: Any) -> str:
        return _HtmlToPlain.plain(text) if str(parse_mode or "").upper() == "HTML" else text

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = _json_param(params.get("reply_markup"))
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (1 <= len(data.encode()) <= MAX_CALLBACK_DATA):
                    raise bad_request("BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    async def _store(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = _int_or_none(params.get("chat_id"))
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            if chat_id in self.users:  # seen in a group only: Telegram lets no bot write first
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self.bot_user,
            **{k: v for k, v in content.items() if v is not None},
        }
        _set_markup(message, self._markup(params))
        async with self._changed:
            self.messages[chat_id].append(message)
            self._changed.notify_all()
        return message

    async def _edited(self, message: dict[str, Any]) -> dict[str, Any]:
        message["edit_date"] = int(time.time())
        async with self._changed:
            self._changed.notify_all()
        return message

    def _find_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int_or_none(params.get("chat_id"))
        message_id = _int_or_none(params.get("message_id"))
        for message in self.messages.get(chat_id or 0, []):
            if message["message_id"] == message_id:
                return message
        raise bad_request("message to edit not found")

    # --- user side ----------------------------------------------------------------------------

    def _user(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"})
        for key in ("first_name", "last_name", "username", "language_code"):
            if body.get(key):
                user[key] = body[key]
        return user

    async def enqueue(self, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **payload}
        self.updates_seen.append(update)
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update_id

    async def user_message(self, user_id: int, body: dict[str, Any]) -> int:
        """What a person sends (see `user_post`); the update's id."""
        update_id, _ = await self.user_post(user_id, body)
        return update_id

    async def user_post(self, user_id: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What a person sends: {"text"}, {"photo": content, "caption"}, {"location": [lat, lon]}
        or {"sticker": emoji}; in a group with {"chat": {"id": -100…, "type": "supergroup",
        "title"}}, where it may also be {"event": "new_chat_members" | "left_chat_member"} (the
        person joins or leaves). {"reply_to_message_id"} replies to a message of that chat.
        The update's id, and the message as the bot receives it."""
        user = self._user(user_id, body)
        chat = self._chat_for(user, body.get("chat"))
        message: dict[str, Any] = {"message_id": next(self._ids), "date": int(time.time()), "chat": dict(chat), "from": user}
        if body.get("reply_to_message_id") is not None:
            message["reply_to_message"] = self._replied(chat["id"], int(body["reply_to_message_id"]))
        self._add_content(message, body)
        async with self._changed:
            self.messages[chat["id"]].append({**message, "from_user": True})
        return await self.enqueue({"message": message}), message

    def open_chat(self, user_id: int, first_name: str = "", chat: dict[str, Any] | None = None) -> dict[str, Any]:
        """As if the person had written (in private, or in the group `chat`): the bot may write
        there from now on. For tests and benchmarks that seed people without a conversation."""
        return self._chat_for(self._user(user_id, {"first_name": first_name}), chat)

    def _chat_for(self, user: dict[str, Any], chat: dict[str, Any] | None) -> dict[str, Any]:
        """The person's private chat, or the group they write in; either way the bot may write there now."""
        if chat is None:
            return self.chats.setdefault(user["id"], {"id": user["id"], "type": "private", "first_name": user["first_name"]})
        chat_id = _int_or_none(chat.get("id"))
        if chat_id is None or chat_id >= 0 or chat.get("type") not in GROUP_TYPES:
            raise bad_request("a group chat has a negative id and the type group or supergroup")
        group = self.chats.setdefault(chat_id, {"id": chat_id, "type": chat["type"], "title": ""})
        group["title"] = str(chat.get("title") or group["title"])
        return group

    def _replied(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The stored copy of the message replied to; Telegram nests replies one level only."""
        for message in self.messages.get(chat_id, []):
            if message["message_id"] == message_id:
                return {k: v for k, v in message.items() if k not in ("from_user", "reply_to_message")}
        raise bad_request("message to be replied not found")

    def _add_content(self, message: dict[str, Any], body: dict[str, Any]) -> None:
        if "event" in body:
            if body["event"] not in GROUP_EVENTS or message["chat"]["type"] not in GROUP_TYPES:
                raise bad_request("people join and leave groups only: new_chat_members or left_chat_member")
            # The person joins or leaves by themselves: the member is the sender.
            if body["event"] == "new_chat_members":
                message["new_chat_members"] = [message["from"]]
            else:
                message["left_chat_member"] = message["from"]
        elif "text" in body:
            text = str(body["text"])
            message["text"] = text
            entities = _text_entities(text)
            if entities:
                message["entities"] = entities
        elif "photo" in body:
            data = str(body["photo"]).encode()
            file_id = f"userphoto-{next(self._ids)}"
            self.files[file_id] = data
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id[-12:], "width": 800, "height": 600, "file_size": len(data)}]
            if body.get("caption"):
                message["caption"] = str(body["caption"])
            if body.get("media_group_id"):  # photos sent together, as an album
                message["media_group_id"] = str(body["media_group_id"])
        elif "location" in body:
            message["location"] = {"latitude": float(body["location"][0]), "longitude": float(body["location"][1])}
        elif "sticker" in body:
            message["sticker"] = {
                "file_id": "sticker-1", "file_unique_id": "sticker1", "type": "regular",
                "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": str(body["sticker"] or "🙂"),
            }
        else:
            raise bad_request("nothing to send")

    async def user_press(self, user_id: int, body: dict[str, Any]) -> tuple[int, str]:
        user = self._user(user_id, body)
        message_id = int(body["message_id"])
        chat_id = _int_or_none((body.get("chat") or {}).get("id")) or user_id  # a group's message, or the private chat's
        message = next((m for m in self.messages.get(chat_id, []) if m["message_id"] == message_id), None)
        if message is None:
            raise bad_request("message not found")
        query_id = str(next(self._ids) * 7919)
        self.callback_answers[query_id] = None
        bot_message = {k: v for k, v in message.items() if k != "from_user"}
        update_id = await self.enqueue(
            {"callback_query": {"id": query_id, "from": user, "message": bot_message, "chat_instance": str(chat_id), "data": str(body["data"])}}
        )
        return update_id, query_id

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.confirmed_offset > update_id), timeout)
            except TimeoutError:
                return False
        return True

    async def _user_sends(self, request: web.Request) -> web.Response:
        try:
            update_id, message = await self.user_post(int(request.match_info["user_id"]), await request.json())
        except ApiError as error:
            return _error_response(error)
        return web.json_response({"ok": True, "update_id": update_id, "message_id": message["message_id"]})

    async def _user_presses(self, request: web.Request) -> web.Response:
        try:
            update_id, query_id = await self.user_press(int(request.match_info["user_id"]), await request.json())
        except ApiError as error:
            return _error_response(error)
        return web.json_response({"ok": True, "update_id": update_id, "callback_query_id": query_id})

    async def _wait_processed(self, request: web.Request) -> web.Response:
        processed = await self.wait_processed(int(request.match_info["update_id"]), float(request.query.get("timeout", "10")))
        return web.json_response({"ok": True, "processed": processed})

    async def _chat_messages(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        return web.json_response({"ok": True, "messages": [m for m in self.messages.get(chat_id, []) if not m.get("from_user")]})

    async def _set_blocked(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        if (await request.json()).get("blocked", True):
            self.blocked.add(chat_id)
        else:
            self.blocked.discard(chat_id)
        return web.json_response({"ok": True})

    async def _callback_answer(self, request: web.Request) -> web.Response:
        callback_id = request.match_info["callback_id"]
        return web.json_response({"ok": True, "known": callback_id in self.callback_answers, "answer": self.callback_answers.get(callback_id)})

    async def _add_fault(self, request: web.Request) -> web.Response:
        self.faults.append(Fault(**await request.json()))
        return web.json_response({"ok": True})

    async def _calls(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "calls": [{"method": m, "params": p} for m, p in self.calls]})

    def stats(self, since: int = 0, chats: bool = False) -> dict[str, Any]:
        """Messages sent from the `since`-th on: how many and over how long, the 429s the rate
        limits answered overall, and with `chats` how many chats got how many copies."""
        log = self.sent_log
        sent = len(log) - since
        stats: dict[str, Any] = {"sent": sent, "seconds": log[-1][0] - log[since][0] if sent > 0 else 0.0, "rate_limited": self.rate_limited}
        if chats:
            copies = Counter(Counter(chat for _, chat in log[since:]).values())
            stats["chats_by_copies"] = {str(k): v for k, v in sorted(copies.items())}
        return stats

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, **self.stats(int(request.query.get("since", "0")), "chats" in request.query)})


def _text_entities(text: str) -> list[dict[str, Any]]:
    """Entities as Telegram marks them in what a person typed: a leading command (with any
    @botname it carries) and @username mentions. Offsets and lengths count UTF-16 units."""
    entities: list[dict[str, Any]] = []
    command_end = 0  # a command's @botname belongs to the command, not a mention
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_length(command)})
        command_end = len(command)
    for mention in MENTION.finditer(text, command_end):
        entities.append({"type": "mention", "offset": utf16_length(text[: mention.start()]), "length": utf16_length(mention.group())})
    return entities


def _menu_key(params: dict[str, Any]) -> str:
    """Menus are kept per scope and language, as Telegram does: "all_private_chats/zh"."""
    scope = _json_param(params.get("scope")) or {"type": "default"}
    return f"{scope.get('type', 'default')}/{params.get('language_code') or ''}"


def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
    if markup and markup.get("inline_keyboard") is not None:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.code)


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST":
        return params
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    form = await request.post()
    for key, value in form.items():
        params[key] = value.file.read() if isinstance(value, web.FileField) else value
    return params


def _json_param(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        raise bad_request("can't parse JSON parameter") from None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true")
