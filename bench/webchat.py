"""Web chat under load: concurrent WebSocket visitors against `hub serve` with the embedded
NLU + knowledge base, on the embedded database (or MONGO_URL when set).

    python -m bench.webchat [--rates 2,4,8,12] [--duration 60] [--visitors 50] [--idle 1000]
                            [--prefill 100000]

For each offered rate (messages per second over all visitors, each visitor waiting for its
answer before its next question) it reports messages lost, p50/p99 visitor→bot reply,
database operations per message (the server's own opcounters: serverStatus), and the hub's
RSS. "Highest rate held" is the highest rate whose p99 stayed ≤ 150 ms for the whole run.
Then it opens `--idle` visitors that only say hello and reports their memory cost.
`--prefill N` first stores N messages of history (bench/fill.py), so the figures hold for a
database that has been in use, not an empty one.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bench.fill import fill_to
from bench.results import markdown_table, percentile_ms, update_section
from hub.embedded_db import EmbeddedDatabase
from hub.settings import REPO_DIR
from mongo.client import connect
from mongo.indexes import ensure_indexes
from primitives.net import free_port

QUESTIONS = [
    "新生儿医保怎么办理？",
    "停水了怎么查询原因",
    "身份证丢了怎么补办",
    "公积金怎么提取",
    "居住证在哪里办",
    "你好",
    "谢谢",
]
TARGET_P99_MS = 150.0


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@asynccontextmanager
async def running_hub(mongo_url: str, db_name: str, var_dir: Path):
    port = free_port()
    env = os.environ | {
        "MONGO_URL": mongo_url,
        "MONGO_DB": db_name,
        "HUB_PORT": str(port),
        "HUB_VAR_DIR": str(var_dir),
        "HUB_LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "serve",
        cwd=REPO_DIR,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):
                if proc.returncode is not None:
                    raise RuntimeError(f"hub exited with {proc.returncode}")
                try:
                    async with http.get(base + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        yield base, proc.pid
    finally:
        proc.terminate()
        await proc.wait()


class Visitor:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.url = base.replace("http", "ws", 1) + "/webchat/ws"
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ids = itertools.count()

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(self.url, max_msg_size=0)
        await self.ws.send_json({"type": "hello", "visitor": "", "token": "", "after": ""})
        while (await self._frame())["type"] != "synced":
            pass

    async def ask(self, text: str) -> tuple[float, bool]:
        """(seconds until the bot's answer, acked and answered)."""
        assert self.ws is not None
        client_id = f"bench{next(self.ids):06d}{random.randrange(16**6):06x}"
        started = time.perf_counter()
        await self.ws.send_json({"type": "message", "client_id": client_id, "text": text})
        acked = answered = False
        while not answered:
            frame = await self._frame()
            if frame["type"] == "ack" and frame["client_id"] == client_id:
                acked = True
            elif frame["type"] == "message" and frame["sender"] == "bot" and acked:
                answered = True
            elif frame["type"] == "error":
                return time.perf_counter() - started, False
        return time.perf_counter() - started, True

    async def _frame(self) -> dict[str, Any]:
        assert self.ws is not None
        msg = await self.ws.receive(timeout=30)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {msg.type}")
        return json.loads(msg.data)


async def opcounters(mongo_url: str) -> dict[str, int]:
    client, db = connect(mongo_url)
    try:
        status = await db.command("serverStatus")
        return {k: int(v) for k, v in status.get("opcounters", {}).items()}
    finally:
        client.close()


async def load_step(
    base: str, pid: int, mongo_url: str, rate: float, duration_s: float, visitors: int
) -> list[object]:
    latencies: list[float] = []
    sent = answered = 0
    async with aiohttp.ClientSession() as http:
        crowd = [Visitor(http, base) for _ in range(visitors)]
        await asyncio.gather(*(v.open() for v in crowd))
        before = await opcounters(mongo_url)
        deadline = time.perf_counter() + duration_s
        interval = visitors / rate  # each visitor's pace, so the crowd offers `rate`

        async def run(v: Visitor, offset: float) -> None:
            nonlocal sent, answered
            await asyncio.sleep(offset)
            next_at = time.perf_counter()
            while time.perf_counter() < deadline:
                sent += 1
                try:
                    took, ok = await v.ask(random.choice(QUESTIONS))
                except (ConnectionError, TimeoutError):
                    continue
                if ok:
                    answered += 1
                    latencies.append(took)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

        await asyncio.gather(*(run(v, i * interval / visitors) for i, v in enumerate(crowd)))
        after = await opcounters(mongo_url)
        rss = _rss_mb(pid)
        for v in crowd:
            assert v.ws is not None
            await v.ws.close()
    per = {k: (after.get(k, 0) - before.get(k, 0)) / max(answered, 1) for k in after}
    writes = per.get("insert", 0) + per.get("update", 0) + per.get("delete", 0)
    achieved = answered / duration_s
    return [
        rate,
        round(achieved, 1),
        sent,
        sent - answered,
        percentile_ms(latencies, 50),
        percentile_ms(latencies, 99),
        round(writes, 2),
        round(per.get("query", 0) + per.get("command", 0), 2),
        round(rss, 1),
    ]


async def idle_cost(base: str, pid: int, n: int) -> list[object]:
    before = _rss_mb(pid)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        crowd = [Visitor(http, base) for _ in range(n)]
        for batch in range(0, n, 100):
            await asyncio.gather(*(v.open() for v in crowd[batch : batch + 100]))
        await asyncio.sleep(2)
        after = _rss_mb(pid)
        for v in crowd:
            assert v.ws is not None
            await v.ws.close()
    return [n, round(before, 1), round(after, 1), round((after - before) * 1024 / n, 1)]


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rates", default="2,4,8,12,16")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--visitors", type=int, default=40)
    p.add_argument("--idle", type=int, default=1000)
    p.add_argument("--prefill", type=int, default=100_000, help="messages stored before the run")
    args = p.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    var = REPO_DIR / "var"
    external = os.environ.get("MONGO_URL")
    server = None
    if external:
        mongo_url, label = external, "MONGO_URL"
    else:
        server = EmbeddedDatabase(
            REPO_DIR / ".venv-db" / "bin" / "python", var / "bench-webchat.sqlite"
        )
        mongo_url, label = await server.start(), "embedded (mongoeco/SQLite)"
    rows, idle = [], []
    try:
        client, db = connect(mongo_url, "bench_webchat")
        await client.drop_database("bench_webchat")
        await ensure_indexes(db)
        stored = await fill_to(db, args.prefill) if args.prefill else 0
        client.close()
        async with running_hub(mongo_url, "bench_webchat", var) as (base, pid):
            for rate in rates:
                row = await load_step(base, pid, mongo_url, rate, args.duration, args.visitors)
                rows.append(row)
                print(row, flush=True)
                if row[5] > TARGET_P99_MS * 2:
                    break  # far past the target: higher rates only queue up
            if args.idle:
                idle.append(await idle_cost(base, pid, args.idle))
    finally:
        client, _ = connect(mongo_url)
        await client.drop_database("bench_webchat")
        client.close()
        if server is not None:
            await server.stop()
    held = [r[0] for r in rows if r[3] == 0 and r[5] <= TARGET_P99_MS]
    t1 = markdown_table(
        [
            "offered msg/s",
            "answered msg/s",
            "sent",
            "lost",
            "p50 ms",
            "p99 ms",
            "DB writes/msg",
            "DB reads+commands/msg",
            "hub RSS MB",
        ],
        rows,
    )
    t2 = markdown_table(["idle visitors", "RSS before MB", "RSS after MB", "KiB per visitor"], idle)
    text = (
        f"Database: {label}, holding {stored:,} messages of history before the run. "
        f"{args.visitors} WebSocket visitors, {args.duration:.0f} s per rate, "
        f"each visitor waits for its answer before the next question (questions: KB articles "
        f"and small talk). Highest rate held with p99 ≤ {TARGET_P99_MS:.0f} ms and nothing lost: "
        f"**{max(held) if held else 'none of the rates tried'} msg/s**.\n\n{t1}\n\n"
        f"Idle visitors (connected, said hello, nothing else):\n\n{t2}"
    )
    print(text)
    update_section("webchat", "Web chat (bench/webchat.py)", text)


if __name__ == "__main__":
    asyncio.run(main())
