"""The user side of the WeChat emulator over HTTP: act as a person following the Official
Account, and read what the bot answered, passively or later through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp


class WeChatEmulatorError(RuntimeError):
    pass


@dataclass(frozen=True)
class Seen:
    kind: str  # passive, custom (customer-service API), template, failure
    text: str
    image: str | None = None  # an image message's media_id


@dataclass(frozen=True)
class Push:
    status: int | None  # the bot's HTTP status; None when it never answered in time
    tries: int
    passive: str | None


class WeChatClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WeChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        async with self._http.request(method, self.base_url + path, json=body) as response:
            payload = await response.json()
        if payload.get("errcode"):
            raise WeChatEmulatorError(f"{payload['errcode']}: {payload.get('errmsg')}")
        return payload

    def user(self, openid: str) -> WeChatUser:
        return WeChatUser(self, openid)

    async def verify(self, echostr: str, *, forge: bool = False) -> tuple[int, str]:
        """The console's check of the server URL: the bot's status and body."""
        payload = await self.call("POST", "/emulator/verify", {"echostr": echostr, "forge": forge})
        return payload["status"], payload["text"]

    async def replay(self) -> Push:
        """The last push once more, as WeChat sends it when it missed the answer."""
        payload = await self.call("POST", "/emulator/replay")
        return Push(payload["status"], payload["tries"], payload["passive"])

    async def invalidate_tokens(self) -> None:
        await self.call("POST", "/emulator/tokens/invalidate")

    async def add_fault(self, path: str, errcode: int, errmsg: str, *, times: int = 1) -> None:
        await self.call("POST", "/emulator/faults", {"path": path, "errcode": errcode, "errmsg": errmsg, "times": times})

    async def state(self) -> dict[str, Any]:
        """Tokens issued, the custom menu, QR tickets and their scenes, and every API call."""
        return await self.call("GET", "/emulator/state")


class WeChatUser:
    """One person and the account. Each action returns once WeChat is done pushing it (an
    answer, or no answer after the retries), with what the person saw meanwhile."""

    def __init__(self, client: WeChatClient, openid: str) -> None:
        self.client = client
        self.openid = openid
        self.last_push: Push | None = None

    async def _act(self, action: str, body: dict[str, Any] | None = None) -> list[str]:
        before = len(await self.seen())
        payload = await self.client.call("POST", f"/emulator/users/{self.openid}/{action}", body or {})
        self.last_push = Push(payload["status"], payload["tries"], payload["passive"])
        return [seen.text for seen in (await self.seen())[before:]]

    async def send(self, text: str, *, forge: bool = False) -> list[str]:
        return await self._act("send", {"text": text, "forge": forge})

    async def send_image(self) -> list[str]:
        return await self._act("send", {"image": "photo of the stairwell"})

    async def send_location(self, latitude: float, longitude: float, label: str = "") -> list[str]:
        return await self._act("send", {"location": [latitude, longitude, label]})

    async def follow(self) -> list[str]:
        return await self._act("follow")

    async def scan(self, *, scene: str | None = None, ticket: str | None = None) -> list[str]:
        """Scan a parametric QR code: follows the account first if need be (subscribe), else SCAN."""
        return await self._act("scan", {"scene": scene, "ticket": ticket})

    async def click(self, key: str) -> list[str]:
        return await self._act("click", {"key": key})

    async def unfollow(self) -> list[str]:
        return await self._act("unfollow")

    async def age(self, hours: float) -> None:
        """Make the person's last message `hours` older: past 48, the customer-service window closes."""
        await self.client.call("POST", f"/emulator/users/{self.openid}/age", {"hours": hours})

    async def seen(self, at_least: int = 0, timeout: float = 10.0) -> list[Seen]:
        """Everything the person saw from the account; with `at_least`, wait until there is that much."""
        query = f"?at_least={at_least}&timeout={timeout}" if at_least else ""
        payload = await self.client.call("GET", f"/emulator/users/{self.openid}/messages{query}")
        return [Seen(m["kind"], m["text"], m["image"]) for m in payload["messages"]]
