"""A local WeChat for tests and the offline demo: the Official Account platform as the bot
meets it, in the spirit of the Bot API emulator (bot/emulator/server.py).

API side (/cgi-bin/...): the access token, customer-service messages, template messages,
parametric QR codes (and their picture), media upload and the custom menu, with WeChat's error
codes: 40001 invalid token, 42001 expired token, 40003 unknown openid, 45015 outside the
48-hour window, 45047 too many customer-service messages, 45002 text too long, 43004 not
following, 40037 unknown template, 40004 wrong media type, 40007 unknown media_id, and the menu's size limits. Errors
come, as from WeChat, with HTTP 200 and an errcode; any answer can be delayed (`api_delay`).
A new token cuts the old ones off five minutes later, as WeChat does.

User side (/emulator/...): a person follows, scans a QR code, writes, sends a picture or a
location, clicks the menu, unfollows. Each becomes XML pushed to the bot's webhook, signed with
the token and, in safe mode (an EncodingAESKey given), AES-encrypted; WeChat's own scheme is
implemented here independently of wechatpy, so the bot's use of wechatpy is really checked.
Without an answer within `reply_timeout` (5 s) WeChat drops the connection and pushes the same
message again, three times; a failed push shows the person "该公众号暂时无法提供服务". What
the person sees (passive replies, customer-service and template messages) is kept per person.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import itertools
import json
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_TEXT_BYTES = 2048
REPLY_WINDOW_SECONDS = 48 * 3600
OLD_TOKEN_GRACE_SECONDS = 300  # a new token leaves the old one valid this long
CANNOT_SERVE = "该公众号暂时无法提供服务，请稍后再试"
MEDIA_TYPES = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024, "thumb": 64 * 1024}
TOP_BUTTONS, SUB_BUTTONS = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES = 16, 60, 128


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def new_aes_key() -> str:
    """An EncodingAESKey as the account's console makes it: 43 characters of base64."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class Cryptor:
    """WeChat's safe mode: AES-256-CBC, key from the EncodingAESKey, IV its first 16 bytes;
    plaintext = 16 random bytes + length (4 bytes, big-endian) + XML + app id, padded (PKCS#7)
    to a multiple of 32 bytes; base64 on the wire."""

    BLOCK = 32

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self.key = base64.b64decode(encoding_aes_key + "=")
        self.app_id = app_id.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, xml: str) -> str:
        body = xml.encode()
        plain = os.urandom(16) + struct.pack(">I", len(body)) + body + self.app_id
        pad = self.BLOCK - len(plain) % self.BLOCK
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        if plain[20 + length :] != self.app_id:
            raise ValueError("the reply was encrypted for another app id")
        return plain[20 : 20 + length].decode()


def to_xml(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if isinstance(value, (int, float)):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}><![CDATA[{str(value).replace(']]>', ']]]]><![CDATA[>')}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def from_xml(text: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(text)}


@dataclass
class Seen:
    """Something the person sees from the account."""

    kind: str  # passive, custom (customer-service), template, failure
    text: str
    at: float = field(default_factory=time.time)
    image: str | None = None  # an image message's media_id (its bytes are in WeChatEmulator.media)


@dataclass
class Follower:
    openid: str
    following: bool = False
    last_interaction: float = 0.0
    sent_since: int = 0  # customer-service messages since the person last wrote
    seen: list[Seen] = field(default_factory=list)


@dataclass
class Fault:
    """An errcode to answer instead of the real result, `times` times, for one API path."""

    path: str  # as after /cgi-bin/: "message/custom/send"
    errcode: int
    errmsg: str
    times: int = 1


@dataclass
class Push:
    status: int | None  # None: no answer in time, on any try
    tries: int
    passive: str | None


class WeChatEmulator:
    def __init__(
        self,
        *,
        app_id: str = "wx5f3a2e8c1d0b4a97",
        app_secret: str = "emulator-app-secret",
        token: str = "emulator-token",
        encoding_aes_key: str | None = None,
        account: str = "gh_6f2c1e0a9b87",
        reply_timeout: float = 5.0,
        retries: int = 3,
        api_delay: float = 0.0,
        token_lifetime: int = 7200,
        customer_service_limit: int = 20,
        templates: dict[str, str] | None = None,
    ) -> None:
        self.app_id, self.app_secret, self.token, self.account = app_id, app_secret, token, account
        self.encoding_aes_key = encoding_aes_key
        self.cryptor = Cryptor(encoding_aes_key, app_id) if encoding_aes_key else None
        self.reply_timeout, self.retries, self.api_delay = reply_timeout, retries, api_delay
        self.token_lifetime, self.customer_service_limit = token_lifetime, customer_service_limit
        self.templates = templates if templates is not None else {}
        self.webhook_url = ""  # the bot's, set once the bot listens
        self.users: dict[str, Follower] = {}
        self.tokens: dict[str, float] = {}  # token → when it stops working
        self.tokens_issued = 0
        self.tickets: dict[str, str] = {}  # QR ticket → scene
        self.media: dict[str, bytes] = {}
        self.menu: dict[str, Any] | None = None
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, Any]] = []
        self.pushed: list[tuple[str, str]] = []  # (openid, xml) of every push, for replays
        self._msg_ids = itertools.count(24_536_019_283_746_001)
        self._changed = asyncio.Condition()
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.app = self._make_app()

    # --- lifecycle ---------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_get("/cgi-bin/showqrcode", self._qr_picture)
        app.router.add_route("*", "/cgi-bin/{path:.+}", self._api)
        app.router.add_post("/emulator/users/{openid}/age", self._age)
        app.router.add_post("/emulator/users/{openid}/{action}", self._user_acts)
        app.router.add_get("/emulator/users/{openid}/messages", self._user_messages)
        app.router.add_post("/emulator/verify", self._verify)
        app.router.add_post("/emulator/replay", self._replay)
        app.router.add_post("/emulator/tokens/invalidate", self._invalidate)
        app.router.add_post("/emulator/faults", self._add_fault)
        app.router.add_get("/emulator/state", self._state)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._http = aiohttp.ClientSession()
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.base_url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- API side ----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        await self._delay()
        query = request.query
        self.calls.append(("token", {"appid": query.get("appid")}))
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if query.get("appid") != self.app_id:
            return _error(40013, "invalid appid")
        if query.get("secret") != self.app_secret:
            return _error(40125, "invalid appsecret")
        now = time.time()
        for old, until in self.tokens.items():
            self.tokens[old] = min(until, now + OLD_TOKEN_GRACE_SECONDS)
        token = secrets.token_urlsafe(48)
        self.tokens[token] = now + self.token_lifetime
        self.tokens_issued += 1
        return web.json_response({"access_token": token, "expires_in": self.token_lifetime})

    def invalidate_tokens(self) -> None:
        """Every token issued so far stops working (as when the secret is reset): 40001."""
        self.tokens.clear()

    async def _api(self, request: web.Request) -> web.Response:
        await self._delay()
        path = request.match_info["path"]
        handler = getattr(self, "api_" + path.replace("/", "_"), None)
        try:
            self._check_token(request.query.get("access_token"))
            params = await self._read_body(request)
            self.calls.append((path, {k: v for k, v in params.items() if not isinstance(v, bytes)}))
            for fault in self.faults:
                if fault.path == path and fault.times > 0:
                    fault.times -= 1
                    raise WeChatError(fault.errcode, fault.errmsg)
            if handler is None:
                raise WeChatError(48001, "api unauthorized")
            result = await handler(params, request.query)
        except WeChatError as error:
            return _error(error.errcode, error.errmsg)
        return web.json_response({"errcode": 0, "errmsg": "ok", **result})

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise WeChatError(41001, "access_token missing")
        until = self.tokens.get(token)
        if until is None:
            raise WeChatError(40001, "invalid credential, access_token is invalid or not latest")
        if until < time.time():
            raise WeChatError(42001, "access_token expired")

    async def _read_body(self, request: web.Request) -> dict[str, Any]:
        if request.method != "POST":
            return {}
        if request.content_type == "multipart/form-data":
            form = await request.post()
            return {k: (v.file.read() if isinstance(v, web.FileField) else v) for k, v in form.items()}
        raw = await request.text()
        # WeChat takes \\uXXXX escapes literally: a menu or message sent that way shows them.
        try:
            body = json.loads(raw.replace("\\u", "\\\\u"))
        except ValueError:
            raise WeChatError(47001, "data format error") from None
        if not isinstance(body, dict):
            raise WeChatError(47001, "data format error")
        return body

    async def api_message_custom_send(self, body: dict[str, Any], query: Any) -> dict[str, Any]:
        user = self.users.get(str(body.get("touser")))
        if user is None:
            raise WeChatError(40003, "invalid openid")
        if not user.following or time.time() - user.last_interaction > REPLY_WINDOW_SECONDS:
            raise WeChatError(45015, "response out of time limit or subscription is canceled")
        if user.sent_since >= self.customer_service_limit:
            raise WeChatError(45047, "out of response count limit")
        kind = body.get("msgtype")
        if kind == "image":
            media_id = str((body.get("image") or {}).get("media_id") or "")
            if media_id not in self.media:
                raise WeChatError(40007, "invalid media_id")
            seen = Seen("custom", "", image=media_id)
        elif kind == "text":
            content = str((body.get("text") or {}).get("content") or "")
            if not content or len(content.encode()) > MAX_TEXT_BYTES:
                raise WeChatError(45002, "content size out of limit")
            seen = Seen("custom", content)
        else:
            raise WeChatError(40008, "invalid message type")
        user.sent_since += 1
        await self._show(user, seen)
        return {}

    async def api_message_template_send(self, body: dict[str, Any], query: Any) -> dict[str, Any]:
        template_id = str(body.get("template_id"))
        if template_id not in self.templates:
            raise WeChatError(40037, "invalid template_id")
        user = self.users.get(str(body.get("touser")))
        if user is None:
            raise WeChatError(40003, "invalid openid")
        if not user.following:
            raise WeChatError(43004, "require subscribe")
        values = [f"{key}: {item.get('value', '')}" for key, item in (body.get("data") or {}).items()]
        await self._show(user, Seen("template", "\n".join([self.templates[template_id], *values])))
        return {"msgid": next(self._msg_ids)}

    async def api_qrcode_create(self, body: dict[str, Any], query: Any) -> dict[str, Any]:
        action = body.get("action_name")
        scene = ((body.get("action_info") or {}).get("scene")) or {}
        if action in ("QR_LIMIT_STR_SCENE", "QR_STR_SCENE"):
            value = str(scene.get("scene_str") or "")
            if not 1 <= len(value) <= 64:
                raise WeChatError(40097, "invalid args")
        elif action in ("QR_LIMIT_SCENE", "QR_SCENE"):
            value = str(scene.get("scene_id") or "")
            if not value.isdigit() or (action == "QR_LIMIT_SCENE" and not 1 <= int(value) <= 100000):
                raise WeChatError(40097, "invalid args")
        else:
            raise WeChatError(40097, "invalid args")
        ticket = base64.b64encode(os.urandom(30)).decode()
        self.tickets[ticket] = value
        result: dict[str, Any] = {"ticket": ticket, "url": "http://weixin.qq.com/q/" + secrets.token_urlsafe(16)}
        if action in ("QR_SCENE", "QR_STR_SCENE"):
            result["expire_seconds"] = int(body.get("expire_seconds") or 60)
        return result

    async def _qr_picture(self, request: web.Request) -> web.Response:
        import segno

        if request.query.get("ticket") not in self.tickets:
            return web.Response(status=404)
        picture = io.BytesIO()
        segno.make(request.query["ticket"], error="m").save(picture, kind="png", scale=8)
        return web.Response(body=picture.getvalue(), content_type="image/png")

    async def api_media_upload(self, body: dict[str, Any], query: Any) -> dict[str, Any]:
        kind = query.get("type", "")
        content = body.get("media")
        if kind not in MEDIA_TYPES:
            raise WeChatError(40004, "invalid media type")
        if not isinstance(content, bytes) or not 0 < len(content) <= MEDIA_TYPES[kind]:
            raise WeChatError(40005 if not isinstance(content, bytes) else 40009, "invalid media size")
        media_id = secrets.token_urlsafe(40)
        self.media[media_id] = content
        return {"type": kind, "media_id": media_id, "created_at": int(time.time())}

    async def api_menu_create(self, body: dict[str, Any], query: Any) -> dict[str, Any]:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= TOP_BUTTONS:
            raise WeChatError(40016, "invalid button size")
        for button in buttons:
            _check_button(button, TOP_NAME_BYTES, 40018, "invalid button name size")
            subs = button.get("sub_button")
            if subs is None:
                _check_action(button)
            elif not isinstance(subs, list) or not 1 <= len(subs) <= SUB_BUTTONS:
                raise WeChatError(40023, "invalid sub button size")
            else:
                for sub in subs:
                    _check_button(sub, SUB_NAME_BYTES, 40027, "invalid sub button name size")
                    _check_action(sub)
        self.menu = body
        return {}

    async def api_menu_get(self, body: dict[str, Any], query: Any) -> dict[str, Any]:
        if self.menu is None:
            raise WeChatError(46003, "menu no exist")
        return {"menu": self.menu}

    async def _delay(self) -> None:
        if self.api_delay:
            await asyncio.sleep(self.api_delay)

    async def _show(self, user: Follower, seen: Seen) -> None:
        async with self._changed:
            user.seen.append(seen)
            self._changed.notify_all()

    # --- user side ---------------------------------------------------------------------------

    def follower(self, openid: str) -> Follower:
        return self.users.setdefault(openid, Follower(openid))

    async def act(self, openid: str, action: str, body: dict[str, Any]) -> Push:
        """What a person does, as the XML WeChat pushes for it."""
        user = self.follower(openid)
        fields: dict[str, Any]
        if action == "send":
            fields = self._message(body)
        elif action == "follow":
            fields = self._follow(user, None)
        elif action == "scan":
            scene = body.get("scene") or self.tickets.get(str(body.get("ticket")))
            if scene is None:
                raise WeChatError(40097, "no such QR code")
            fields = self._follow(user, str(scene)) if not user.following else {"MsgType": "event", "Event": "SCAN", "EventKey": scene, "Ticket": body.get("ticket") or ""}
        elif action == "click":
            fields = {"MsgType": "event", "Event": "CLICK", "EventKey": str(body["key"])}
        elif action == "unfollow":
            user.following = False
            fields = {"MsgType": "event", "Event": "unsubscribe", "EventKey": ""}
        else:
            raise WeChatError(40097, f"unknown action {action}")
        if action != "unfollow":
            # Only followers can write to an account, so whoever writes follows it; and writing
            # opens a new 48-hour window for customer-service messages.
            user.following, user.last_interaction, user.sent_since = True, time.time(), 0
        xml = to_xml({"ToUserName": self.account, "FromUserName": openid, "CreateTime": int(time.time()), **fields})
        self.pushed.append((openid, xml))
        return await self.push(openid, xml, forge=bool(body.get("forge")))

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        msg_id = next(self._msg_ids)
        if "text" in body:
            return {"MsgType": "text", "Content": str(body["text"]), "MsgId": msg_id}
        if "image" in body:
            media_id = secrets.token_urlsafe(30)
            self.media[media_id] = str(body["image"]).encode()
            return {"MsgType": "image", "PicUrl": "http://mmbiz.qpic.cn/" + media_id, "MediaId": media_id, "MsgId": msg_id}
        if "location" in body:
            x, y, label = body["location"]
            return {"MsgType": "location", "Location_X": float(x), "Location_Y": float(y), "Scale": 15, "Label": str(label), "MsgId": msg_id}
        if "voice" in body:
            return {"MsgType": "voice", "MediaId": secrets.token_urlsafe(30), "Format": "amr", "MsgId": msg_id}
        raise WeChatError(40097, "nothing to send")

    def _follow(self, user: Follower, scene: str | None) -> dict[str, Any]:
        user.following = True
        if scene is None:
            return {"MsgType": "event", "Event": "subscribe", "EventKey": ""}
        ticket = next((t for t, s in self.tickets.items() if s == scene), "")
        return {"MsgType": "event", "Event": "subscribe", "EventKey": "qrscene_" + scene, "Ticket": ticket}

    async def push(self, openid: str, xml: str, *, forge: bool = False) -> Push:
        """Push to the bot as WeChat does: no answer within the timeout, and the same XML again."""
        assert self._http is not None and self.webhook_url, "start the emulator and set webhook_url"
        status: int | None = None
        answer = ""
        tries = 0
        for _ in range(1 + self.retries):
            tries += 1
            params, body = self._signed(xml, forge)
            try:
                timeout = aiohttp.ClientTimeout(total=self.reply_timeout)
                async with self._http.post(self.webhook_url, params=params, data=body.encode(), timeout=timeout) as response:
                    status, answer = response.status, await response.text()
                break
            except (TimeoutError, aiohttp.ClientError):
                continue
        user = self.follower(openid)
        passive = self._read_answer(openid, answer) if status == 200 else None
        if status != 200 or passive is False:
            await self._show(user, Seen("failure", CANNOT_SERVE))
            return Push(status, tries, None)
        if isinstance(passive, str):
            await self._show(user, Seen("passive", passive))
            return Push(status, tries, passive)
        return Push(status, tries, None)

    def _signed(self, xml: str, forge: bool) -> tuple[dict[str, str], str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        params = {"signature": signature(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": from_xml(xml)["FromUserName"]}
        body = xml
        if self.cryptor is not None:
            encrypted = self.cryptor.encrypt(xml)
            body = to_xml({"ToUserName": self.account, "Encrypt": encrypted})
            params.update(encrypt_type="aes", msg_signature=signature(self.token, timestamp, nonce, encrypted))
        if forge:
            params.update({key: "0" * 40 for key in ("signature", "msg_signature") if key in params})
        return params, body

    def _read_answer(self, openid: str, answer: str) -> str | bool | None:
        """The passive reply's text; None for no reply ("" or "success"); False for an answer
        WeChat cannot use, which the person sees as the account failing."""
        if answer in ("", "success"):
            return None
        try:
            reply = from_xml(answer)
            if self.cryptor is not None:
                expected = signature(self.token, reply["TimeStamp"], reply["Nonce"], reply["Encrypt"])
                if reply.get("MsgSignature") != expected:
                    return False
                reply = from_xml(self.cryptor.decrypt(reply["Encrypt"]))
        except (ElementTree.ParseError, KeyError, ValueError):
            return False
        if reply.get("ToUserName") != openid or reply.get("FromUserName") != self.account or reply.get("MsgType") != "text":
            return False
        content = reply.get("Content", "")
        return content if content and len(content.encode()) <= MAX_TEXT_BYTES else False

    async def verify(self, echostr: str, forge: bool = False) -> tuple[int, str]:
        """What the account's console does when the server URL is saved."""
        assert self._http is not None
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        sign = "0" * 40 if forge else signature(self.token, timestamp, nonce)
        params = {"signature": sign, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
        async with self._http.get(self.webhook_url, params=params) as response:
            return response.status, await response.text()

    async def wait_seen(self, openid: str, count: int, timeout: float) -> bool:
        user = self.follower(openid)
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: len(user.seen) >= count), timeout)
            except TimeoutError:
                return False
        return True

    async def _user_acts(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        try:
            push = await self.act(request.match_info["openid"], request.match_info["action"], body)
        except WeChatError as error:
            return _error(error.errcode, error.errmsg)
        return web.json_response({"errcode": 0, **asdict(push)})

    async def _user_messages(self, request: web.Request) -> web.Response:
        openid = request.match_info["openid"]
        count = int(request.query.get("at_least", "0"))
        if count:
            await self.wait_seen(openid, count, float(request.query.get("timeout", "10")))
        return web.json_response({"errcode": 0, "messages": [asdict(seen) for seen in self.follower(openid).seen]})

    async def _age(self, request: web.Request) -> web.Response:
        user = self.follower(request.match_info["openid"])
        user.last_interaction -= float((await request.json())["hours"]) * 3600
        return web.json_response({"errcode": 0})

    async def _verify(self, request: web.Request) -> web.Response:
        body = await request.json()
        status, text = await self.verify(str(body["echostr"]), bool(body.get("forge")))
        return web.json_response({"errcode": 0, "status": status, "text": text})

    async def _replay(self, request: web.Request) -> web.Response:
        """The last push again, byte for byte: what WeChat does when it missed an answer."""
        openid, xml = self.pushed[-1]
        return web.json_response({"errcode": 0, **asdict(await self.push(openid, xml))})

    async def _invalidate(self, request: web.Request) -> web.Response:
        self.invalidate_tokens()
        return web.json_response({"errcode": 0})

    async def _add_fault(self, request: web.Request) -> web.Response:
        self.faults.append(Fault(**await request.json()))
        return web.json_response({"errcode": 0})

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"errcode": 0, "tokens_issued": self.tokens_issued, "menu": self.menu, "tickets": self.tickets, "calls": [{"path": p, "params": c} for p, c in self.calls]}
        )


def _check_button(button: dict[str, Any], max_bytes: int, errcode: int, errmsg: str) -> None:
    name = str(button.get("name") or "")
    if not name or len(name.encode()) > max_bytes:
        raise WeChatError(errcode, errmsg)


def _check_action(button: dict[str, Any]) -> None:
    kind = button.get("type")
    if kind == "click":
        key = str(button.get("key") or "")
        if not key or len(key.encode()) > KEY_BYTES:
            raise WeChatError(40019, "invalid button key size")
    elif kind == "view":
        if not button.get("url"):
            raise WeChatError(40022, "invalid sub button url size")
    else:
        raise WeChatError(40017, "invalid button type")


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})
