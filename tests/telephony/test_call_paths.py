"""The IVR's other ways out, driven over the browser test call's WebSocket (the same engine and
services as Asterisk's calls) on a demo hub, where the page may give a caller number:
no agent → voicemail filed as a case with the recording; callback booked in the worklist; a
caller who hangs up while queued is a missed call to call back; a blacklisted caller is refused
before anything else; a caller with an open case hears its real state with 1."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from agent_web.keys import AGENT_DESK, CASE_DESK, CUSTOMERS
from cases.model import CaseState, CaseType, NewCase
from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from mongo.people import MongoAgentRepository
from routing.agents import Agent, Role
from routing.customers import Identity, IdentityKind
from routing.presence import AgentStatus
from telephony.call_records import CallOutcome, CallQuery
from telephony.keys import CALL_RECORDS, RECORDINGS
from tests.agent_web.conftest import Staff, seed_staff
from tests.channels.helpers import eventually
from tests.fakes.bot import FakeBot

CALLER = "+8613900002222"
SOCKET = "/api/v1/webcall/socket"


class Call:
    """A caller on the test-call socket: keys, audio, and what the IVR said (captions)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.captions: list[str] = []
        self.audio = 0
        self.last_audio_at = 0.0
        self.ended = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                self.audio += len(msg.data)
                self.last_audio_at = time.monotonic()
            elif msg.type is aiohttp.WSMsgType.TEXT:
                body = json.loads(msg.data)
                if body["type"] == "caption":
                    self.captions.append(body["text"])
        self.ended.set()

    async def heard(self, words: str, timeout_s: float = 40) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(words in c for c in self.captions):
            assert time.monotonic() < deadline, f"never heard {words!r}: {self.captions}"
            await asyncio.sleep(0.05)

    async def quiet(self, for_s: float = 0.6, timeout_s: float = 30) -> None:
        """Until the IVR has sent no audio for for_s (its prompt and beep are over)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() - self.last_audio_at < for_s:
            assert time.monotonic() < deadline, "the IVR kept talking"
            await asyncio.sleep(0.05)

    async def press(self, digit: str) -> None:
        await self.ws.send_str(json.dumps({"type": "dtmf", "digit": digit}))

    async def speak(self, seconds: float, loud: bool = True) -> None:
        """Audio in 20 ms frames, in real time (a tone loud enough to count as a voice)."""
        frame = (b"\x00\x30\x00\xd0" * 80) if loud else bytes(320)
        for _ in range(int(seconds * 50)):
            await self.ws.send_bytes(frame)
            await asyncio.sleep(0.02)

    async def hang_up(self) -> None:
        await self.ws.send_str(json.dumps({"type": "hangup"}))
        await asyncio.wait_for(self.ended.wait(), 10)


@pytest.fixture
async def client(aiohttp_client, settings: Settings) -> TestClient:
    demo = settings.model_copy(update={"hub_demo": True})
    return await aiohttp_client(create_app(demo, bot=FakeBot()))


async def dial(client: TestClient, caller: str = CALLER) -> Call:
    return Call(await client.ws_connect(f"{SOCKET}?caller={caller}"))


async def _customer(client: TestClient, phone: str = CALLER):
    return await client.app[CUSTOMERS].get_or_create(Identity(IdentityKind.PHONE, phone))


async def _records(client: TestClient) -> list[Any]:
    return await client.app[CALL_RECORDS].search(CallQuery(limit=10))


async def test_with_no_agent_the_caller_leaves_a_voicemail_filed_as_a_case(client: TestClient):
    """0 with nobody signed in → 留言 → the recording is a case's attachment."""
    call = await dial(client)
    await call.heard("人工服务请按0")
    await call.press("0")
    await call.heard("暂无坐席")
    await call.press("1")
    await call.heard("留言完毕请按井号键")
    await call.quiet()
    await call.speak(1.5)
    await call.press("#")
    await call.heard("工单")  # the number read back
    record = await eventually(
        lambda: _first(client, lambda r: r.outcome is CallOutcome.VOICEMAIL), timeout_s=40
    )
    case = await client.app[CASE_DESK].cases.get(record.case_number)
    assert case.type is CaseType.CONSULT
    assert case.contact_phone == CALLER
    stored = await client.app[RECORDINGS].find(case.attachments[0])
    assert stored is not None
    assert stored.kind == "voicemail"
    assert stored.path.stat().st_size > 16000  # over a second of the caller's voice
    await call.ended.wait()


async def test_a_callback_is_booked_in_the_worklist_with_the_callers_number(client: TestClient):
    """0 → 2 (回电): a todo case with the caller id as contact."""
    call = await dial(client)
    await call.heard("人工服务请按0")
    await call.press("0")
    await call.heard("暂无坐席")
    await call.press("2")
    record = await eventually(
        lambda: _first(client, lambda r: r.outcome is CallOutcome.CALLBACK), timeout_s=40
    )
    case = await client.app[CASE_DESK].cases.get(record.case_number)
    assert case.type is CaseType.TODO
    assert case.contact_phone == CALLER
    assert case.remind_at is not None
    await asyncio.wait_for(call.ended.wait(), 40)


async def test_a_caller_who_hangs_up_in_the_queue_is_a_missed_call_to_call_back(
    client: TestClient,
):
    """Queued behind a busy agent, the caller gives up: abandoned, and a callback todo."""
    await MongoAgentRepository(_db(client)).upsert(
        Agent("a1", "李娜", frozenset({Role.AGENT}), {"general": 5}, max_chats=1)
    )
    desk = client.app[AGENT_DESK]
    await desk.refresh_agent("a1")
    await desk.set_status("a1", AgentStatus.READY)
    first = await dial(client, "+8613900003333")  # takes the only agent
    await first.heard("人工服务请按0")
    await first.press("0")
    await eventually(lambda: _assigned(client), timeout_s=40)
    call = await dial(client)
    await call.heard("人工服务请按0")
    await call.press("0")
    await call.heard("预计等待")  # the place in line, spoken
    await call.hang_up()
    record = await eventually(
        lambda: _first(client, lambda r: r.outcome is CallOutcome.ABANDONED), timeout_s=40
    )
    assert record.queued_at is not None
    assert record.wait_s is not None
    case = await client.app[CASE_DESK].cases.get(record.case_number)
    assert case.type is CaseType.TODO
    assert case.contact_phone == CALLER
    await first.hang_up()


async def test_a_blacklisted_caller_is_refused_before_anything_else(client: TestClient):
    """The lookup comes first: the refusal is the only thing said."""
    customer = await _customer(client)
    await client.app[CUSTOMERS].set_tags(customer.id, frozenset({"blacklist"}))
    call = await dial(client)
    await asyncio.wait_for(call.ended.wait(), 40)
    assert len(call.captions) == 1
    assert "无法接入" in call.captions[0]
    record = await eventually(lambda: _first(client, lambda r: True), timeout_s=40)
    assert record.outcome is CallOutcome.IVR


async def test_a_caller_with_an_open_case_hears_its_state_with_1(client: TestClient):
    """按1查询工单进度 reads the case's real state."""
    customer = await _customer(client)
    case = await client.app[CASE_DESK].open(
        NewCase(CaseType.REPAIR, "楼道灯坏了", customer_id=customer.id, contact_phone=CALLER),
        "agent1",
    )
    assert case.state is CaseState.NEW
    call = await dial(client)
    await call.heard("查询工单进度请按1")
    await call.press("1")
    await call.heard("楼道灯坏了", timeout_s=20)
    await call.hang_up()


def _db(client: TestClient):
    from hub.keys import DB

    return client.app[DB]


async def _assigned(client: TestClient) -> bool:
    records = await _records(client)
    return any(r.agent for r in records)


async def _first(client: TestClient, accept) -> Any:
    return next((r for r in await _records(client) if accept(r) and r.ended_at), None)


async def test_phones_can_only_be_rung_into_a_call_that_goes_through_the_pbx(
    client: TestClient, db: Database
):
    """A supervisor's 电话监听 or an agent's three-way on a web test call: a clear 409 in
    Chinese; a wrong mode is a 400."""
    await seed_staff(db)
    await client.app[AGENT_DESK].load_agents()
    boss = Staff(client, "super")
    assert (await boss.sign_in("correct-horse-1")).status == 200
    call = await dial(client)
    await call.heard("人工服务请按0")
    record = (await _records(client))[0]
    path = f"/api/v1/calls/{record.conversation_id}/monitor"
    refused = await boss.json("POST", path, {"mode": "listen"}, status=409)
    assert refused["reason"] == "网页试拨的通话不经过交换机，无法监听"
    wrong = await boss.json("POST", path, {"mode": "sing"}, status=400)
    assert "listen" in wrong["reason"]
    await call.hang_up()
    await boss.http.close()
