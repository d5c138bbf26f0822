"""Start and stop the embedded MongoDB-wire server (mongoeco) as a child process.

The child runs hub/dbserver.py under the `.venv-db` interpreter (mongoeco needs Python ≥ 3.13).
It prints `READY host port` once listening; we then wait for a MongoDB `ping`. The child
watches its stdin, so if this process dies without cleaning up (SIGKILL), the pipe closes
and the child exits too: no orphan database server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from hub.settings import PACKAGE_DIR

log = logging.getLogger(__name__)

_SERVER_SCRIPT = PACKAGE_DIR / "dbserver.py"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded database could not be started."""


class EmbeddedDatabase:
    def __init__(
        self,
        python: Path,
        path: Path | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        start_timeout_s: float = 60.0,
        fixes: bool = True,
    ) -> None:
        """fixes=False runs mongoeco as published, without hub/mongoeco_fixes.py (benchmarks
        compare the two)."""
        self._python = python
        self._path = path
        self._host = host
        self._port = port
        self._timeout = start_timeout_s
        self._fixes = fixes
        self._proc: asyncio.subprocess.Process | None = None
        self.url: str = ""

    async def start(self) -> str:
        """Spawn the server, wait until it answers ping, and return its mongodb:// URL."""
        if not self._python.exists():
            raise EmbeddedDatabaseError(
                f"{self._python} not found: run `make venv-db` (Python 3.13 venv with mongoeco "
                "and pymongo), set HUB_DB_PYTHON, or set MONGO_URL to use a MongoDB server"
            )
        argv = [
            str(self._python),
            str(_SERVER_SCRIPT),
            "--host",
            self._host,
            "--port",
            str(self._port),
            "--watch-stdin",
        ]
        if not self._fixes:
            argv.append("--no-fixes")
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            argv += ["--path", str(self._path)]
        self._proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        try:
            async with asyncio.timeout(self._timeout):
                port = await self._read_ready_port()
        except (TimeoutError, EmbeddedDatabaseError):
            await self.stop()
            raise
        self.url = f"mongodb://{self._host}:{port}/"
        await self._wait_for_ping()
        log.info("embedded_db.started", extra={"port": port, "path": str(self._path or ":memory:")})
        return self.url

    async def _read_ready_port(self) -> int:
        assert self._proc is not None
        assert self._proc.stdout is not None
        while True:
            line = await self._proc.stdout.readline()
            if not line:
                code = await self._proc.wait()
                raise EmbeddedDatabaseError(f"embedded database exited with code {code} at start")
            parts = line.decode(errors="replace").split()
            if len(parts) == 3 and parts[0] == "READY":
                return int(parts[2])

    async def _wait_for_ping(self) -> None:
        from mongo.client import connect, wait_until_up

        client, _ = connect(self.url, timeout_ms=2000)
        try:
            await wait_until_up(client, timeout_s=self._timeout)
        finally:
            client.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit within timeout_s."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout_s):
                await proc.wait()
        except TimeoutError:
            log.warning("embedded_db.kill", extra={"pid": proc.pid})
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
        log.info("embedded_db.stopped", extra={"pid": proc.pid})

    async def __aenter__(self) -> EmbeddedDatabase:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
