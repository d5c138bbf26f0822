"""The inbox's test rig: the real app on the test database, staff accounts seeded before
it starts, and a signed-in HTTP client per staff member (own cookie jar, CSRF header)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from agent_web.keys import OUTBOX
from agent_web.passwords import hash_password
from hub.app import create_app
from hub.settings import DATA_DIR, Settings
from mongo.client import Database
from mongo.people import MongoAgentRepository
from routing.agents import Agent, Role
from routing.bot import BotAnswer, KbDecision
from tests.fakes.bot import FakeBot

PASSWORD = "correct-horse-1"
REST = "/api/v1/channels/rest/messages"

STAFF = [
    Agent("admin", "系统管理员", frozenset({Role.ADMIN})),
    Agent(
        "super",
        "值班长王敏",
        frozenset({Role.SUPERVISOR, Role.AGENT}),
        {"general": 5, "complaint": 8, "emergency": 8},
        3,
    ),
    Agent(
        "agent1",
        "话务员李娜",
        frozenset({Role.AGENT}),
        {"general": 8, "domestic_service": 6, "callback": 5},
        4,
    ),
    Agent("agent2", "话务员张伟", frozenset({Role.AGENT}), {"general": 6, "transport": 8}, 4),
    Agent("water1", "水务集团赵强", frozenset({Role.DEPARTMENT}), department="water"),
]


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclasses.dataclass
class EntityBot(FakeBot):
    """FakeBot, plus a repair report that carries phone, address and service type."""

    async def answer(self, text: str) -> BotAnswer:
        if "报修" in text:
            self.calls.append(text)
            entities = (
                ("phone", "13812345678"),
                ("address", "阳光花园3栋2单元501"),
                ("district", "青山湖区"),
                ("service_type", "管道疏通"),
            )
            return BotAnswer("report_repair", 0.91, KbDecision.NONE, entities=entities)
        return await super().answer(text)


@dataclasses.dataclass(frozen=True)
class Hit:
    article_id: str
    question: str
    answer: str
    fragments: tuple[str, ...]
    match: str


class FakeKb:
    """The KbSearch protocol with one hit whose fragment holds escaped markup."""

    def search(self, text: str, limit: int = 10) -> list[Hit]:
        return [
            Hit(
                "kb-0001",
                "新生儿医保怎么办理？",
                "出生后90天内办理。",
                ("新生儿<mark>医保</mark>怎么办理&lt;img src=x onerror=alert(1)&gt;",),
                "exact",
            )
        ][:limit]


def routing_file(
    tmp_path: Path, *, escalation: dict[str, Any] | None = None, **changes: dict[str, Any]
) -> Path:
    """The shipped routing.yaml with some queues changed, e.g. general={"auto_accept": False},
    and optionally some escalation keys, e.g. escalation={"intents": ["ask_human"]}."""
    data = yaml.safe_load((DATA_DIR / "routing.yaml").read_text(encoding="utf-8"))
    data["escalation"].update(escalation or {})
    if data.get("intake_file"):  # a file beside the shipped one: found from the copy too
        data["intake_file"] = str(DATA_DIR / data["intake_file"])
    for queue in data["queues"]:
        queue.update(changes.get(queue["name"], {}))
        queue.pop("hours", None)  # tests run at any hour
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class Staff:
    """One signed-in browser: its own cookies, the CSRF header on every mutating call."""

    def __init__(self, client: TestClient, login: str) -> None:
        self.client = client
        self.login = login
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    def url(self, path: str) -> str:
        return str(self.client.make_url(path))

    async def sign_in(self, password: str = PASSWORD) -> aiohttp.ClientResponse:
        resp = await self.http.post(
            self.url("/api/v1/auth/login"), json={"login": self.login, "password": password}
        )
        if resp.status == 200:
            self.csrf = (await resp.json())["csrf_token"]
        return resp

    async def call(self, method: str, path: str, body: Any = None) -> aiohttp.ClientResponse:
        headers = {} if method == "GET" else {"X-CSRF-Token": self.csrf}
        return await self.http.request(method, self.url(path), json=body, headers=headers)

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None) -> aiohttp.ClientResponse:
        return await self.call("POST", path, body)

    async def put(self, path: str, body: Any = None) -> aiohttp.ClientResponse:
        return await self.call("PUT", path, body)

    async def delete(self, path: str) -> aiohttp.ClientResponse:
        return await self.call("DELETE", path)

    async def json(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        resp = await self.call(method, path, body)
        data = await resp.json()
        assert resp.status == status, (resp.status, data)
        return data

    async def ws(self) -> aiohttp.ClientWebSocketResponse:
        return await self.http.ws_connect(self.url("/api/v1/agent/ws"))

    async def close(self) -> None:
        await self.http.close()


@dataclasses.dataclass
class Hub:
    client: TestClient
    sessions: list[Staff]

    @property
    def app(self) -> web.Application:
        return self.client.app  # type: ignore[return-value]

    async def staff(self, login: str, *, ready: bool = False) -> Staff:
        """A signed-in staff member (ready: presence set to 就绪)."""
        member = Staff(self.client, login)
        self.sessions.append(member)
        resp = await member.sign_in()
        assert resp.status == 200, await resp.text()
        if ready:
            await member.json("POST", "/api/v1/agent/status", {"status": "ready"})
        return member

    async def anonymous(self) -> Staff:
        member = Staff(self.client, "nobody")
        self.sessions.append(member)
        return member

    async def customer(self, sender_id: str, text: str) -> dict[str, Any]:
        resp = await self.client.post(REST, json={"sender_id": sender_id, "text": text})
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def customer_inbox(self, sender_id: str) -> list[str]:
        await self.app[OUTBOX].drain()
        resp = await self.client.get(REST, params={"sender_id": sender_id})
        return [m["text"] for m in (await resp.json())["messages"]]


async def seed_staff(db: Database) -> None:
    repo = MongoAgentRepository(db)
    for agent in STAFF:
        await repo.upsert(agent, password_hash=password_hash())


MakeHub = Callable[..., Any]


@pytest_asyncio.fixture(loop_scope="session")
async def make_hub(
    aiohttp_client: Any, settings: Settings, db: Database, tmp_path: Path
) -> AsyncIterator[MakeHub]:
    """make_hub(**queue_changes, bot=…, setup=fn(app)) → a Hub with the staff seeded."""
    hubs: list[Hub] = []

    async def make(
        bot: Any = None,
        setup: Callable[[web.Application], None] | None = None,
        **queue_changes: dict[str, Any],
    ) -> Hub:
        await seed_staff(db)
        the_settings = settings
        if queue_changes:
            path = routing_file(tmp_path, **queue_changes)
            the_settings = settings.model_copy(update={"hub_routing_config": path})
        app = create_app(the_settings, bot=bot or EntityBot())
        if setup is not None:
            setup(app)
        hub = Hub(await aiohttp_client(app), [])
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        for member in hub.sessions:
            await member.close()


@pytest.fixture
async def hub(make_hub: MakeHub) -> Hub:
    return await make_hub()
