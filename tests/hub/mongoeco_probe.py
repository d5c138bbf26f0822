"""Count the work mongoeco does per operation, through its real wire server and pymongo.

Run by tests/hub/test_mongoeco_fixes.py under the embedded-database interpreter (.venv-db):

    python mongoeco_probe.py build FILE N            # a database of N messages (with the fixes)
    python mongoeco_probe.py measure FILE [--no-fixes]

`measure` prints one JSON object: for each operation the SQLite virtual-machine steps (counted
by a progress handler, in hundreds of instructions) and the documents the engine decoded in
Python. Both are deterministic for the same data and the same query, so comparing them at two
sizes shows whether an operation reads the whole collection, without timing anything.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hub"))

REPEAT = 5
STEP = 100  # VM instructions per progress-handler call


def main(argv: list[str]) -> int:
    if argv[0] == "build":
        _build(argv[1], int(argv[2]))
    else:
        print(json.dumps(_measure(argv[1], fixes="--no-fixes" not in argv)))
    return 0


def _serve(path: str, fixes: bool) -> tuple[object, int]:
    import mongoeco_fixes

    if fixes:
        mongoeco_fixes.apply()
    from mongoeco.engines import SQLiteEngine
    from mongoeco.wire import AsyncMongoEcoProxyServer

    engine = SQLiteEngine(path)
    ready = threading.Event()
    port: list[int] = []

    def run() -> None:
        async def serve() -> None:
            server = AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=0)
            port.append((await server.start()).port)
            ready.set()
            await asyncio.Event().wait()

        asyncio.run(serve())

    threading.Thread(target=run, daemon=True).start()
    ready.wait(60)
    return engine, port[0]


def _message(i: int) -> dict[str, object]:
    return {
        "_id": f"{i:024x}",
        "key": f"rest:api:m{i}",
        "conversation_id": f"c{i // 10}",
        "channel": "rest",
        "external_id": f"api:m{i}",
        "direction": "in",
        "delivery": "received",
        "text": "我想咨询一下社保卡怎么办理",
        "created_at": datetime.now(UTC),
        "meta": {},
        "attachments": [],
    }


def _build(path: str, n: int) -> None:
    from pymongo import ASCENDING, IndexModel, MongoClient

    _, port = _serve(path, fixes=True)
    db = MongoClient(f"mongodb://127.0.0.1:{port}/").probe
    db.messages.create_indexes(
        [
            IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
            IndexModel([("conversation_id", ASCENDING), ("_id", ASCENDING)], name="order"),
        ]
    )
    for start in range(0, n, 500):
        db.messages.insert_many([_message(i) for i in range(start, min(n, start + 500))])
        db.owners.insert_many(
            [{"_id": f"rest:u{i}", "customer_id": f"cu{i}"} for i in range(start, start + 500, 10)]
        )


def _measure(path: str, *, fixes: bool) -> dict[str, dict[str, float]]:
    from mongoeco.engines.sqlite import SQLiteEngine
    from pymongo import MongoClient, ReturnDocument
    from pymongo.errors import DuplicateKeyError

    engine, port = _serve(path, fixes=fixes)
    db = MongoClient(f"mongodb://127.0.0.1:{port}/").probe
    steps = [0]
    decoded = [0]
    original_decode = SQLiteEngine._deserialize_document

    def counting_decode(self: object, payload: object) -> object:
        decoded[0] += 1
        return original_decode(self, payload)

    SQLiteEngine._deserialize_document = counting_decode

    def tick() -> int:
        steps[0] += 1
        return 0

    n = db.messages.estimated_document_count()
    db.messages.find_one({"_id": "warm-up"})  # connect before counting
    engine._connection.set_progress_handler(tick, STEP)

    def duplicate() -> None:
        try:
            db.messages.insert_one(_message(0) | {"_id": "dup"})
        except DuplicateKeyError:
            return
        raise AssertionError("a duplicate key was accepted")

    ops = {
        "insert": lambda k: db.messages.insert_one(_message(10**6 + k)),
        "duplicate_insert": lambda k: duplicate(),
        "find_by_key": lambda k: db.messages.find_one({"key": f"rest:api:m{n // 2 + k}"}),
        "history": lambda k: list(
            db.messages.find({"conversation_id": f"c{n // 20 + k}"}).sort("_id", 1).limit(20)
        ),
        "update_by_id": lambda k: db.messages.update_one(
            {"_id": f"{n // 3 + k:024x}", "delivery": {"$ne": "delivered"}},
            {"$set": {"delivery": "sent"}},
        ),
        "counter": lambda k: db.counters.find_one_and_update(
            {"_id": "case"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        ),
        "owner_by_id": lambda k: db.owners.find_one(
            {"_id": f"rest:u{(n // 2 + 10 * k) // 10 * 10}"}
        ),
    }
    result: dict[str, dict[str, float]] = {}
    for name, op in ops.items():
        costs, decodes = [], []
        for k in range(REPEAT):
            steps[0] = decoded[0] = 0
            op(k)
            costs.append(steps[0])
            decodes.append(decoded[0])
        result[name] = {
            "steps": statistics.median(costs),
            "decoded": statistics.median(decodes),
        }
    return {"documents": n, "fixes": fixes, "ops": result}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
