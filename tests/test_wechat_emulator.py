"""The WeChat emulator answers as WeChat does: wechatpy's own (synchronous) client, written
against the real platform, gets the results and error codes it would get in production."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.emulator import WeChatEmulator


class LocalClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client, pointed at the emulator instead of api.weixin.qq.com."""

    def __init__(self, emulator: WeChatEmulator) -> None:
        super().__init__(emulator.app_id, emulator.app_secret)
        self.API_BASE_URL = emulator.base_url + "/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(url=self.API_BASE_URL + "token", params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})


@pytest.fixture
async def emulator() -> AsyncIterator[WeChatEmulator]:
    server = WeChatEmulator(customer_service_limit=3, templates={"TPL-NOTICE": "社区通知"})
    await server.start()
    fan = server.follower("oFan00000001")
    fan.following, fan.last_interaction = True, time.time()
    yield server
    await server.stop()


def errcode(call: Any) -> int:
    with pytest.raises(WeChatClientException) as raised:
        call()
    return int(raised.value.errcode)


async def test_calls_wechatpy_makes_and_the_errors_it_meets(emulator: WeChatEmulator) -> None:
    await asyncio.to_thread(_calls_and_errors, emulator)  # wechatpy blocks; the emulator runs on this loop


def _calls_and_errors(emulator: WeChatEmulator) -> None:
    client = LocalClient(emulator)
    client.message.send_text("oFan00000001", "你好")
    assert errcode(lambda: client.message.send_text("oStranger0001", "你好")) == 40003
    assert errcode(lambda: client.message.send_text("oFan00000001", "长" * 683)) == 45002  # 2049 bytes
    client.message.send_text("oFan00000001", "第二条")
    client.message.send_text("oFan00000001", "第三条")
    assert errcode(lambda: client.message.send_text("oFan00000001", "第四条")) == 45047
    client.message.send_template("oFan00000001", "TPL-NOTICE", {"first": {"value": "停水通知"}})
    assert errcode(lambda: client.message.send_template("oFan00000001", "TPL-OTHER", {})) == 40037
    assert [(s.kind, s.text) for s in emulator.follower("oFan00000001").seen] == [
        ("custom", "你好"), ("custom", "第二条"), ("custom", "第三条"), ("template", "社区通知\nfirst: 停水通知"),
    ]
    emulator.follower("oFan00000001").last_interaction -= 49 * 3600
    emulator.follower("oFan00000001").sent_since = 0
    assert errcode(lambda: client.message.send_text("oFan00000001", "太晚了")) == 45015

    client.menu.create({"button": [{"type": "click", "name": "我的", "key": "me"}]})
    assert client.menu.get()["menu"]["button"][0]["name"] == "我的"
    assert errcode(lambda: client.menu.create({"button": [{"type": "click", "name": "七个汉字的菜单", "key": "x"}]})) == 40018
    assert errcode(lambda: client.menu.create({"button": [{"type": "click", "name": "一", "key": "k"}] * 4})) == 40016

    qr = client.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "K7MQ2XPA"}}})
    assert emulator.tickets[qr["ticket"]] == "K7MQ2XPA" and qr["url"].startswith("http://weixin.qq.com/q/")
    assert client.media.upload("image", ("stairwell.jpg", io.BytesIO(b"\xff\xd8 a picture"), "image/jpeg"))["media_id"]
    assert errcode(lambda: client.media.upload("sticker", ("x.gif", io.BytesIO(b"GIF89a"), "image/gif"))) == 40004

    emulator.invalidate_tokens()  # wechatpy fetches a new token on 40001 and tries again
    client.message.send_template("oFan00000001", "TPL-NOTICE", {})
    assert emulator.tokens_issued == 2


async def test_the_quirks_a_client_must_know(emulator: WeChatEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(emulator.base_url + "/cgi-bin/token", params={"grant_type": "client_credential", "appid": emulator.app_id, "secret": "wrong"}) as answer:
            assert answer.status == 200 and (await answer.json())["errcode"] == 40125  # errors come with HTTP 200
        first = await asyncio.to_thread(LocalClient(emulator).fetch_access_token)
        second = await asyncio.to_thread(LocalClient(emulator).fetch_access_token)
        assert emulator.tokens[first["access_token"]] - time.time() < 301  # the old token dies five minutes after a new one
        url = emulator.base_url + "/cgi-bin/message/custom/send"
        body = '{"touser": "oFan00000001", "msgtype": "text", "text": {"content": "\\u4f60\\u597d"}}'  # json.dumps' default
        async with http.post(url, params={"access_token": second["access_token"]}, data=body) as answer:
            assert (await answer.json())["errcode"] == 0
        assert emulator.follower("oFan00000001").seen[-1].text == "\\u4f60\\u597d"  # shown as sent: escaped
        qr = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "K7MQ2XPA"}}}
        async with http.post(emulator.base_url + "/cgi-bin/qrcode/create", params={"access_token": second["access_token"]}, json=qr) as answer:
            ticket = (await answer.json())["ticket"]
        async with http.get(emulator.base_url + "/cgi-bin/showqrcode", params={"ticket": ticket}) as picture:
            assert (await picture.read()).startswith(b"\x89PNG")
