"""Hostile input against a running `hub demo`, as an outsider would send it: every route of
the app and both WebSockets, with requests drawn by hypothesis from tests/security/strategies.py
(half of them from a signed-in supervisor, a share of the webhook ones validly signed).

    python -m bench.fuzz [--examples 5000]

Prints requests fuzzed, responses 5xx, socket sessions and sockets closed as broken (1002,
1011), and whether the process still answers, and updates the "fuzz" section of
bench/RESULTS.md. tests/security/test_fuzz.py runs the same draws in-process, fewer of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.results import markdown_table, update_section
from hub.app import create_app
from hub.settings import REPO_DIR, load_settings
from primitives.net import free_port
from tests.security.strategies import (
    SMS_SECRET,
    TELEGRAM_SECRET,
    WECHAT_TOKEN,
    WS_FRAMES,
    FuzzRequest,
    requests,
)
from tests.security.test_fuzz import DELIBERATE_CLOSE, HTTP_SHARE, play_frames, public_routes

T = TypeVar("T")
SUPERVISOR = ("supervisor", "super12345")  # hub/data/demo.yaml
ENV = {
    "WECHAT_APP_ID": "wx1234567890abcdef",
    "WECHAT_TOKEN": WECHAT_TOKEN,
    "WECHAT_APP_SECRET": "fuzz-app-secret",
    "SMS_HTTP_URL": "http://127.0.0.1:9/send",
    "SMS_WEBHOOK_SECRET": SMS_SECRET,
    "TELEGRAM_BOT_TOKEN": "123456:FUZZ-token_abcdefghijklmnopqrstuvwx",
    "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
    "TELEGRAM_API_BASE": "http://127.0.0.1:9",
}


class Loop:
    """An event loop in a thread: hypothesis calls the test synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


async def _wait_healthy(base: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(1200):
            if proc.returncode is not None:
                raise RuntimeError(f"hub exited with {proc.returncode}")
            try:
                async with http.get(base + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError("hub did not become healthy")


async def _send(http: aiohttp.ClientSession, base: str, req: FuzzRequest, csrf: str) -> int:
    headers = dict(req.headers)
    if csrf:
        headers.setdefault("X-CSRF-Token", csrf)
    async with http.request(
        req.method,
        base + req.path,
        params=req.query,
        headers=headers,
        data=req.body or None,
        allow_redirects=False,
    ) as resp:
        await resp.read()
        return resp.status


async def _socket(http: aiohttp.ClientSession, url: str, frames: list[str]) -> int | None:
    try:
        ws = await http.ws_connect(url)
    except aiohttp.WSServerHandshakeError as e:
        return None if e.status < 500 else 1011
    return await play_frames(ws, frames)


def fuzz(examples: int, base: str, loop: Loop, routes: list[tuple[str, str]]) -> dict[str, Any]:
    anonymous = loop.run(_session())
    staff = loop.run(_session())
    csrf = loop.run(_sign_in(staff, base))
    counts: Counter[str] = Counter()
    failures: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        if data.draw(st.floats(0, 1)) < HTTP_SHARE:
            req = data.draw(requests(routes))
            signed_in = data.draw(st.booleans()) and req.path != "/api/v1/auth/logout"
            http, token = (staff, csrf) if signed_in else (anonymous, "")
            try:
                status = loop.run(_send(http, base, req, token))
            except (aiohttp.ClientError, TimeoutError) as e:
                status = 599
                failures.append(f"{type(e).__name__}: {req.describe()}")
            counts["requests"] += 1
            if status >= 500:
                counts["5xx"] += 1
                failures.append(f"{status}: {req.describe()}")
        else:
            frames = data.draw(st.lists(WS_FRAMES, min_size=1, max_size=4))
            for path, http in (("/webchat/ws", anonymous), ("/api/v1/agent/ws", staff)):
                url = base.replace("http", "ws", 1) + path
                code = loop.run(_socket(http, url, frames))
                counts["sockets"] += 1
                if not (code is None or code in DELIBERATE_CLOSE or 4000 <= code < 5000):
                    counts["sockets broken"] += 1
                    failures.append(f"socket {path} closed {code}: {frames!r:.300}")

    started = time.perf_counter()
    one()
    elapsed = time.perf_counter() - started
    loop.run(anonymous.close())
    loop.run(staff.close())
    return {"counts": counts, "failures": failures, "seconds": elapsed}


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _sign_in(http: aiohttp.ClientSession, base: str) -> str:
    login, password = SUPERVISOR
    async with http.post(
        base + "/api/v1/auth/login", json={"login": login, "password": password}
    ) as resp:
        if resp.status != 200:
            raise RuntimeError(f"demo sign-in failed: {resp.status} {await resp.text()}")
        return (await resp.json())["csrf_token"]


async def _alive(base: str, proc: asyncio.subprocess.Process) -> bool:
    if proc.returncode is not None:
        return False
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            base + "/api/v1/channels/rest/messages",
            json={"sender_id": "after-fuzz", "text": "你好"},
        ) as resp,
    ):
        return resp.status == 200


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--examples", type=int, default=5000)
    args = p.parse_args()
    var = REPO_DIR / "var" / "bench-fuzz"
    shutil.rmtree(var / "db", ignore_errors=True)
    (var / "db").mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"} | ENV
    env |= {
        "HUB_PORT": str(port),
        "HUB_VAR_DIR": str(REPO_DIR / "var"),  # the bot's model caches
        "HUB_DB_PATH": str(var / "db" / "hub.sqlite"),
        "HUB_LOG_LEVEL": "WARNING",
    }
    routes = public_routes(create_app(load_settings(mongo_url="mongodb://unused/", **_lower(ENV))))
    loop = Loop()
    proc = loop.run(
        asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub.cli",
            "demo",
            cwd=REPO_DIR,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    )
    try:
        loop.run(_wait_healthy(base, proc), timeout=400)
        result = fuzz(args.examples, base, loop, routes)
        alive = loop.run(_alive(base, proc))
    finally:
        if proc.returncode is None:
            proc.terminate()
        loop.run(proc.wait(), timeout=60)
    counts, failures = result["counts"], result["failures"]
    for line in failures[:20]:
        print(line)
    table = markdown_table(
        [
            "routes",
            "requests fuzzed",
            "5xx",
            "socket sessions",
            "sockets closed as broken",
            "process answers afterwards",
            "seconds",
        ],
        [
            [
                len(routes),
                counts["requests"],
                counts["5xx"],
                counts["sockets"],
                counts["sockets broken"],
                "yes" if alive else "NO",
                round(result["seconds"]),
            ]
        ],
    )
    text = (
        f"A `hub demo` process (embedded database, WeChat, SMS-webhook and Telegram-webhook "
        f"channels configured) fed {args.examples:,} hypothesis examples from "
        f"tests/security/strategies.py: {int(HTTP_SHARE * 100)}% single HTTP requests to any "
        f"route (half signed in as the demo supervisor, webhooks partly validly signed), the "
        f"rest sessions of 1–4 frames on the web-chat and agent sockets. Target: no 5xx, no "
        f"socket closed as broken, the process alive.\n\n{table}"
    )
    print(text)
    update_section("fuzz", "Fuzzing (bench/fuzz.py)", text)


def _lower(env: dict[str, str]) -> dict[str, Any]:
    return {k.lower(): v for k, v in env.items()}


if __name__ == "__main__":
    main()
