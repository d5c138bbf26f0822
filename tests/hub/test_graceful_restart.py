"""A graceful restart (SIGINT) with citizens and an agent connected keeps the work where it
was: the agent's conversation stays assigned to them and their status stays ready, and the
open web-chat widgets are told the service restarts (1012) rather than left to time out."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from mongo.client import Database
from primitives.net import free_port
from tests.agent_web.conftest import PASSWORD, routing_file, seed_staff
from tests.hub.restart_scenario import hub_env, start_hub, wait_healthy

OPEN_VISITORS = 20


async def _until_closed(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    """The close frame, after whatever was still on its way (an agent's greeting, a typing hint)."""
    while True:
        msg = await ws.receive(timeout=60)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return msg


async def _hello(ws: aiohttp.ClientWebSocketResponse, visitor: str = "", token: str = "") -> dict:
    await ws.send_json({"type": "hello", "visitor": visitor, "token": token, "after": ""})
    welcome: dict = {}
    while True:
        frame = await ws.receive_json(timeout=30)
        if frame["type"] == "welcome":
            welcome = frame
        if frame["type"] == "synced":
            return welcome


async def test_a_graceful_restart_keeps_assignments_and_agent_status(
    db: Database, mongo_url: str, db_name: str, tmp_path: Path
):
    await seed_staff(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ws_base = base.replace("http", "ws", 1)
    config = routing_file(tmp_path, general={"auto_accept": True})
    env = hub_env(mongo_url, db_name, port, {"HUB_ROUTING_CONFIG": str(config)})
    first = await start_hub(env)
    agent = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    citizens = aiohttp.ClientSession()
    try:
        await wait_healthy(base, first)
        async with agent.post(
            f"{base}/api/v1/auth/login", json={"login": "agent1", "password": PASSWORD}
        ) as resp:
            csrf = (await resp.json())["csrf_token"]
        feed = await agent.ws_connect(f"{ws_base}/api/v1/agent/ws")
        async with agent.post(
            f"{base}/api/v1/agent/status",
            json={"status": "ready"},
            headers={"X-CSRF-Token": csrf},
        ) as resp:
            assert resp.status == 200, await resp.text()
        widgets = [await citizens.ws_connect(f"{ws_base}/webchat/ws") for _ in range(OPEN_VISITORS)]
        welcomes = [await _hello(ws) for ws in widgets]
        await widgets[0].send_json({"type": "message", "client_id": "graceful-1", "text": "转人工"})
        frame: dict = {}
        while frame != {"type": "state", "state": "assigned"}:
            frame = await widgets[0].receive_json(timeout=30)
        conv = await db["conversations"].find_one({"agent": "agent1"})
        assert conv is not None

        first.send_signal(signal.SIGINT)
        closes = await asyncio.gather(*(_until_closed(ws) for ws in widgets))
        assert {c.type for c in closes} == {aiohttp.WSMsgType.CLOSE}
        assert {c.data for c in closes} == {1012}  # "service restart": the widget reconnects
        assert await asyncio.wait_for(first.wait(), 60) == 0
        await feed.close()

        second = await start_hub(env)
        try:
            await wait_healthy(base, second)
            # the inbox reconnects its feed within the grace period
            feed = await agent.ws_connect(f"{ws_base}/api/v1/agent/ws")
            hello = await feed.receive_json(timeout=30)
            assert hello["me"]["status"] == "ready"
            after = await db["conversations"].find_one({"_id": conv["_id"]})
            assert after["agent"] == "agent1"
            assert after["state"] == "assigned"
            # the widget comes back to the same conversation, still with its agent
            again = await citizens.ws_connect(f"{ws_base}/webchat/ws")
            resumed = await _hello(again, welcomes[0]["visitor"], welcomes[0]["token"])
            assert resumed["state"] == "assigned"
            await again.close()
            await feed.close()
        finally:
            second.terminate()
            await second.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
        await agent.close()
        await citizens.close()
