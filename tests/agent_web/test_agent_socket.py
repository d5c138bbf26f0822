import asyncio
from typing import Any

import aiohttp
import pytest

from agent_web.keys import ACD, OUTBOX, ROUTER
from routing.outbox import DeliveryFailed
from tests.agent_web.conftest import Hub, MakeHub


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str, **fields: Any) -> dict[str, Any]:
    """The next event of that type (and fields), skipping others; fails after 5 s."""
    async with asyncio.timeout(5):
        while True:
            event = await ws.receive_json()
            if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event


async def test_the_socket_says_hello_with_my_presence(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    ws = await agent.ws()
    hello = await ws.receive_json()
    assert hello["type"] == "hello"
    assert hello["login"] == "agent1"
    assert hello["me"]["status"] == "ready"
    await ws.close()


async def test_an_offer_arrives_live_with_its_deadline(make_hub: MakeHub):
    hub = await make_hub(general={"auto_accept": False, "offer_timeout_s": 60})
    agent = await hub.staff("agent1", ready=True)
    ws = await agent.ws()
    sent = await hub.customer("w1", "转人工")
    offer = await next_of(ws, "offer")
    assert offer["conversation_id"] == sent["conversation_id"]
    assert offer["mine"] is True
    assert offer["queue"] == "general"
    assert offer["ttl_s"] == 60
    await ws.close()


async def test_an_assignment_and_the_customer_messages_arrive_live(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    ws = await agent.ws()
    cid = (await hub.customer("w2", "转人工"))["conversation_id"]
    assigned = await next_of(ws, "assigned", conversation_id=cid)
    assert assigned["mine"] is True
    await hub.customer("w2", "我家门口路灯不亮")
    while (event := await next_of(ws, "message", conversation_id=cid))["message"][
        "sender"
    ] != "customer":
        pass  # the bot's and the system's notices come first
    assert event["message"]["text"] == "我家门口路灯不亮"
    assert event["message"]["sender_id"] == ""  # customer ids stay on the server
    await ws.close()


async def test_another_agent_does_not_see_my_conversation(hub: Hub):
    mine = await hub.staff("agent1", ready=True)
    other = await hub.staff("agent2")  # not ready: gets nothing assigned
    ws = await other.ws()
    await ws.receive_json()  # hello
    cid = (await hub.customer("w3", "转人工"))["conversation_id"]
    await hub.customer("w3", "私密内容")
    queued = await next_of(ws, "queued")  # agent2 serves general: sees the queue move
    assert queued["conversation_id"] == cid
    await ws.send_json({"type": "ping"})
    while (event := await ws.receive_json())["type"] != "pong":
        assert event["type"] != "message", event
        assert not (event["type"] == "assigned" and event["mine"])
    await ws.close()
    assert mine.login == "agent1"


async def test_watching_needs_the_right_to_read(hub: Hub):
    await hub.staff("agent1", ready=True)
    cid = (await hub.customer("w4", "转人工"))["conversation_id"]
    other = await hub.staff("agent2")
    ws = await other.ws()
    await ws.receive_json()
    await ws.send_json({"type": "watch", "conversation_id": cid})
    refused = await next_of(ws, "error")
    assert refused["error"] == "forbidden"
    await ws.close()


async def test_a_supervisor_monitors_a_conversation_live(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("w5", "转人工"))["conversation_id"]
    supervisor = await hub.staff("super")
    ws = await supervisor.ws()
    await ws.send_json({"type": "watch", "conversation_id": cid})
    await next_of(ws, "watching", conversation_id=cid)
    await agent.json(
        "POST",
        f"/api/v1/agent/conversations/{cid}/messages",
        {"text": "您好", "client_id": "m1"},
        status=201,
    )
    event = await next_of(ws, "message", conversation_id=cid)
    assert event["message"]["text"] == "您好"
    assert event["message"]["sender_id"] == "agent1"
    await ws.close()


async def test_supervisors_get_status_changes_and_emergency_alerts(hub: Hub):
    supervisor = await hub.staff("super")
    ws = await supervisor.ws()
    agent = await hub.staff("agent2")
    await agent.json("POST", "/api/v1/agent/status", {"status": "away"})
    status = await next_of(ws, "status", agent="agent2")
    assert status["status"] == "away"
    await hub.customer("w6", "救命，老人摔倒了")
    alert = await next_of(ws, "alert")
    assert alert["kind"] == "emergency"
    await ws.close()


async def test_closing_the_last_socket_starts_the_disconnect_grace(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    seat = hub.app[ACD].seat("agent1")
    first = await agent.ws()
    second = await agent.ws()
    await first.receive_json()
    await second.receive_json()
    await first.close()
    await asyncio.sleep(0.05)
    assert seat.connected is True
    await second.close()
    async with asyncio.timeout(5):
        while seat.connected:
            await asyncio.sleep(0.02)
    assert hub.app[ROUTER].timers.pending("disconnect:agent1")


async def test_logout_closes_the_socket(hub: Hub):
    agent = await hub.staff("agent1")
    ws = await agent.ws()
    await ws.receive_json()
    await agent.post("/api/v1/auth/logout")
    async with asyncio.timeout(5):
        msg = await ws.receive()
    assert msg.type in (
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.CLOSING,
    )


async def test_a_socket_from_another_origin_is_refused(hub: Hub):
    agent = await hub.staff("agent1")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await agent.http.ws_connect(agent.url("/api/v1/agent/ws"), origin="https://evil.example")
    assert refused.value.status == 403


class RefusingSender:
    """A channel that refuses every send for good, with a reason written for the agent."""

    async def send(self, message: object) -> None:
        raise DeliveryFailed(
            "已超过48小时互动窗口，无法通过公众号回复，请改用短信", retryable=False
        )


async def test_a_reply_the_citizen_did_not_get_is_reported_live_and_stored(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    ws = await agent.ws()
    sent = await hub.customer("w1", "转人工")
    cid = sent["conversation_id"]
    hub.app[OUTBOX].register("rest", RefusingSender())
    reply = await agent.json(
        "POST",
        f"/api/v1/agent/conversations/{cid}/messages",
        {"text": "您好", "client_id": "k1"},
        status=201,
    )
    event = await next_of(ws, "delivery_failed", conversation_id=cid)
    assert event["message_id"] == reply["message"]["id"]
    assert event["reason"].startswith("已超过48小时互动窗口")
    listed = await agent.json("GET", f"/api/v1/agent/conversations/{cid}/messages")
    mine = next(m for m in listed["messages"] if m["id"] == reply["message"]["id"])
    assert mine["delivery"] == "failed"
    assert mine["error"].endswith("请改用短信")
    await ws.close()


async def test_a_failure_without_a_reason_for_people_is_said_in_chinese(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    ws = await agent.ws()
    sent = await hub.customer("w2", "转人工")
    cid = sent["conversation_id"]
    hub.app[OUTBOX].register("rest", EnglishFailingSender())
    await agent.json(
        "POST",
        f"/api/v1/agent/conversations/{cid}/messages",
        {"text": "您好", "client_id": "k2"},
        status=201,
    )
    event = await next_of(ws, "delivery_failed", conversation_id=cid)
    assert event["reason"] == "消息发送失败，请稍后重试或改用其他渠道联系"
    await ws.close()


class EnglishFailingSender:
    async def send(self, message: object) -> None:
        raise DeliveryFailed("ConnectionResetError: peer reset", retryable=False)
