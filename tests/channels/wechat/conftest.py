"""The hub with the WeChat channel on, against the WeChat emulator: `rig` is an account in
plaintext mode (no AES key), `safe_rig` one with WECHAT_AES_KEY set (safe mode)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest_asyncio
from pydantic import SecretStr
from wechatpy import parse_message

from agent_web.keys import OUTBOX, ROUTER
from hub.app import create_app
from hub.keys import DB
from hub.settings import Settings
from routing.bot import BotAnswer
from tests.channels.helpers import agent_says
from tests.emulators.wechat import AES_KEY, APP_ID, APP_SECRET, TOKEN, WeChatEmulator, text_xml
from tests.fakes.bot import FakeBot

PATH = "/channels/wechat"


@dataclass
class SlowBot(FakeBot):
    delay_s: float = 0.0

    async def answer(self, text: str) -> BotAnswer:
        await asyncio.sleep(self.delay_s)
        return await super().answer(text)


@dataclass
class Rig:
    wx: WeChatEmulator
    url: str
    http: aiohttp.ClientSession
    app: Any
    bot: SlowBot

    async def send(
        self, xml: str | bytes, mode: str = "plain", **kw: Any
    ) -> aiohttp.ClientResponse:
        return await self.wx.post(self.http, self.url, xml, mode=mode, **kw)

    async def send_raw(self, params: dict[str, str], body: bytes) -> aiohttp.ClientResponse:
        return await self.wx.post_raw(self.http, self.url, params, body)

    async def passive_text(self, resp: aiohttp.ClientResponse, mode: str = "plain") -> str:
        body = await resp.text()
        xml = self.wx.decrypt_reply(body) if mode in ("aes", "compat") else body
        return parse_message(xml).content

    async def agent_writes(self, openid: str, text: str) -> dict[str, Any]:
        """The customer writes, then an agent's message goes out through the outbox; returns
        the agent's stored message once every delivery attempt is over."""
        db = self.app[DB]
        resp = await self.send(text_xml(openid, "你好", zlib.crc32(openid.encode())))
        assert resp.status == 200
        [conv] = [c async for c in db["conversations"].find({})]
        conversation = await self.app[ROUTER].conversation(conv["_id"])
        message_id = await agent_says(self.app[OUTBOX], conversation, text)
        return await db["messages"].find_one({"_id": message_id})


def wechat_settings(settings: Settings, wx: WeChatEmulator, *, aes: bool) -> Settings:
    return settings.model_copy(
        update={
            "wechat_app_id": APP_ID,
            "wechat_app_secret": SecretStr(APP_SECRET),
            "wechat_token": SecretStr(TOKEN),
            "wechat_aes_key": SecretStr(AES_KEY) if aes else None,
            "wechat_api_base": wx.api_base,
            # the real deadline: a loaded test machine still answers in band
            "wechat_reply_deadline_s": 4.0,
            "hub_outbox_backoff_s": (0.05, 0.05),
        }
    )


async def _rig(aiohttp_client: Any, settings: Settings, *, aes: bool) -> AsyncIterator[Rig]:
    async with WeChatEmulator() as wx:
        bot = SlowBot()
        app = create_app(wechat_settings(settings, wx, aes=aes), bot=bot)
        client = await aiohttp_client(app)
        async with aiohttp.ClientSession() as http:
            yield Rig(wx, str(client.make_url(PATH)), http, client.app, bot)


@pytest_asyncio.fixture(loop_scope="session")
async def rig(aiohttp_client: Any, settings: Settings) -> AsyncIterator[Rig]:
    async for r in _rig(aiohttp_client, settings, aes=False):
        yield r


@pytest_asyncio.fixture(loop_scope="session")
async def safe_rig(aiohttp_client: Any, settings: Settings) -> AsyncIterator[Rig]:
    async for r in _rig(aiohttp_client, settings, aes=True):
        yield r
