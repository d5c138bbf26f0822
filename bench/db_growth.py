"""Does the hub stay as fast with 100k stored messages as with 1k? (embedded database, or
MONGO_URL when set).

    python -m bench.db_growth [--sizes 1000,10000,100000] [--samples 200] [--published 1000,10000]

At each size (the database filled with history by bench/fill.py: per 10 messages one
conversation and one case, so 10k cases at 100k messages, the latest 1,000 open) it measures, with `hub serve`
running on that database:

- message insert through MongoMessageRepository.add (p50/p99),
- the REST round trip of a knowledge-base question, answered by the bot (p50/p99); each sender
  asks five questions, and database writes are counted per message from the server's
  opcounters (first message of a sender apart: it also creates the customer and conversation),
- case creation through CaseDesk.open and a case-list page (a department's open cases,
  50 per page, and a customer's cases with their history, as the screen pop reads them),
- disk: the SQLite file (with its WAL) per 1,000 stored messages, and the rows of mongoeco's
  change log.

`--published` also measures the insert with mongoeco as published (without
hub/mongoeco_fixes.py), on a copy of the database at those sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.fill import OPEN_CASES, fill_to
from bench.results import markdown_table, percentile_ms, update_section
from bench.webchat import opcounters, running_hub
from cases.desk import CaseDesk
from cases.model import CaseType, NewCase
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from hub.embedded_db import EmbeddedDatabase
from hub.settings import DATA_DIR, REPO_DIR
from mongo.cases import MongoCaseRepository
from mongo.client import Database, connect
from mongo.indexes import ensure_indexes
from mongo.messages import MongoMessageRepository
from primitives.clock import SystemClock
from primitives.ids import new_id
from routing.messages import Direction, SenderKind, StoredMessage

DB_NAME = "bench_db_growth"
QUESTIONS = (
    "新生儿医保怎么办理？",
    "停水了怎么查询原因",
    "身份证丢了怎么补办",
    "公积金怎么提取",
    "居住证在哪里办",
)
NEW_CASE = NewCase(
    type=CaseType.COMPLAINT,
    title="夜间施工噪声扰民",
    description="工地每晚十一点后仍在施工",
    category=("08", "0801", "080101", "08010101"),
    contact_phone="13812345678",
    address="东湖区幸福路8号",
)
DB_PYTHON = REPO_DIR / ".venv-db" / "bin" / "python"


async def _timed(n: int, op: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        await op(i)
        samples.append(time.perf_counter() - start)
    return samples


def _message(i: int) -> StoredMessage:
    return StoredMessage(
        id=new_id(),
        conversation_id=f"bench-insert-{i // 10}",
        customer_id="bench-insert",
        channel="webchat",
        external_id=f"insert:{new_id()}",
        direction=Direction.INBOUND,
        sender=SenderKind.CUSTOMER,
        sender_id="bench-insert",
        text="路灯不亮了，在幸福路8号",
        created_at=datetime.now(UTC),
    )


async def _rest(base: str, mongo_url: str, size: int, senders: int) -> dict[str, float]:
    """p50/p99 of every answered question, and writes per message (first and later)."""
    first, later, writes_first, writes_later = [], [], 0, 0
    url = base + "/api/v1/channels/rest/messages"
    async with aiohttp.ClientSession() as http:
        for s in range(senders):
            sender = f"bench-{size}-{s}"
            for q, question in enumerate(QUESTIONS):
                before = await opcounters(mongo_url)
                start = time.perf_counter()
                async with http.post(url, json={"sender_id": sender, "text": question}) as resp:
                    body = await resp.json()
                took = time.perf_counter() - start
                after = await opcounters(mongo_url)
                if resp.status != 200 or body["state"] != "bot" or not body["replies"]:
                    raise RuntimeError(f"not answered by the bot: {resp.status} {body}")
                writes = sum(
                    after.get(k, 0) - before.get(k, 0) for k in ("insert", "update", "delete")
                )
                if q == 0:
                    first.append(took)
                    writes_first += writes
                else:
                    later.append(took)
                    writes_later += writes
    both = first + later
    return {
        "p50": percentile_ms(both, 50),
        "p99": percentile_ms(both, 99),
        "writes_first": writes_first / senders,
        "writes_later": writes_later / (senders * (len(QUESTIONS) - 1)),
    }


async def _cases(db: Database, samples: int, stored: int) -> dict[str, float]:
    taxonomy = Taxonomy(load_taxonomy_file(DATA_DIR / "taxonomy.yaml"))
    repo = MongoCaseRepository(db)
    desk = CaseDesk(repo, lambda: taxonomy, DuePolicy(), SystemClock())
    messages = MongoMessageRepository(db)
    create = await _timed(samples, lambda i: desk.open(NEW_CASE, actor="bench"))
    departments = ("water", "chengguan", "power", "transport", "housing")
    page = await _timed(samples, lambda i: repo.find_open(department=departments[i % 5], limit=50))

    async def screen_pop(i: int) -> None:
        customer = f"{(i * 37) % (stored // 20):024x}"  # a customer of bench/fill.py
        await repo.find_for_customer(customer, limit=20)
        await messages.list_for_customer(customer, limit=50)

    pop = await _timed(samples, screen_pop)
    return {
        "create_p50": percentile_ms(create, 50),
        "create_p99": percentile_ms(create, 99),
        "page_p50": percentile_ms(page, 50),
        "page_p99": percentile_ms(page, 99),
        "pop_p50": percentile_ms(pop, 50),
        "pop_p99": percentile_ms(pop, 99),
    }


def _disk(path: Path) -> tuple[float, int]:
    """(MB of the SQLite file and its WAL, rows in mongoeco's change log)."""
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    rows = -1
    with suppress(sqlite3.Error):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT count(*) FROM change_outbox").fetchone()[0]
        finally:
            conn.close()
    return size / 1e6, rows


def _copy_database(path: Path, copy: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            shutil.copy(src, str(copy) + suffix)


async def _published_insert(path: Path, samples: int) -> tuple[float, float]:
    """Insert p50/p99 with mongoeco as published, on a copy of the database."""
    copy = path.with_name("published-" + path.name)
    await asyncio.to_thread(_copy_database, path, copy)
    server = EmbeddedDatabase(DB_PYTHON, copy, fixes=False)
    url = await server.start()
    client, db = connect(url, DB_NAME)
    try:
        repo = MongoMessageRepository(db)
        took = await _timed(samples, lambda i: repo.add(_message(i)))
    finally:
        client.close()
        await server.stop()
        for p in copy.parent.glob(copy.name + "*"):
            p.unlink()
    return percentile_ms(took, 50), percentile_ms(took, 99)


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument(
        "--senders", type=int, default=20, help="REST senders per size, 5 questions each"
    )
    p.add_argument("--published", default="1000,10000", help="sizes to measure unpatched too")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    published = {int(s) for s in args.published.split(",") if s}
    var = REPO_DIR / "var" / "bench-db-growth"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    path = var / "hub.sqlite"
    external = os.environ.get("MONGO_URL")
    server = None
    if external:
        mongo_url, label = external, "MONGO_URL"
    else:
        server = EmbeddedDatabase(DB_PYTHON, path)
        mongo_url, label = (
            await server.start(),
            "embedded (mongoeco 4.11.0 + hub/mongoeco_fixes.py)",
        )
    client, db = connect(mongo_url, DB_NAME)
    rows = []
    try:
        await client.drop_database(DB_NAME)
        await ensure_indexes(db)
        empty_mb = _disk(path)[0] if server else 0.0
        messages = MongoMessageRepository(db)
        async with running_hub(mongo_url, DB_NAME, var) as (base, _pid):
            for size in sizes:
                t0 = time.perf_counter()
                stored = await fill_to(db, size)
                fill_s = time.perf_counter() - t0
                insert = await _timed(args.samples, lambda i: messages.add(_message(i)))
                rest = await _rest(base, mongo_url, size, args.senders)
                cases = await _cases(db, min(args.samples, 100), stored)
                mb, log_rows = _disk(path) if server else (float("nan"), -1)
                before = ("", "")
                if server and size in published:
                    b50, b99 = await _published_insert(path, min(args.samples, 50))
                    before = (f"{b50:.1f}", f"{b99:.1f}")
                row = [
                    stored,
                    percentile_ms(insert, 50),
                    percentile_ms(insert, 99),
                    *before,
                    rest["p50"],
                    rest["p99"],
                    round(rest["writes_later"], 2),
                    round(rest["writes_first"], 2),
                    cases["create_p50"],
                    cases["create_p99"],
                    cases["page_p50"],
                    cases["page_p99"],
                    cases["pop_p50"],
                    cases["pop_p99"],
                    round((mb - empty_mb) / stored * 1000, 3) if server else "",
                    log_rows if server else "",
                    round(fill_s),
                ]
                rows.append(row)
                print(row, flush=True)
    finally:
        await client.drop_database(DB_NAME)
        client.close()
        if server is not None:
            await server.stop()
    table = markdown_table(
        [
            "stored messages",
            "insert p50 ms",
            "insert p99 ms",
            "insert p50 ms, published mongoeco",
            "insert p99 ms, published mongoeco",
            "REST KB answer p50 ms",
            "REST p99 ms",
            "DB writes/msg",
            "DB writes, sender's 1st msg",
            "case create p50 ms",
            "case create p99 ms",
            "dept case page p50 ms",
            "dept case page p99 ms",
            "screen pop p50 ms",
            "screen pop p99 ms",
            "disk MB per 1k msgs",
            "change-log rows",
            "fill s",
        ],
        rows,
    )
    ratio = rows[-1][5] / rows[0][5] if len(rows) > 1 else float("nan")
    text = (
        f"Database: {label}. History filled by bench/fill.py (per 10 messages one conversation "
        f"and one case; the latest {OPEN_CASES:,} cases open, older ones closed), then at each size: {args.samples} message inserts; {args.senders} REST "
        f"senders × {len(QUESTIONS)} knowledge-base questions answered by the bot (`hub serve`, "
        f"embedded NLU and KB); case creation, a department's open-case page (50) and a "
        f"customer's cases + history (screen pop), {min(args.samples, 100)} each. REST p50 at "
        f"{rows[-1][0]:,} messages is **{ratio:.2f}×** the p50 at {rows[0][0]:,}.\n\n{table}"
    )
    print(text)
    update_section("db_growth", "Database growth (bench/db_growth.py)", text)


if __name__ == "__main__":
    asyncio.run(main())
