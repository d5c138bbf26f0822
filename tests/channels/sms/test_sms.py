"""The SMS channel against the SMSC emulator over real SMPP 3.4 PDUs, and the HTTP
provider's signed webhook: inbound joins the phone customer's conversation, replies and case
notifications go out in UCS-2 (concatenated when long) and follow their receipts, redelivery
is stored once, failures are retried then marked failed, 退订 and 1/2/3 revisit answers."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from agent_web.keys import CASE_DESK, CASES
from cases.departments import Department
from cases.model import CaseState, CaseType, NewCase, Satisfaction
from cases.workflow import CaseAction, CaseCommand
from channels.sms import OUTBOUND, REPO
from channels.sms.limiter import PerNumberLimiter
from channels.sms.pdu import RTHROTTLED, RX_T_APPN
from channels.sms.smpp_client import SmppClient, SmppConfig, SmppError
from mongo.people import MongoDepartmentRepository
from tests.channels.helpers import complete_case, eventually
from tests.channels.sms.rig import (
    CITIZEN,
    CITIZEN_SMPP,
    DEPT_PHONE,
    Rig,
    async_value,
    is_,
    signed,
)
from tests.emulators.smsc import PASSWORD, SYSTEM_ID, SmscEmulator


async def test_an_inbound_sms_reaches_the_bot_and_the_answer_comes_back_by_sms(rig: Rig):
    assert await rig.smsc.deliver(CITIZEN_SMPP, "宝宝医保怎么办") == [0]
    stored = await rig.inbound()
    assert [m["text"] for m in stored] == ["宝宝医保怎么办"]  # stored before the ack
    owner = await rig.db["customer_identities"].find_one({"_id": f"phone:{CITIZEN}"})
    assert owner["customer_id"] == stored[0]["customer_id"]

    answer = await eventually(async_value(lambda: rig.smsc.messages_to(CITIZEN)))
    assert "90天内" in answer[0]
    reply = await rig.db["messages"].find_one({"channel": "sms", "direction": "out"})

    async def delivered() -> bool:
        doc = await rig.db["messages"].find_one({"_id": reply["_id"]})
        return doc["delivery"] == "delivered"

    await eventually(delivered)  # the SMSC's receipt reached the message


async def test_a_redelivered_deliver_sm_is_stored_and_answered_once(rig: Rig):
    """The SMSC resends a deliver_sm whose resp it did not get: same content, one message."""
    assert await rig.smsc.deliver(CITIZEN_SMPP, "停水什么时候恢复") == [0]
    assert await rig.smsc.deliver(CITIZEN_SMPP, "停水什么时候恢复") == [0]
    await eventually(async_value(lambda: rig.smsc.messages_to(CITIZEN)))
    await rig.app[OUTBOUND].close()  # nothing more in flight
    assert len(await rig.inbound()) == 1
    assert len(rig.smsc.messages_to(CITIZEN)) == 1


async def test_long_messages_are_concatenated_ucs2_both_ways(rig: Rig):
    long_in = "我家楼下的路灯已经坏了很久了，" * 8  # 120 characters: two parts inbound
    assert await rig.smsc.deliver(CITIZEN_SMPP, long_in) == [0, 0]
    assert [m["text"] for m in await rig.inbound()] == [long_in]

    long_out = "您好，" + "这是一条超过七十个汉字的长短信，用于检验分段与重组。" * 8
    record = await rig.app[OUTBOUND].notify(CITIZEN, long_out, "test")
    assert record.segments == 4
    parts = await eventually(
        async_value(lambda: [s for s in rig.smsc.submitted if s.concat and s.concat.total == 4])
    )
    assert all(p.data_coding == 8 for p in parts)  # UCS-2
    await eventually(async_value(lambda: long_out in rig.smsc.messages_to(CITIZEN)))

    async def delivered() -> bool:
        doc = await rig.db["sms_outbound"].find_one({"_id": record.id})
        return doc["state"] == "delivered" and len(doc["provider_ids"]) == 4

    await eventually(delivered)


async def test_case_progress_is_sent_and_a_revisit_answer_is_recorded(rig: Rig):
    await MongoDepartmentRepository(rig.db).upsert(Department("water", "市水务集团", DEPT_PHONE))
    new = NewCase(CaseType.REPAIR, "小区停水三天", contact_phone=CITIZEN, category=("01", "0101"))
    case = await rig.app[CASES].get(
        await complete_case(rig.app[CASE_DESK], new, "已抢修管道，恢复供水")
    )

    async def four_delivered() -> list[dict[str, Any]]:
        docs = await rig.sms_for_case(case.number)
        return docs if sum(d["state"] == "delivered" for d in docs) == 4 else []

    docs = await eventually(four_delivered)
    assert sorted(d["purpose"] for d in docs) == [
        "accepted",
        "completed",
        "department",
        "dispatched",
    ]
    citizen = rig.smsc.messages_to(CITIZEN)
    assert any("已受理" in t and case.number in t for t in citizen)
    assert any("市水务集团" in t for t in citizen)
    assert any("回复1满意" in t and "恢复供水" in t for t in citizen)
    assert any("小区停水三天" in t for t in rig.smsc.messages_to(DEPT_PHONE))

    assert await rig.smsc.deliver(CITIZEN_SMPP, "1") == [0]
    after = await rig.app[CASES].get(case.number)
    assert after.state is CaseState.REVISITED
    assert after.satisfaction is Satisfaction.SATISFIED
    assert after.events[-1].actor == "sms"
    await eventually(
        async_value(lambda: any("感谢您的评价" in t for t in rig.smsc.messages_to(CITIZEN)))
    )
    assert await rig.inbound() == []  # the survey answer is not a chat message

    # visible on the case for the staff
    agent = await rig.hub.staff("agent1")
    shown = await agent.json("GET", f"/api/v1/cases/{case.number}/sms")
    assert {s["purpose"] for s in shown["sms"]} >= {"accepted", "dispatched", "completed"}
    anonymous = await rig.hub.anonymous()
    assert (await anonymous.get(f"/api/v1/cases/{case.number}/sms")).status == 401


async def test_opt_out_stops_notifications_until_opt_in(rig: Rig):
    assert await rig.smsc.deliver(CITIZEN_SMPP, "退订") == [0]
    await eventually(
        async_value(lambda: any("您已退订" in t for t in rig.smsc.messages_to(CITIZEN)))
    )
    desk = rig.app[CASE_DESK]
    case = await desk.open(
        NewCase(CaseType.CONSULT, "咨询办证", contact_phone=CITIZEN, category=("01", "0101")),
        "agent1",
    )
    await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, "agent1"))
    [record] = await rig.sms_for_case(case.number)
    assert record["state"] == "skipped"
    assert record["error"] == "已退订短信通知"
    assert await rig.inbound() == []

    assert await rig.smsc.deliver(CITIZEN_SMPP, "订阅") == [0]
    await desk.act(case.number, CaseCommand(CaseAction.CLOSE, "agent1"))
    assert not await rig.app[REPO].opted_out(CITIZEN)


async def test_a_refused_submit_is_retried_then_marked_failed(rig: Rig):
    outbound = rig.app[OUTBOUND]
    rig.smsc.refuse_next = [RTHROTTLED]  # one refusal, then it goes through
    retried = await outbound.notify(CITIZEN, "第一条", "test")
    await eventually(async_value(lambda: "第一条" in rig.smsc.messages_to(CITIZEN)))
    rig.smsc.refuse_next = [RTHROTTLED] * 3  # as many as 1 + len(backoff) tries
    failed = await outbound.notify("+8613700000000", "第二条", "test")

    async def state(sms_id: str) -> str:
        return (await rig.db["sms_outbound"].find_one({"_id": sms_id}))["state"]

    await eventually(lambda: is_(state(failed.id), "failed"))
    doc = await rig.db["sms_outbound"].find_one({"_id": failed.id})
    assert doc["attempts"] == 3
    assert "Throttling" in doc["error"]
    assert (await rig.db["sms_outbound"].find_one({"_id": retried.id}))["attempts"] == 2


async def test_an_undeliverable_number_is_marked_failed_by_its_receipt(rig: Rig):
    rig.smsc.undeliverable.add("8613700000001")
    record = await rig.app[OUTBOUND].notify("+8613700000001", "通知", "test")

    async def failed() -> bool:
        doc = await rig.db["sms_outbound"].find_one({"_id": record.id})
        return doc["state"] == "failed" and "UNDELIV" in doc["error"]

    await eventually(failed)


async def test_the_link_is_kept_alive_and_rebound_after_a_drop(rig: Rig):
    await eventually(async_value(lambda: rig.smsc.enquire_links >= 1))
    rig.smsc.drop_connections()
    record = await rig.app[OUTBOUND].notify(CITIZEN, "断线重连后发送", "test")
    await eventually(async_value(lambda: "断线重连后发送" in rig.smsc.messages_to(CITIZEN)))
    assert rig.smsc.binds >= 2
    await eventually(lambda: is_(_state(rig, record.id), "delivered"))


async def test_the_signed_webhook_stores_once_and_refuses_forgeries(rig: Rig):
    url = str(rig.hub.client.make_url("/channels/sms/webhook"))
    body = json.dumps({"type": "message", "message_id": "p-1", "from": CITIZEN, "text": "你好"})
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # the provider retries
            async with http.post(url, data=body, headers=signed(body)) as resp:
                assert resp.status == 200
        async with http.post(url, data=body, headers=signed(body, secret="wrong")) as resp:
            assert resp.status == 403
        stale = signed(body, stamp=str(int(time.time()) - 3600))
        async with http.post(url, data=body, headers=stale) as resp:
            assert resp.status == 403
        async with http.post(url, data="{nope", headers=signed("{nope")) as resp:
            assert resp.status == 400
            assert "error" in await resp.json()
        missing = json.dumps({"type": "message", "message_id": "p-2", "from": CITIZEN})
        async with http.post(url, data=missing, headers=signed(missing)) as resp:
            assert resp.status == 400
    assert [m["text"] for m in await rig.inbound()] == ["你好"]


async def test_a_handler_failure_nacks_so_the_smsc_redelivers():
    calls: list[str] = []

    async def failing(req: Any) -> None:
        calls.append("x")
        raise RuntimeError("database down")

    async with SmscEmulator() as smsc:
        client = SmppClient(SmppConfig("127.0.0.1", smsc.port, SYSTEM_ID, PASSWORD))
        client.start(failing)
        try:
            assert await smsc.deliver(CITIZEN_SMPP, "你好") == [RX_T_APPN]
            assert calls == ["x"]
        finally:
            await client.close()


async def test_a_wrong_password_never_binds_and_submit_says_the_link_is_down():
    async with SmscEmulator() as smsc:
        config = SmppConfig(
            "127.0.0.1", smsc.port, SYSTEM_ID, "wrong", response_timeout_s=0.5, reconnect_s=(0.1,)
        )
        client = SmppClient(config)
        client.start(_ignore)
        try:
            with pytest.raises(SmppError, match="link is down"):
                await client.submit(CITIZEN, "你好")
            assert smsc.binds == 0
        finally:
            await client.close()


async def test_the_per_number_limit_delays_instead_of_dropping():
    now = [0.0]
    limiter = PerNumberLimiter(2, 60, clock=lambda: now[0])
    assert limiter.delay(CITIZEN) == 0
    await limiter.acquire(CITIZEN)
    await limiter.acquire(CITIZEN)
    assert limiter.delay(CITIZEN) == 60
    assert limiter.delay("+8613700000000") == 0  # other numbers are not held up
    now[0] = 60.5
    assert limiter.delay(CITIZEN) == 0


async def _ignore(req: Any) -> None:
    return None


async def _state(rig: Rig, sms_id: str) -> str:
    return (await rig.db["sms_outbound"].find_one({"_id": sms_id}))["state"]
