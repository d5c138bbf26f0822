"""Cases created per second and per-case latency, on the embedded database (and MONGO_URL).

Run: .venv/bin/python -m bench.cases [--n 300] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.results import markdown_table, percentile_ms, update_section
from cases.desk import CaseDesk
from cases.model import CaseType, NewCase
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from cases.workflow import CaseAction, CaseCommand
from hub.embedded_db import EmbeddedDatabase
from hub.settings import DATA_DIR, REPO_DIR
from mongo.cases import MongoCaseRepository
from mongo.client import connect
from mongo.indexes import ensure_indexes
from primitives.clock import SystemClock

NEW = NewCase(
    type=CaseType.COMPLAINT,
    title="夜间施工噪声扰民",
    description="工地每晚十一点后仍在施工",
    category=("08", "0801", "080101", "08010101"),
    contact_phone="13812345678",
    address="东湖区幸福路8号",
)


async def _measure(url: str, label: str, n: int, concurrency: int) -> list[list[object]]:
    client, db = connect(url, f"bench_cases_{int(time.time())}")
    await ensure_indexes(db)
    taxonomy = Taxonomy(load_taxonomy_file(DATA_DIR / "taxonomy.yaml"))
    desk = CaseDesk(MongoCaseRepository(db), lambda: taxonomy, DuePolicy(), SystemClock())
    rows: list[list[object]] = []
    try:
        latencies: list[float] = []
        t0 = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            await desk.open(NEW, actor="bench")
            latencies.append(time.perf_counter() - t)
        seq_rate = n / (time.perf_counter() - t0)
        rows.append(
            [
                label,
                "create, sequential",
                n,
                seq_rate,
                percentile_ms(latencies, 50),
                percentile_ms(latencies, 99),
            ]
        )

        sem = asyncio.Semaphore(concurrency)
        conc: list[float] = []

        async def one() -> str:
            async with sem:
                t = time.perf_counter()
                case = await desk.open(NEW, actor="bench")
                conc.append(time.perf_counter() - t)
                return case.number

        t0 = time.perf_counter()
        numbers = await asyncio.gather(*(one() for _ in range(n)))
        rate = n / (time.perf_counter() - t0)
        assert len(set(numbers)) == n, "duplicate case numbers"
        rows.append(
            [
                label,
                f"create, {concurrency} concurrent",
                n,
                rate,
                percentile_ms(conc, 50),
                percentile_ms(conc, 99),
            ]
        )

        moves: list[float] = []
        t0 = time.perf_counter()
        for number in numbers[: n // 2]:
            t = time.perf_counter()
            await desk.act(number, CaseCommand(CaseAction.ACCEPT, "bench"))
            moves.append(time.perf_counter() - t)
        rate = len(moves) / (time.perf_counter() - t0)
        rows.append(
            [
                label,
                "transition (accept)",
                len(moves),
                rate,
                percentile_ms(moves, 50),
                percentile_ms(moves, 99),
            ]
        )
    finally:
        await client.drop_database(db.name)
        client.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedDatabase(
            REPO_DIR / ".venv-db" / "bin" / "python", Path(tmp) / "bench.sqlite"
        )
        url = await server.start()
        try:
            rows += await _measure(url, "embedded (mongoeco/SQLite)", args.n, args.concurrency)
        finally:
            await server.stop()
    if os.environ.get("MONGO_URL"):
        rows += await _measure(os.environ["MONGO_URL"], "MONGO_URL", args.n, args.concurrency)
    table = markdown_table(["database", "operation", "n", "per second", "p50 ms", "p99 ms"], rows)
    print(table)
    note = (
        "Each creation = 1 counter increment + 1 case insert + 1 audit-event insert; "
        "each transition = 1 read + 1 version-checked update + 1 audit-event insert."
    )
    update_section("cases", "Cases (bench/cases.py)", table + "\n\n" + note)


if __name__ == "__main__":
    asyncio.run(main())
