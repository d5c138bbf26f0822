"""The widget's WebSocket protocol against the real app and database."""

from __future__ import annotations

import aiohttp

from channels.webchat.keys import TOKENS
from mongo.client import Database
from tests.agent_web.conftest import Hub
from tests.channels.webchat.tabs import open_tab


async def test_a_message_is_acked_after_it_is_stored_and_the_bot_answers(hub: Hub, db: Database):
    tab = await open_tab(hub)
    welcome = await tab.until("welcome")
    assert welcome["visitor"].startswith("v-")
    await tab.until("synced")
    await tab.send(type="message", client_id="c-000000000001", text="宝宝医保怎么办")
    ack = await tab.until("ack")
    assert ack["client_id"] == "c-000000000001"
    stored = await db["messages"].find_one({"_id": ack["message_id"]})
    assert stored["text"] == "宝宝医保怎么办"
    reply = await tab.until("message", sender="bot")
    assert "90天内" in reply["text"]
    assert "转人工" in reply["quick_replies"]
    await tab.ws.close()


async def test_a_resent_message_is_stored_once_and_acked_again(hub: Hub, db: Database):
    tab = await open_tab(hub)
    await tab.until("synced")
    for _ in range(2):
        await tab.send(type="message", client_id="c-000000000002", text="停水了怎么办")
    first, second = await tab.until("ack"), await tab.until("ack")
    assert first["message_id"] == second["message_id"]
    assert second["duplicate"] is True
    assert await db["messages"].count_documents({"text": "停水了怎么办"}) == 1
    await tab.ws.close()


async def test_a_reconnect_replays_exactly_what_was_missed(hub: Hub):
    tab = await open_tab(hub)
    welcome = await tab.until("welcome")
    await tab.send(type="message", client_id="c-000000000003", text="你好")
    greeting = await tab.until("message", sender="bot")
    await tab.ws.close()
    # while the visitor is away, two more answers arrive (another tab asks)
    other = await open_tab(hub, welcome["visitor"], welcome["token"])
    await other.until("synced")
    await other.send(type="message", client_id="c-000000000004", text="停水了怎么办")
    missed = await other.until("message", sender="bot")
    await other.ws.close()
    back = await open_tab(hub, welcome["visitor"], welcome["token"], after=greeting["id"])
    await back.until("synced")
    replayed = back.messages()
    assert [m["id"] for m in replayed if m["sender"] == "bot"] == [missed["id"]]
    assert [m["client_id"] for m in replayed if m["sender"] == "customer"] == ["c-000000000004"]
    await back.ws.close()


async def test_a_forged_visitor_is_refused(hub: Hub):
    tab = await open_tab(hub)
    welcome = await tab.until("welcome")
    await tab.ws.close()
    forged = await open_tab(hub, welcome["visitor"], "0" * 64)
    error = await forged.until("error")
    assert error["reason"] == "身份校验失败，请刷新页面"
    closed = await forged.ws.receive(timeout=5)
    assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert forged.ws.close_code == 4401


async def test_bad_frames_get_a_reason_and_the_socket_stays_usable(hub: Hub):
    tab = await open_tab(hub)
    await tab.until("synced")
    await tab.ws.send_str("not json")
    assert (await tab.until("error"))["reason"] == "无法识别的消息格式"
    await tab.send(type="message", client_id="c-000000000005", text="")
    assert (await tab.until("error"))["reason"] == "不能发送空消息"
    await tab.send(type="message", client_id="c-000000000006", text="长" * 5000)
    assert "太长" in (await tab.until("error"))["reason"] or "过长" in tab.frames[-1]["reason"]
    await tab.send(type="ping")
    await tab.until("pong")
    await tab.ws.close()


async def test_a_rating_is_stored(hub: Hub, db: Database):
    tab = await open_tab(hub)
    await tab.until("synced")
    await tab.send(type="message", client_id="c-000000000007", text="你好")
    ack = await tab.until("ack")
    await tab.send(type="rate", value="neutral", comment="回答还可以")
    await tab.until("rated")
    conversation = (await db["messages"].find_one({"_id": ack["message_id"]}))["conversation_id"]
    assert (await db["conversations"].find_one({"_id": conversation}))["rating"] == "neutral"
    rating = await db["ratings"].find_one({"_id": conversation})
    assert rating["comment"] == "回答还可以"
    await tab.send(type="rate", value="great")
    assert (await tab.until("error"))["reason"] == "请选择满意、一般或不满意"
    await tab.ws.close()


async def test_an_agent_reply_reaches_the_open_tab(hub: Hub):
    tab = await open_tab(hub)
    await tab.until("synced")
    agent = await hub.staff("agent1", ready=True)
    await tab.send(type="message", client_id="c-000000000008", text="转人工")
    await tab.until("state", state="assigned")
    cid = (await agent.json("GET", "/api/v1/agent/inbox"))["conversations"][0]["id"]
    await agent.json(
        "POST",
        f"/api/v1/agent/conversations/{cid}/messages",
        {"text": "您好，请讲", "client_id": "agent-reply-0001"},
        status=201,
    )
    reply = await tab.until("message", sender="agent")
    assert reply["text"] == "您好，请讲"


async def test_tokens_are_bound_to_their_visitor(hub: Hub):
    tokens = hub.client.app[TOKENS]
    visitor, token = tokens.new_visitor()
    other, _ = tokens.new_visitor()
    assert tokens.valid(visitor, token)
    assert not tokens.valid(other, token)
    assert not tokens.valid("x", token)
