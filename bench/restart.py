"""Restarts under load: `hub serve` on the embedded database (or MONGO_URL).

    python -m bench.restart [--sockets 1000] [--citizens 30]

1. Graceful restart: `--sockets` web-chat widgets connected (each said hello), SIGINT; how
   long the process takes to exit, how long the new one takes to answer /healthz (the bot
   loads its models), and how long until every widget is connected again.
2. SIGKILL mid-burst: REST citizens with message ids, web-chat widgets and WeChat users (the
   WeChat API emulator) all sending at once; the process is killed 1.5 s in and restarted;
   the clients retry what was not acknowledged, as the real ones do. Then: messages sent,
   acknowledged before the kill, lost (never stored), duplicated (stored or answered twice).

Prints one table and updates the "restart" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from typing import Any

import aiohttp

from bench.results import markdown_table, update_section
from hub.embedded_db import EmbeddedDatabase
from hub.settings import REPO_DIR
from mongo.client import connect
from primitives.net import free_port
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
    wechat_env,
)

DB_NAME = "bench_restart"


async def _open_widget(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url)
    await ws.send_json({"type": "hello", "visitor": "", "token": "", "after": ""})
    while (await ws.receive_json(timeout=60))["type"] != "synced":
        pass
    return ws


async def graceful(env: dict[str, str], base: str, sockets: int) -> dict[str, float]:
    url = base.replace("http", "ws", 1) + "/webchat/ws"
    proc = await start_hub(env)
    await wait_healthy(base, proc)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        widgets = []
        for start in range(0, sockets, 100):
            batch = min(100, sockets - start)
            widgets += await asyncio.gather(*(_open_widget(http, url) for _ in range(batch)))
        began = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        await proc.wait()
        stopped = time.perf_counter() - began
        codes = await asyncio.gather(*(ws.receive(timeout=5) for ws in widgets))
        restarted = await start_hub(env)
        began = time.perf_counter()
        healthy = await wait_healthy(base, restarted)
        again = []
        for start in range(0, sockets, 100):
            batch = min(100, sockets - start)
            again += await asyncio.gather(*(_open_widget(http, url) for _ in range(batch)))
        reconnected = time.perf_counter() - began
        for ws in again:
            await ws.close()
    restarted.terminate()
    await restarted.wait()
    told = sum(1 for c in codes if c.type is aiohttp.WSMsgType.CLOSE and c.data == 1012)
    return {"stop_s": stopped, "healthy_s": healthy, "reconnected_s": reconnected, "told": told}


async def killed(
    env: dict[str, str], base: str, citizens: int, db: Any, emulator: WeChatEmulator
) -> dict[str, int]:
    rest = [
        RestCitizen(f"bench-{s}", [(f"q{i}", q) for i, q in enumerate(KB_QUESTIONS)])
        for s in range(citizens)
    ]
    visitors = [Visitor(list(KB_QUESTIONS[:3])) for _ in range(citizens)]
    users = [
        WeChatUser(
            f"o_bench_{u}", [(7_000_000 + 10 * u + i, q) for i, q in enumerate(KB_QUESTIONS)]
        )
        for u in range(citizens)
    ]
    tally = Tally()
    first = await start_hub(env)
    await wait_healthy(base, first)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        burst = asyncio.gather(
            *(c.burst(http, base, tally) for c in rest),
            *(v.burst(http, base, tally) for v in visitors),
            *(u.burst(http, base, emulator, tally) for u in users),
        )
        await kill_midway(first, burst, after_s=1.5)
    second = await start_hub(env)
    await wait_healthy(base, second)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await asyncio.gather(
            *(c.retry(http, base, tally) for c in rest),
            *(v.retry(http, base, tally) for v in visitors),
            *(u.retry(http, base, emulator, tally) for u in users),
        )
    second.terminate()
    await second.wait()
    keys = [f"rest:api:{c.sender}/{mid}" for c in rest for mid, _ in c.questions]
    keys += [f"wechat:{APP_ID}:{mid}" for u in users for mid, _ in u.messages]
    webchat = await db["messages"].find({"direction": "in", "channel": "webchat"}).to_list(None)
    keys += [d["key"] for d in webchat]
    lost = duplicated = unanswered = 0
    for key in keys:
        stored = await db["messages"].count_documents({"key": key})
        answers = await db["messages"].count_documents({"key": key + ":r0"})
        lost += stored == 0
        duplicated += (stored > 1) + (answers > 1)
        unanswered += answers == 0
    sent = sum(tally.sent.values())
    lost += sent - len(keys)  # web-chat messages never stored do not appear in keys
    return {
        "sent": sent,
        "acked": sum(tally.acked_first_try.values()),
        "retried": sum(tally.retried.values()),
        "lost": lost,
        "duplicated": duplicated,
        "unanswered": unanswered,
    }


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sockets", type=int, default=1000)
    p.add_argument("--citizens", type=int, default=30)
    args = p.parse_args()
    external = os.environ.get("MONGO_URL")
    server = None
    if external:
        mongo_url, label = external, "MONGO_URL"
    else:
        server = EmbeddedDatabase(REPO_DIR / ".venv-db" / "bin" / "python", None)
        mongo_url, label = await server.start(), "embedded (in memory)"
    client, db = connect(mongo_url, DB_NAME)
    try:
        await client.drop_database(DB_NAME)
        async with WeChatEmulator() as emulator:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = hub_env(mongo_url, DB_NAME, port, wechat_env(emulator))
            g = await graceful(env, base, args.sockets)
            k = await killed(env, base, args.citizens, db, emulator)
    finally:
        await client.drop_database(DB_NAME)
        client.close()
        if server is not None:
            await server.stop()
    table = markdown_table(
        [
            "open widgets",
            "SIGINT → exit s",
            "told 1012",
            "restart → healthy s",
            "all widgets back s",
            "burst messages",
            "acked before the kill",
            "retried",
            "lost",
            "duplicated",
            "unanswered",
        ],
        [
            [
                args.sockets,
                round(g["stop_s"], 2),
                g["told"],
                round(g["healthy_s"], 1),
                round(g["reconnected_s"], 1),
                k["sent"],
                k["acked"],
                k["retried"],
                k["lost"],
                k["duplicated"],
                k["unanswered"],
            ]
        ],
    )
    text = (
        f"Database: {label}. `hub serve` with the WeChat API emulator. Graceful: "
        f"{args.sockets} web-chat widgets connected, SIGINT; the restart loads the bot's models "
        f"from the cache. SIGKILL: {args.citizens} REST citizens (4 questions each, message "
        f"ids), {args.citizens} widgets (3 messages) and {args.citizens} WeChat users (4 "
        f"messages) sending at once, the process killed 1.5 s in, restarted, and the clients "
        f"retrying what was not acknowledged. Targets: SIGINT → exit ≤ 5 s; 0 lost, 0 "
        f"duplicated.\n\n{table}"
    )
    print(text)
    update_section("restart", "Restarts (bench/restart.py)", text)


if __name__ == "__main__":
    asyncio.run(main())
