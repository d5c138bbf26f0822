"""A `hub serve` process under a mixed burst of citizens, killed or restarted mid-burst, and
the clients that retry as the real ones do (REST with message ids, web-chat widgets resending
what was not acknowledged, WeChat resending a callback it got no answer to).

Used by tests/hub/test_restart_after_kill.py and bench/restart.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from hub.settings import REPO_DIR
from tests.emulators.wechat import APP_ID, APP_SECRET, TOKEN, WeChatEmulator, text_xml

REST = "/api/v1/channels/rest/messages"
KB_QUESTIONS = (
    "新生儿医保怎么办理？",
    "停水了怎么查询原因",
    "身份证丢了怎么补办",
    "公积金怎么提取",
)


async def start_hub(env: dict[str, str], command: str = "serve") -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        command,
        cwd=REPO_DIR,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def wait_healthy(
    base: str, proc: asyncio.subprocess.Process, timeout_s: float = 300
) -> float:
    """Seconds until /healthz answered 200 (the bot trains at start: minutes when cold)."""
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() - started < timeout_s:
            if proc.returncode is not None:
                raise AssertionError(f"hub exited with {proc.returncode}")
            try:
                async with http.get(base + "/healthz") as resp:
                    if resp.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("hub did not become healthy")


def wechat_env(emulator: WeChatEmulator) -> dict[str, str]:
    return {
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_API_BASE": emulator.api_base,
    }


@dataclass
class Tally:
    """Per channel: messages sent, acknowledged on the first try, retried."""

    sent: dict[str, int] = field(default_factory=dict)
    acked_first_try: dict[str, int] = field(default_factory=dict)
    retried: dict[str, int] = field(default_factory=dict)

    def add(self, channel: str, *, acked: bool) -> None:
        self.sent[channel] = self.sent.get(channel, 0) + 1
        if acked:
            self.acked_first_try[channel] = self.acked_first_try.get(channel, 0) + 1


@dataclass
class RestCitizen:
    sender: str
    questions: list[tuple[str, str]]  # (message_id, text)
    unacked: list[tuple[str, str]] = field(default_factory=list)

    async def burst(self, http: aiohttp.ClientSession, base: str, tally: Tally) -> None:
        for mid, text in self.questions:
            ok = await _post_rest(http, base, self.sender, mid, text)
            tally.add("rest", acked=ok)
            if not ok:
                self.unacked.append((mid, text))

    async def retry(self, http: aiohttp.ClientSession, base: str, tally: Tally) -> None:
        for mid, text in self.unacked:
            tally.retried["rest"] = tally.retried.get("rest", 0) + 1
            assert await _post_rest(http, base, self.sender, mid, text), (self.sender, mid)


async def _post_rest(
    http: aiohttp.ClientSession, base: str, sender: str, mid: str, text: str
) -> bool:
    body = {"sender_id": sender, "text": text, "message_id": mid}
    try:
        async with http.post(base + REST, json=body) as resp:
            return resp.status == 200 and bool((await resp.json())["replies"])
    except (TimeoutError, aiohttp.ClientError):
        return False


@dataclass
class Visitor:
    """A web-chat widget: keeps its identity, resends what was not acknowledged."""

    texts: list[str]
    visitor: str = ""
    token: str = ""
    unacked: dict[str, str] = field(default_factory=dict)  # client_id -> text
    ids: itertools.count = field(default_factory=itertools.count)

    async def burst(self, http: aiohttp.ClientSession, base: str, tally: Tally) -> None:
        for text in self.texts:
            self.unacked[f"v{next(self.ids)}-{secrets.token_hex(4)}"] = text
        total = len(self.unacked)
        # The hub may die under us: the widget resends after reconnecting.
        with contextlib.suppress(TimeoutError, aiohttp.ClientError, ConnectionError):
            await self._session(http, base)
        acked = total - len(self.unacked)
        for i in range(total):
            tally.add("webchat", acked=i < acked)

    async def retry(self, http: aiohttp.ClientSession, base: str, tally: Tally) -> None:
        if self.unacked:
            tally.retried["webchat"] = tally.retried.get("webchat", 0) + len(self.unacked)
            await self._session(http, base)
        assert not self.unacked, self.unacked

    async def _session(self, http: aiohttp.ClientSession, base: str) -> None:
        url = base.replace("http", "ws", 1) + "/webchat/ws"
        async with http.ws_connect(url) as ws:
            await ws.send_json(
                {"type": "hello", "visitor": self.visitor, "token": self.token, "after": ""}
            )
            while True:
                frame = await _frame(ws)
                if frame["type"] == "welcome":
                    self.visitor, self.token = frame["visitor"], frame["token"]
                if frame["type"] == "synced":
                    break
            for client_id, text in list(self.unacked.items()):
                await ws.send_json({"type": "message", "client_id": client_id, "text": text})
                while True:
                    frame = await _frame(ws)
                    if frame["type"] == "ack" and frame["client_id"] == client_id:
                        del self.unacked[client_id]
                        break


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive(timeout=60)
    if msg.type is not aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"socket closed: {msg.type}")
    return json.loads(msg.data)


@dataclass
class WeChatUser:
    openid: str
    messages: list[tuple[int, str]]  # (MsgId, text)
    unanswered: list[tuple[int, str]] = field(default_factory=list)

    async def burst(
        self, http: aiohttp.ClientSession, base: str, emulator: WeChatEmulator, tally: Tally
    ) -> None:
        for msg_id, text in self.messages:
            ok = await _post_wechat(http, base, emulator, self.openid, msg_id, text)
            tally.add("wechat", acked=ok)
            if not ok:
                self.unanswered.append((msg_id, text))

    async def retry(
        self, http: aiohttp.ClientSession, base: str, emulator: WeChatEmulator, tally: Tally
    ) -> None:
        for msg_id, text in self.unanswered:
            tally.retried["wechat"] = tally.retried.get("wechat", 0) + 1
            assert await _post_wechat(http, base, emulator, self.openid, msg_id, text)


async def _post_wechat(
    http: aiohttp.ClientSession,
    base: str,
    emulator: WeChatEmulator,
    openid: str,
    msg_id: int,
    text: str,
) -> bool:
    emulator.user_wrote(openid)
    try:
        resp = await emulator.post(http, base + "/channels/wechat", text_xml(openid, text, msg_id))
    except (TimeoutError, aiohttp.ClientError):
        return False
    return resp.status == 200


async def kill_midway(
    proc: asyncio.subprocess.Process, burst: Awaitable[Any], after_s: float
) -> None:
    """Run burst; SIGKILL the hub after_s into it; wait for the burst's clients to give up."""
    task = asyncio.ensure_future(burst)
    await asyncio.sleep(after_s)
    proc.kill()
    await proc.wait()
    await task


def hub_env(
    mongo_url: str, db_name: str, port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()}
    env |= {
        "MONGO_URL": mongo_url,
        "MONGO_DB": db_name,
        "HUB_PORT": str(port),
        "HUB_VAR_DIR": str(REPO_DIR / "var"),  # share the bot's model caches between runs
        "HUB_LOG_LEVEL": "WARNING",
    }
    return env | (extra or {})
