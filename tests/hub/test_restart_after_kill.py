"""A `hub serve` process killed with SIGKILL loses nothing: after a restart every waiting
conversation is back in its queue, in the order it arrived, and none is assigned twice."""

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from hub.net import free_port
from hub.settings import REPO_DIR
from mongo.client import Database
from tests.agent_web.conftest import PASSWORD, routing_file, seed_staff
from tests.hub.test_cli_serve import _wait_healthy

WAITING = 100
REST = "/api/v1/channels/rest/messages"


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "serve",
        cwd=REPO_DIR,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _sign_in(http: aiohttp.ClientSession, base: str, login: str) -> str:
    async with http.post(
        f"{base}/api/v1/auth/login", json={"login": login, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["csrf_token"]


async def _general_queue(http: aiohttp.ClientSession, base: str) -> dict:
    async with http.get(f"{base}/api/v1/agent/waiting") as resp:
        assert resp.status == 200, await resp.text()
        queues = (await resp.json())["waiting"]
    return next(q for q in queues if q["queue"] == "general")


async def test_sigkill_then_restart_keeps_every_waiting_conversation_in_order(
    db: Database, mongo_url: str, db_name: str, tmp_path: Path
):
    await seed_staff(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "MONGO_URL": mongo_url,
        "MONGO_DB": db_name,
        "HUB_PORT": str(port),
        "HUB_VAR_DIR": str(REPO_DIR / "var"),  # share the bot's model caches between runs
        "HUB_ROUTING_CONFIG": str(routing_file(tmp_path)),  # no business hours: any time
    }
    first = await _start(env)
    try:
        await _wait_healthy(f"{base}/healthz", first)
        conversations = []
        async with aiohttp.ClientSession() as http:
            for n in range(WAITING):  # one after another: arrival order is the queue order
                body = {"sender_id": f"kill-{n:03d}", "text": "转人工"}
                async with http.post(base + REST, json=body) as resp:
                    assert resp.status == 200, await resp.text()
                    reply = await resp.json()
                assert reply["state"] == "queued"
                conversations.append(reply["conversation_id"])
    finally:
        first.kill()  # SIGKILL: no shutdown code runs
        await first.wait()

    second = await _start(env)
    try:
        await _wait_healthy(f"{base}/healthz", second)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            csrf = await _sign_in(http, base, "agent1")
            general = await _general_queue(http, base)
            assert general["count"] == WAITING
            shown = [e["conversation_id"] for e in general["entries"]]
            assert shown == conversations[: len(shown)]
            async with http.post(
                f"{base}/api/v1/agent/status",
                json={"status": "ready"},
                headers={"X-CSRF-Token": csrf},
            ) as resp:
                assert resp.status == 200, await resp.text()
            for _ in range(100):  # offers go out at once; the poll only waits for the HTTP side
                general = await _general_queue(http, base)
                if general["count"] < WAITING:
                    break
                await asyncio.sleep(0.1)
    finally:
        second.terminate()
        await second.wait()
    # agent1 takes up to 4 chats: the oldest ones; the rest keep their order
    taken = WAITING - general["count"]
    assert 1 <= taken <= 4
    shown = [e["conversation_id"] for e in general["entries"]]
    assert shown == conversations[taken : taken + len(shown)]
    docs = await db["conversations"].find({"_id": {"$in": conversations}}).to_list(None)
    assert len(docs) == WAITING
    assert all(d.get("agent") in (None, "agent1") for d in docs)
    assert await db["messages"].count_documents({"channel": "rest", "direction": "in"}) == WAITING
