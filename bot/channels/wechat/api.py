"""The Official Account's API (api.weixin.qq.com, or any compatible server), over aiohttp.

Every call carries the shared access token (bot/channels/wechat/tokens.py); when WeChat says the
token is invalid or expired (40001, 40014, 42001) the token is refreshed and the call made once
more. Errors come back typed, so that a sender can tell "outside the 48-hour window" (45015)
from "too many messages" (45047) from anything else.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.wechat.tokens import AccessTokens, DatabaseTokenStore, RedisTokenStore, TokenStore
from bot.config import Settings

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
SYSTEM_BUSY = -1  # WeChat's own code for "try again later"; also used here when no JSON came back


class WeChatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class InvalidAccessToken(WeChatApiError):
    """40001 invalid credential, 40014 invalid access_token, 42001 access_token expired."""


class OutsideReplyWindow(WeChatApiError):
    """45015: the person last wrote more than 48 hours ago (or unfollowed): customer-service
    messages no longer reach them; only a template message does."""


class TooManyMessages(WeChatApiError):
    """45047: the customer-service messages allowed since the person last wrote are used up."""


class NotFollowing(WeChatApiError):
    """43004: the person does not follow the account."""


ERRORS: dict[int, type[WeChatApiError]] = {
    40001: InvalidAccessToken,
    40014: InvalidAccessToken,
    42001: InvalidAccessToken,
    45015: OutsideReplyWindow,
    45047: TooManyMessages,
    43004: NotFollowing,
}


def api_error(errcode: int, errmsg: str) -> WeChatApiError:
    return ERRORS.get(errcode, WeChatApiError)(errcode, errmsg)


@dataclass(frozen=True)
class QrCode:
    ticket: str
    url: str  # what the QR code encodes; any QR code of this text is the same code


class WeChatApi:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, app_id: str, app_secret: str, store: TokenStore) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = AccessTokens(store, self._fetch_token)

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (客服消息)."""
        await self.call("message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_image(self, openid: str, media_id: str) -> None:
        """A customer-service image message: a picture uploaded with upload_image, or one the
        person sent (its MediaId), within the three days WeChat keeps it."""
        await self.call("message/custom/send", {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}})

    async def send_template(self, openid: str, template_id: str, data: dict[str, str]) -> None:
        """A template message (模板消息): reaches a follower outside the 48-hour window."""
        fields = {name: {"value": value} for name, value in data.items()}
        await self.call("message/template/send", {"touser": openid, "template_id": template_id, "data": fields})

    async def upload_image(self, content: bytes, filename: str) -> str:
        """Temporary media (临时素材, kept three days by WeChat): returns its media_id."""

        def upload(token: str) -> Awaitable[dict[str, Any]]:
            form = aiohttp.FormData()  # built per try: a form is read once
            form.add_field("media", content, filename=filename, content_type=mimetypes.guess_type(filename)[0] or "image/png")
            return self._request("POST", "media/upload", params={"access_token": token, "type": "image"}, data=form)

        return str((await self._with_token("media/upload", upload))["media_id"])

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("menu/create", menu)

    async def create_permanent_qr(self, scene: str) -> QrCode:
        """A permanent parametric QR code (永久二维码) whose scan sends `scene` with the event."""
        result = await self.call("qrcode/create", {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}})
        return QrCode(result["ticket"], result["url"])

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /cgi-bin/<path> with a JSON body and the token."""
        # Chinese as UTF-8, not \u escapes: WeChat shows escapes in menus and messages as typed.
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return await self._with_token(path, lambda token: self._request("POST", path, params={"access_token": token}, data=data, headers=headers))

    async def _with_token(self, path: str, request: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """The request with the shared token; a rejected token is refreshed and the request made once more."""
        token = await self.tokens.get()
        try:
            return await request(token)
        except InvalidAccessToken as error:
            log.info("WeChat refused the access token (%s); refreshing it and trying %s once more", error.errcode, path)
            return await request(await self.tokens.get(rejected=token))

    async def _fetch_token(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}
        result = await self._request("GET", "token", params=params)
        log.info("fetched a new WeChat access token, valid for %s s", result["expires_in"])
        return result["access_token"], int(result["expires_in"])

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.http.request(method, f"{self.base_url}/cgi-bin/{path}", **kwargs) as response:
                # WeChat answers errors with HTTP 200 and an errcode; some send text/plain JSON.
                result = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise WeChatApiError(SYSTEM_BUSY, f"{type(error).__name__}: {error}") from error
        if not isinstance(result, dict):
            raise WeChatApiError(SYSTEM_BUSY, f"unexpected answer: {result!r}"[:200])
        if result.get("errcode", 0) != 0:
            raise api_error(int(result["errcode"]), str(result.get("errmsg", "")))
        return result


@asynccontextmanager
async def open_api(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[WeChatApi]:
    """The API client of this deployment, sharing the token with every worker and command:
    through Redis when configured, else through the database."""
    assert settings.wechat_app_id and settings.wechat_app_secret, "WeChat is not configured"
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession(timeout=REQUEST_TIMEOUT))
        store: TokenStore
        if settings.redis_url:
            redis_store = RedisTokenStore(settings.redis_url, settings.wechat_app_id)
            stack.push_async_callback(redis_store.close)
            store = redis_store
        else:
            store = DatabaseTokenStore(sessionmaker, settings.wechat_app_id)
        yield WeChatApi(http, settings.wechat_api_url, settings.wechat_app_id, settings.wechat_app_secret.get_secret_value(), store)
