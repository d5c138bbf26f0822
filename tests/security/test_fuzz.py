"""Every public endpoint and socket frame, fed hostile input drawn by hypothesis: never a 5xx,
and the process keeps answering (bench/fuzz.py runs the same with many more examples)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from hub.app import create_app
from hub.settings import REPO_DIR, Settings
from mongo.client import Database
from tests.agent_web.conftest import PASSWORD, seed_staff
from tests.emulators.telegram_api import TOKEN as TELEGRAM_TOKEN
from tests.emulators.telegram_api import TelegramEmulator
from tests.security.strategies import (
    SMS_SECRET,
    TELEGRAM_SECRET,
    WECHAT_TOKEN,
    WS_FRAMES,
    FuzzRequest,
    requests,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))


@dataclass
class Target:
    client: TestClient
    routes: list[tuple[str, str]]
    staff: aiohttp.ClientSession
    csrf: str

    def url(self, path: str) -> str:
        return str(self.client.make_url(path))


def public_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every route, static files excepted."""
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path")
        if template and route.method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            found.add((route.method, template))
    return sorted(found)


def fuzz_settings(base: Settings) -> Settings:
    return base.model_copy(
        update={
            "wechat_app_id": "wx1234567890abcdef",
            "wechat_token": SecretStr(WECHAT_TOKEN),
            "wechat_app_secret": SecretStr("fuzz-app-secret"),
            "sms_http_url": "http://127.0.0.1:9/send",  # nothing listens: sends fail and retry
            "sms_webhook_secret": SecretStr(SMS_SECRET),
            "telegram_bot_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def target(
    aiohttp_client, settings: Settings, db: Database, tmp_path: Path
) -> AsyncIterator[Target]:
    await seed_staff(db)
    telegram = await TelegramEmulator().start()
    the_settings = fuzz_settings(settings).model_copy(
        # the real bot (NLU and knowledge base) with the repository's model caches
        update={"telegram_api_base": telegram.base_url, "hub_var_dir": REPO_DIR / "var"}
    )
    app = create_app(the_settings)
    client = await aiohttp_client(app)
    staff = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    resp = await staff.post(
        str(client.make_url("/api/v1/auth/login")), json={"login": "super", "password": PASSWORD}
    )
    assert resp.status == 200, await resp.text()
    csrf = (await resp.json())["csrf_token"]
    yield Target(client, public_routes(app), staff, csrf)
    await staff.close()
    await telegram.close()


async def send(target: Target, req: FuzzRequest, *, signed_in: bool) -> int:
    http = target.staff if signed_in else target.client.session
    headers = dict(req.headers)
    if signed_in:
        headers.setdefault("X-CSRF-Token", target.csrf)
    async with http.request(
        req.method,
        target.url(req.path),
        params=req.query,
        headers=headers,
        data=req.body or None,
        allow_redirects=False,
    ) as resp:
        await resp.read()
        return resp.status


def test_every_route_is_fuzzed(settings: Settings):
    """The fuzz below draws from the real app's routes, the channels' webhooks included."""
    templates = {t for _, t in public_routes(create_app(fuzz_settings(settings)))}
    for expected in (
        "/api/v1/channels/rest/messages",
        "/channels/wechat",
        "/channels/sms/webhook",
        "/channels/telegram/webhook",
        "/api/v1/auth/login",
        "/webchat/upload",
    ):
        assert expected in templates


HTTP_SHARE = 0.8  # of the examples; the rest are socket sessions
# Normal, going away, policy, too big, restart, try later: refusals, not crashes (1002/1011).
DELIBERATE_CLOSE = (1000, 1001, 1008, 1009, 1012, 1013)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_hostile_requests_and_frames_get_no_server_error(target: Target, data: st.DataObject):
    """One app for every example (its set-up trains the bot): each example is one request or
    one socket session, and the hub must still answer afterwards."""
    if data.draw(st.floats(0, 1)) < HTTP_SHARE:
        req = data.draw(requests(target.routes))
        # The signed-in session must outlive the fuzz: it never signs itself out.
        signed_in = data.draw(st.booleans()) and req.path != "/api/v1/auth/logout"
        status = await send(target, req, signed_in=signed_in)
        assert status < 500, req.describe()
    else:
        frames = data.draw(st.lists(WS_FRAMES, min_size=1, max_size=4))
        for path in ("/webchat/ws", "/api/v1/agent/ws"):
            code = await socket_session(target, path, frames)
            assert code is None or code in DELIBERATE_CLOSE or 4000 <= code < 5000, (path, frames)
    resp = await target.client.get("/healthz")
    assert resp.status == 200


async def socket_session(target: Target, path: str, frames: list[str]) -> int | None:
    """Send frames, then a ping; the close code if the server closed the socket, else None."""
    http = target.client.session if path.startswith("/webchat") else target.staff
    try:
        ws = await http.ws_connect(target.url(path))
    except aiohttp.WSServerHandshakeError as e:
        refused = e.status  # e.g. 401: not signed in; the caller still checks the status
    else:
        refused = 0
    if refused:
        return None if refused < 500 else 1011
    return await play_frames(ws, frames)


async def play_frames(ws: aiohttp.ClientWebSocketResponse, frames: list[str]) -> int | None:
    """Send frames, then a ping and wait for its pong; the close code if the server closed the
    socket meanwhile, else None (used by bench/fuzz.py too)."""
    async with ws:
        for frame in frames:
            if ws.closed:
                break
            await ws.send_str(frame)
        if not ws.closed:
            await ws.send_str(json.dumps({"type": "ping"}))
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                if json.loads(msg.data).get("type") == "pong":
                    break
        return ws.close_code
