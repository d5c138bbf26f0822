import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from hub.embedded_db import EmbeddedDatabase, EmbeddedDatabaseError
from hub.settings import REPO_DIR
from mongo.client import connect, ping

DB_PYTHON = REPO_DIR / ".venv-db" / "bin" / "python"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is not alive
        return f.read().split()[2] != "Z"


async def _wait_dead(pid: int, timeout_s: float = 15.0) -> bool:
    async with asyncio.timeout(timeout_s):
        while _alive(pid):
            await asyncio.sleep(0.1)
    return True


async def test_starts_answers_ping_persists_and_stops(tmp_path: Path):
    path = tmp_path / "hub.sqlite"
    async with EmbeddedDatabase(DB_PYTHON, path) as server:
        client, db = connect(server.url, "persist")
        assert await ping(client)
        await db["things"].insert_one({"_id": 1, "name": "路灯"})
        client.close()
        pid = server.pid
    assert pid is not None
    assert await _wait_dead(pid)
    async with EmbeddedDatabase(DB_PYTHON, path) as server:
        client, db = connect(server.url, "persist")
        assert (await db["things"].find_one({"_id": 1}))["name"] == "路灯"
        client.close()


async def test_missing_interpreter_is_a_clear_error(tmp_path: Path):
    with pytest.raises(EmbeddedDatabaseError, match="make venv-db"):
        await EmbeddedDatabase(tmp_path / "nope" / "python", None).start()


async def test_database_exits_when_its_parent_is_killed(tmp_path: Path):
    """A SIGKILLed hub cannot clean up; the child notices its stdin closing and exits."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from hub.embedded_db import EmbeddedDatabase
        async def main():
            db = EmbeddedDatabase(Path({str(DB_PYTHON)!r}), None)
            await db.start()
            print(db.pid, flush=True)
            await asyncio.sleep(3600)
        asyncio.run(main())
        """
    )
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE, cwd=REPO_DIR
    )
    assert parent.stdout is not None
    async with asyncio.timeout(60):
        child_pid = int((await parent.stdout.readline()).decode())
    assert _alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    await parent.wait()
    assert await _wait_dead(child_pid)
