"""Shared fixtures: one database server per test session, a fresh database per test.

With MONGO_URL set, tests run against that MongoDB server instead of the embedded one
(each test still gets its own database, dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from hub.embedded_db import EmbeddedDatabase
from hub.settings import OWN_PREFIXES, REPO_DIR, Settings, load_settings
from mongo.client import Client, Database, connect
from mongo.indexes import ensure_indexes


@pytest.fixture(scope="session", autouse=True)
def _clean_env() -> Iterator[None]:
    """Tests build their own settings: hide the developer's hub variables (MONGO_URL stays)."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(OWN_PREFIXES)}
    yield
    os.environ.update(saved)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mongo_url(
    _clean_env: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    external = os.environ.get("MONGO_URL")
    if external:
        yield external
        return
    path = tmp_path_factory.mktemp("db") / "test.sqlite"
    server = EmbeddedDatabase(REPO_DIR / ".venv-db" / "bin" / "python", path)
    url = await server.start()
    yield url
    await server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mongo_client(mongo_url: str) -> AsyncIterator[Client]:
    client, _ = connect(mongo_url)
    yield client
    client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def db_name(mongo_client: Client) -> AsyncIterator[str]:
    """A database name of its own; dropped afterwards whoever created it (the `db` fixture,
    or an app started on `settings`). Left behind, every database's indexes would slow every
    insert into the shared test server (mongoeco keeps all of them on one SQLite table)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    await mongo_client.drop_database(name)


@pytest_asyncio.fixture(loop_scope="session")
async def db(mongo_client: Client, db_name: str) -> AsyncIterator[Database]:
    """A fresh database with every index, dropped after the test."""
    database = mongo_client[db_name]
    await ensure_indexes(database)
    yield database
    await mongo_client.drop_database(db_name)


@pytest.fixture
def settings(mongo_url: str, db_name: str, tmp_path: Path) -> Settings:
    """Settings for an app on the test database (created by the `db` fixture or the app)."""
    return load_settings(
        mongo_url=mongo_url,
        mongo_db=db_name,
        hub_var_dir=tmp_path / "var",
        hub_db_path=tmp_path / "var" / "hub.sqlite",
        voice_tts_rate=320,  # the IVR speaks faster in tests: calls play prompts in real time
    )
