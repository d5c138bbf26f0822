"""A `hub serve` process killed with SIGKILL in the middle of a mixed burst loses nothing and
duplicates nothing: after a restart every waiting conversation is back in its queue in the
order it arrived, every citizen message is stored once and answered, and an agent's reply
that was stored while the provider was down is delivered once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from mongo.client import Database
from primitives.net import free_port
from tests.agent_web.conftest import PASSWORD, routing_file, seed_staff
from tests.emulators.wechat import APP_ID, WeChatEmulator
from tests.hub.restart_scenario import (
    KB_QUESTIONS,
    RestCitizen,
    Tally,
    Visitor,
    WeChatUser,
    hub_env,
    kill_midway,
    start_hub,
    wait_healthy,
)

WAITING = 60
REST = "/api/v1/channels/rest/messages"
AGENT_REPLY = "您好，我是张伟，您反映的问题已登记"


async def _sign_in(http: aiohttp.ClientSession, base: str, login: str) -> str:
    async with http.post(
        f"{base}/api/v1/auth/login", json={"login": login, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["csrf_token"]


async def _call(
    http: aiohttp.ClientSession, csrf: str, method: str, url: str, body: object
) -> dict:
    async with http.request(method, url, json=body, headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def _general_queue(http: aiohttp.ClientSession, base: str) -> dict:
    async with http.get(f"{base}/api/v1/agent/waiting") as resp:
        assert resp.status == 200, await resp.text()
        queues = (await resp.json())["waiting"]
    return next(q for q in queues if q["queue"] == "general")


def _burst_cast() -> tuple[list[RestCitizen], list[Visitor], list[WeChatUser]]:
    rest = [
        RestCitizen(f"burst-{s}", [(f"q{i}", KB_QUESTIONS[i]) for i in range(len(KB_QUESTIONS))])
        for s in range(6)
    ]
    visitors = [Visitor(list(KB_QUESTIONS[:3])) for _ in range(6)]
    wechat = [
        WeChatUser(
            f"o_burst_{u}", [(9_000_000 + 10 * u + i, q) for i, q in enumerate(KB_QUESTIONS)]
        )
        for u in range(6)
    ]
    return rest, visitors, wechat


async def test_sigkill_mid_burst_then_restart_loses_and_duplicates_nothing(
    db: Database, mongo_url: str, db_name: str, tmp_path: Path
):
    await seed_staff(db)
    async with WeChatEmulator() as wechat:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = hub_env(
            mongo_url,
            db_name,
            port,
            {
                "WECHAT_APP_ID": "wx1234567890abcdef",
                "WECHAT_APP_SECRET": "emulator-app-secret",
                "WECHAT_TOKEN": "emulatortoken123",
                "WECHAT_API_BASE": wechat.api_base,
                "HUB_ROUTING_CONFIG": str(routing_file(tmp_path)),  # no business hours
                "HUB_OUTBOX_BACKOFF_S": "[60, 60]",  # a failed send waits past the kill
            },
        )
        rest, visitors, users = _burst_cast()
        tally = Tally()
        first = await start_hub(env)
        try:
            await wait_healthy(base, first)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                # agent2 serves a WeChat citizen, then goes busy: the queue below stays whole
                csrf = await _sign_in(http, base, "agent2")
                await _call(http, csrf, "POST", f"{base}/api/v1/agent/status", {"status": "ready"})
                served = WeChatUser("o_served", [(8_000_001, "转人工")])
                await served.burst(http, base, wechat, Tally())
                inbox = await (await http.get(f"{base}/api/v1/agent/inbox")).json()
                (conv,) = [c for c in inbox["conversations"] if c["channel"] == "wechat"]
                await _call(http, csrf, "POST", f"{base}/api/v1/agent/status", {"status": "busy"})
                # the provider is down when agent2 answers: the reply is stored, not sent
                wechat.outage_next = 1000
                await _call(
                    http,
                    csrf,
                    "POST",
                    f"{base}/api/v1/agent/conversations/{conv['id']}/messages",
                    {"text": AGENT_REPLY, "client_id": "k-agent2-1"},
                )
                conversations = []
                for n in range(WAITING):  # one after another: arrival order is queue order
                    body = {"sender_id": f"kill-{n:03d}", "text": "转人工"}
                    async with http.post(base + REST, json=body) as resp:
                        assert resp.status == 200, await resp.text()
                        conversations.append((await resp.json())["conversation_id"])

                burst = asyncio.gather(
                    *(c.burst(http, base, tally) for c in rest),
                    *(v.burst(http, base, tally) for v in visitors),
                    *(u.burst(http, base, wechat, tally) for u in users),
                )
                await kill_midway(first, burst, after_s=1.0)
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()

        wechat.outage_next = 0  # the provider is back
        second = await start_hub(env)
        try:
            await wait_healthy(base, second)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                await asyncio.gather(
                    *(c.retry(http, base, tally) for c in rest),
                    *(v.retry(http, base, tally) for v in visitors),
                    *(u.retry(http, base, wechat, tally) for u in users),
                )
                for _ in range(100):  # resumed at start; the poll only waits for the send
                    if AGENT_REPLY in wechat.texts_to("o_served"):
                        break
                    await asyncio.sleep(0.1)
                csrf = await _sign_in(http, base, "agent1")
                general = await _general_queue(http, base)
                assert general["count"] == WAITING
                shown = [e["conversation_id"] for e in general["entries"]]
                assert shown == conversations[: len(shown)]
                await _call(http, csrf, "POST", f"{base}/api/v1/agent/status", {"status": "ready"})
                for _ in range(100):  # offers go out at once; the poll waits for the HTTP side
                    general = await _general_queue(http, base)
                    if general["count"] < WAITING:
                        break
                    await asyncio.sleep(0.1)
        finally:
            second.terminate()
            await second.wait()

    # the queue: agent1 takes up to 4 chats, the oldest; the rest keep their order
    taken = WAITING - general["count"]
    assert 1 <= taken <= 4
    shown = [e["conversation_id"] for e in general["entries"]]
    assert shown == conversations[taken : taken + len(shown)]
    # the agent's reply went out once, after the restart
    assert wechat.texts_to("o_served").count(AGENT_REPLY) == 1
    # every citizen message of the burst is stored once, and answered once
    keys = [f"rest:api:{c.sender}/{mid}" for c in rest for mid, _ in c.questions]
    keys += [f"wechat:{APP_ID}:{mid}" for u in users for mid, _ in u.messages]
    stored = await db["messages"].find({"direction": "in", "channel": "webchat"}).to_list(None)
    keys += [d["key"] for d in stored]
    assert len(stored) == sum(len(v.texts) for v in visitors)
    for key in keys:
        assert await db["messages"].count_documents({"key": key}) == 1, key
        assert await db["messages"].count_documents({"key": key + ":r0"}) == 1, key
    assert sum(tally.sent.values()) == len(keys)
