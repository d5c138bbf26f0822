"""Cases created per second and per-case latency, on the embedded database (and MONGO_URL).

Run: .venv/bin/python -m bench.cases [--n 300] [--concurrency 20] [--stored 10000]

With --stored N, N cases are stored first (a mix of states, departments, categories and
deadlines, most of them open), then the workbench's lists and searches, a department's inbox,
the wallboard, the intake's similar-case lookup and the reminder pass are timed on top of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.results import markdown_table, percentile_ms, update_section
from cases.desk import CaseDesk
from cases.model import Case, CaseState, CaseType, NewCase
from cases.reminders import CaseReminders
from cases.search import CaseQuery, Worklist
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from cases.workflow import CaseAction, CaseCommand
from hub.embedded_db import EmbeddedDatabase
from hub.settings import DATA_DIR, REPO_DIR
from mongo.cases import MongoCaseRepository, case_document, case_text_document
from mongo.client import connect
from mongo.indexes import ensure_indexes
from primitives.clock import FixedClock, SystemClock

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


DEPARTMENTS = ("water", "chengguan", "power", "gas", "transport", "housing", "eco", "market")
CATEGORIES = (
    ("02", "0201", "020101", "02010101"),
    ("01", "0101", "010101", "01010101"),
    ("07", "0701", "070101", "07010101"),
    ("03", "0301", "030101", "03010101"),
)
OPEN_STATES = (
    CaseState.NEW,
    CaseState.ACCEPTED,
    CaseState.DISPATCHED,
    CaseState.CONFIRMED,
    CaseState.IN_PROGRESS,
    CaseState.REPLIED,
    CaseState.RETURNED,
)


def _stored_case(i: int, now: datetime, open_cases: int) -> Case:
    # the newest open_cases are open (i counts back in time), the rest closed: a centre's history
    state = OPEN_STATES[i % len(OPEN_STATES)] if i < open_cases else CaseState.CLOSED
    created = now - timedelta(hours=i % 2000)
    department = (
        DEPARTMENTS[i % len(DEPARTMENTS)]
        if state not in (CaseState.NEW, CaseState.ACCEPTED)
        else None
    )
    return Case(
        number=f"20260101-{i:06d}",
        type=CaseType.COMPLAINT,
        state=state,
        title=f"第{i}号诉求：小区停水{i % 97}天",
        description=f"居民反映第{i % 500}栋楼停水，影响生活",
        category=CATEGORIES[i % len(CATEGORIES)],
        customer_id=f"c{i % 3000}",
        conversation_id=None,
        channel="webchat",
        contact_phone=f"+86138{i % 5000:08d}",
        address=f"幸福路{i % 800}号",
        department=department,
        priority=0,
        created_at=created,
        due_at=created + timedelta(days=3 + i % 7),
        version=1,
        created_by=f"agent{i % 5}",
        dispatched_at=created if department else None,
        sign_by=created + timedelta(minutes=30) if department else None,
        supervised=i % 50 == 0,
    )


async def _measure_stored(
    url: str, label: str, stored: int, open_cases: int, repeat: int
) -> list[list[object]]:
    client, db = connect(url, f"bench_case_lists_{int(time.time())}")
    await ensure_indexes(db)
    repo = MongoCaseRepository(db)
    now = datetime.now(UTC)
    rows: list[list[object]] = []
    try:
        batch = 1000
        for start in range(0, stored, batch):
            docs = [
                case_document(_stored_case(i, now, open_cases))
                for i in range(start, min(stored, start + batch))
            ]
            await db["cases"].insert_many(docs)
            texts = [
                case_text_document(_stored_case(i, now, open_cases))
                for i in range(start, min(stored, start + batch))
            ]
            await db["case_text"].insert_many(texts)

        async def timed(name: str, call: Callable[[int], Awaitable[object]]) -> None:
            samples: list[float] = []
            for i in range(repeat):
                t = time.perf_counter()
                await call(i)
                samples.append(time.perf_counter() - t)
            rows.append(
                [
                    label,
                    stored,
                    open_cases,
                    name,
                    repeat,
                    percentile_ms(samples, 50),
                    percentile_ms(samples, 99),
                ]
            )

        await timed(
            "workbench: overdue, page 1", lambda i: repo.search(CaseQuery(Worklist.OVERDUE), now)
        )
        await timed(
            "workbench: to accept, page 1",
            lambda i: repo.search(CaseQuery(Worklist.TO_ACCEPT), now),
        )
        await timed(
            "workbench: mine + category filter",
            lambda i: repo.search(
                CaseQuery(Worklist.MINE, actor=f"agent{i % 5}", category="0201"), now
            ),
        )
        await timed(
            "workbench: search by phone",
            lambda i: repo.search(CaseQuery(phone=f"+86138{i % 5000:08d}"), now),
        )
        await timed(
            "workbench: search by text (substring)",
            lambda i: repo.search(CaseQuery(text=f"停水{i % 97}天"), now),
        )
        await timed(
            "department inbox, page 1",
            lambda i: repo.search(
                CaseQuery(Worklist.DEPARTMENT, department=DEPARTMENTS[i % len(DEPARTMENTS)]), now
            ),
        )
        await timed("wallboard counters", lambda i: repo.wallboard(now, now + timedelta(hours=12)))
        await timed(
            "intake: similar open cases",
            lambda i: repo.similar_open(
                phone=f"+86138{i % 5000:08d}",
                address=f"幸福路{i % 800}号",
                category="0201",
                since=now - timedelta(days=30),
            ),
        )
        reminders = CaseReminders(repo, FixedClock(now))
        # the first passes raise every alert the stored deadlines call for (a batch of 200 per
        # kind each), then a pass finds nothing new: the cost paid every minute
        t = time.perf_counter()
        raised = passes = 0
        while batch_raised := len(await reminders.run_once()):
            raised += batch_raised
            passes += 1
        first = time.perf_counter() - t
        rows.append(
            [
                label,
                stored,
                open_cases,
                f"reminder passes until done ({raised} alerts in {passes} passes)",
                1,
                first * 1000,
                first * 1000,
            ]
        )
        await timed("reminder pass, steady (nothing new)", lambda i: reminders.run_once())
    finally:
        await client.drop_database(db.name)
        client.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=2_000, help="of the stored cases, open ones")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rows: list[list[object]] = []
    lists: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedDatabase(
            REPO_DIR / ".venv-db" / "bin" / "python", Path(tmp) / "bench.sqlite"
        )
        url = await server.start()
        try:
            rows += await _measure(url, "embedded (mongoeco/SQLite)", args.n, args.concurrency)
            if args.stored:
                lists += await _measure_stored(url, "embedded", args.stored, args.open, args.repeat)
        finally:
            await server.stop()
    if os.environ.get("MONGO_URL"):
        rows += await _measure(os.environ["MONGO_URL"], "MONGO_URL", args.n, args.concurrency)
        if args.stored:
            lists += await _measure_stored(
                os.environ["MONGO_URL"], "MONGO_URL", args.stored, args.open, args.repeat
            )
    table = markdown_table(["database", "operation", "n", "per second", "p50 ms", "p99 ms"], rows)
    print(table)
    note = (
        "Each creation = 1 counter increment + 1 case insert + 1 audit-event insert; "
        "each transition = 1 read + 1 version-checked update + 1 audit-event insert."
    )
    if lists:
        list_table = markdown_table(
            ["database", "stored", "open", "operation", "n", "p50 ms", "p99 ms"], lists
        )
        print(list_table)
        note += (
            "\n\nLists on stored cases: the newest `open` ones spread over 7 open states, the "
            "rest closed; 8 departments, 4 categories, deadlines spread over the past and next "
            "days (many open cases overdue); target p99 ≤ 150 ms.\n\n" + list_table
        )
    update_section("cases", "Cases (bench/cases.py)", table + "\n\n" + note)


if __name__ == "__main__":
    asyncio.run(main())
