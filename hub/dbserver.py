"""Embedded MongoDB-wire server (mongoeco over SQLite), run as a child process.

This file is executed by the Python 3.13 interpreter of `.venv-db`, which has
`mongoeco` and `pymongo` but not the hub's own dependencies: import only the
standard library and mongoeco here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys


async def _serve(path: str | None, host: str, port: int, watch_stdin: bool, fixes: bool) -> None:
    from mongoeco.wire import AsyncMongoEcoProxyServer

    if fixes:
        # Run as a script, this file's directory is on sys.path: the corrections sit beside it.
        import mongoeco_fixes

        mongoeco_fixes.apply()

    engine = None
    if path:
        from mongoeco.engines import SQLiteEngine

        engine = SQLiteEngine(path)
    server = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    address = await server.start()
    bound_port = address.port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if watch_stdin:
        # The parent holds our stdin open; EOF means it died without stopping us.
        loop.add_reader(0, _on_stdin, stop)
    # The parent reads this line to learn the port (port=0 lets the OS choose).
    print(f"READY {host} {bound_port}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def _on_stdin(stop: asyncio.Event) -> None:
    try:
        data = os.read(0, 4096)
    except OSError:
        data = b""
    if not data:
        asyncio.get_running_loop().remove_reader(0)
        stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mongoeco MongoDB-wire server")
    parser.add_argument("--path", help="SQLite file; omit for an in-memory database")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    parser.add_argument(
        "--no-fixes",
        action="store_true",
        help="run mongoeco as published, without hub/mongoeco_fixes.py (for comparison)",
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.path, args.host, args.port, args.watch_stdin, not args.no_fixes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
