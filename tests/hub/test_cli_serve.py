"""`hub serve` as a user runs it: embedded database child, /healthz, clean stop on SIGTERM."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from hub.settings import REPO_DIR
from primitives.net import free_port


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


async def _wait_healthy(url: str, proc: asyncio.subprocess.Process) -> dict:
    async with aiohttp.ClientSession() as http:
        # a first start embeds every KB question and the NLU examples (no cache yet): allow
        # minutes, a hang still fails
        for _ in range(3000):
            if proc.returncode is not None:
                raise AssertionError(f"hub exited with {proc.returncode}")
            try:
                async with http.get(url) as resp:
                    return await resp.json()
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise AssertionError("hub did not become healthy")


async def test_hub_demo_starts_embedded_db_serves_health_and_stops_cleanly(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"}
    env |= {
        "HUB_PORT": str(port),
        "HUB_DB_PATH": str(tmp_path / "hub.sqlite"),
        "HUB_VAR_DIR": str(tmp_path),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "demo",
        cwd=REPO_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        health = await _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        assert health["database"] == {"status": "up", "kind": "embedded"}
        assert health["bot"]["kb"]["articles"] == 161  # the shipped KB, seeded into MongoDB
        assert health["bot"]["nlu"]["backend"] == "embedded"
        children = _children(proc.pid)
        assert children, "the embedded database should run as a child process"
        async with aiohttp.ClientSession() as http:
            question = {"sender_id": "demo-visitor", "text": "宝宝刚出生，医保怎么给他办？"}
            async with http.post(
                f"http://127.0.0.1:{port}/api/v1/channels/rest/messages", json=question
            ) as resp:
                assert resp.status == 200
                answer = await resp.json()
        assert answer["state"] == "bot"
        assert answer["replies"][0]["kb_article_id"] == "kb-0001"
        assert "90" in answer["replies"][0]["text"]
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            out, _ = await proc.communicate()
        assert proc.returncode == 0
        text = out.decode()
        assert f"http://127.0.0.1:{port}/healthz" in text
        assert "agent1" in text
        for child in children:
            assert (
                not os.path.exists(f"/proc/{child}")
                or open(f"/proc/{child}/stat").read().split()[2] == "Z"
            )
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
