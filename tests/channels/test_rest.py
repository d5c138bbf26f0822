import asyncio
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from agent_web.keys import AGENT_DESK, OUTBOX
from hub.app import create_app
from hub.keys import DB
from hub.settings import Settings
from routing.presence import AgentStatus
from tests.fakes.bot import FakeBot

URL = "/api/v1/channels/rest/messages"


@pytest.fixture
async def client(aiohttp_client, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings, bot=FakeBot()))


async def test_knowledge_question_returns_the_answer_and_article(client: TestClient):
    resp = await client.post(URL, json={"sender_id": "u1", "text": "新生儿医保怎么办"})
    assert resp.status == 200
    body = await resp.json()
    assert body["state"] == "bot"
    assert body["replies"][0]["kb_article_id"] == "kb-0001"
    assert body["replies"][0]["intent"] == "consult"
    assert "90天内" in body["replies"][0]["text"]


async def test_asking_for_a_human_queues(client: TestClient):
    body = await (await client.post(URL, json={"sender_id": "u1", "text": "转人工"})).json()
    assert body["state"] == "queued"
    assert "暂无人工客服" in body["replies"][-1]["text"]  # nobody on duty: no wait promised


async def test_agent_reply_reaches_the_sender_by_polling(client: TestClient):
    first = await (await client.post(URL, json={"sender_id": "u9", "text": "转人工"})).json()
    desk = client.app[AGENT_DESK]
    from mongo.people import MongoAgentRepository
    from routing.agents import Agent, Role

    await MongoAgentRepository(client.app[DB]).upsert(
        Agent("a1", "李娜", frozenset({Role.AGENT}), {"general": 5})
    )
    await desk.refresh_agent("a1")
    await desk.set_status("a1", AgentStatus.READY)
    await desk.reply("a1", first["conversation_id"], "您好，我是李娜", client_id="k1")
    await client.app[OUTBOX].drain()
    resp = await client.get(URL, params={"sender_id": "u9"})
    texts = [m["text"] for m in (await resp.json())["messages"]]
    assert texts[-2:] == ["您好，人工客服李娜为您服务。", "您好，我是李娜"]
    last = (await resp.json())["messages"][-1]["id"]
    later = await (await client.get(URL, params={"sender_id": "u9", "after": last})).json()
    assert later["messages"] == []


async def test_retry_with_message_id_is_stored_once(client: TestClient):
    payload = {"sender_id": "u1", "text": "医保", "message_id": "abc-1"}
    first = await (await client.post(URL, json=payload)).json()
    second = await (await client.post(URL, json=payload)).json()
    assert second["duplicate"] is True
    assert second["message_id"] == first["message_id"]
    assert second["replies"] == first["replies"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "the body is not valid JSON"),
        ("[1, 2]", "the body must be a JSON object"),
        ('{"text": "hi"}', "field 'sender_id' is required"),
        ('{"sender_id": "u1"}', "field 'text' is required"),
        ('{"sender_id": 5, "text": "hi"}', "field 'sender_id' must be a string"),
        ('{"sender_id": "u1", "text": "   "}', "field 'text' is empty"),
        ('{"sender_id": "a b", "text": "hi"}', "sender_id must be 1–128 characters"),
        (
            '{"sender_id": "u1", "text": "' + "字" * 2001 + '"}',
            "field 'text' is longer than 2000 characters",
        ),
    ],
)
async def test_bad_requests_get_400_with_a_reason(client: TestClient, body: str, reason: str):
    resp = await client.post(URL, data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    payload = await resp.json()
    assert payload["error"] == "bad_request"
    assert payload["reason"].startswith(reason)


async def test_polling_needs_a_sender_and_a_well_formed_cursor(client: TestClient):
    assert (await client.get(URL)).status == 400
    resp = await client.get(URL, params={"sender_id": "u1", "after": "'; drop"})
    assert resp.status == 400
    assert (await client.get(URL, params={"sender_id": "nobody"})).status == 200


async def test_token_is_required_when_configured(aiohttp_client, settings: Settings):
    locked = settings.model_copy(update={"hub_rest_token": SecretStr("s3cret")})
    client = await aiohttp_client(create_app(locked, bot=FakeBot()))
    resp = await client.post(URL, json={"sender_id": "u1", "text": "hi"})
    assert resp.status == 401
    ok = await client.post(
        URL, json={"sender_id": "u1", "text": "hi"}, headers={"Authorization": "Bearer s3cret"}
    )
    assert ok.status == 200


def _app(settings: Settings, **changes: object) -> web.Application:
    return create_app(settings.model_copy(update=changes), bot=FakeBot())


async def test_rest_requires_a_token_when_not_on_loopback(aiohttp_client, settings: Settings):
    client = await aiohttp_client(_app(settings, hub_host="0.0.0.0"))
    refusals = [
        await client.post(URL, json={"sender_id": "u1", "text": "hi"}),
        await client.get(URL, params={"sender_id": "u1"}),
    ]
    for resp in refusals:
        assert resp.status == 403
        assert await resp.json() == {
            "error": "token_required",
            "reason": "the REST channel is closed: set HUB_REST_TOKEN (a bearer token) "
            "when HUB_HOST is not a loopback address",
        }


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
async def test_rest_needs_no_token_on_loopback(aiohttp_client, settings: Settings, host: str):
    client = await aiohttp_client(_app(settings, hub_host=host))
    assert (await client.post(URL, json={"sender_id": "u1", "text": "hi"})).status == 200


async def test_a_token_opens_the_rest_channel_on_any_address(aiohttp_client, settings: Settings):
    client = await aiohttp_client(
        _app(settings, hub_host="0.0.0.0", hub_rest_token=SecretStr("s3cret"))
    )
    body = {"sender_id": "u1", "text": "hi"}
    for auth in ("", "Bearer wrong", "s3cret", "Basic s3cret", "Bearer 密码"):
        resp = await client.post(URL, json=body, headers={"Authorization": auth})
        assert resp.status == 401, auth
        assert (await resp.json())["error"] == "unauthorized"
    ok = await client.post(URL, json=body, headers={"Authorization": "Bearer s3cret"})
    assert ok.status == 200
    ok = await client.get(
        URL, params={"sender_id": "u1"}, headers={"Authorization": "bearer s3cret"}
    )
    assert ok.status == 200


async def test_a_non_utf8_authorization_header_is_a_401(aiohttp_client, settings: Settings):
    client = await aiohttp_client(_app(settings, hub_rest_token=SecretStr("s3cret")))
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    body = b'{"sender_id": "u1", "text": "hi"}'
    writer.write(
        b"POST " + URL.encode() + b" HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n"
        b"Authorization: Bearer \xff\xfe\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    response = await reader.read()
    writer.close()
    assert response.startswith(b"HTTP/1.1 401")


async def test_two_senders_may_use_the_same_message_id(client: TestClient):
    alice = {"sender_id": "alice", "text": "新生儿医保怎么办", "message_id": "m-1"}
    bob = {"sender_id": "bob", "text": "转人工", "message_id": "m-1"}
    first = await (await client.post(URL, json=alice)).json()
    other = await (await client.post(URL, json=bob)).json()
    assert other["duplicate"] is False
    assert other["conversation_id"] != first["conversation_id"]
    assert other["message_id"] != first["message_id"]
    assert other["state"] == "queued"  # bob's own text was read
    retry = await (await client.post(URL, json=bob)).json()
    assert (retry["duplicate"], retry["message_id"]) == (True, other["message_id"])
    db = client.app[DB]
    stored = [d["text"] async for d in db["messages"].find({"channel": "rest", "direction": "in"})]
    assert sorted(stored) == sorted(["新生儿医保怎么办", "转人工"])


async def test_a_sender_id_with_a_colon_does_not_collide_with_another_message_id(
    client: TestClient,
):
    """alice:x + message 1 and alice + message x:1 are two messages."""
    one = await (
        await client.post(URL, json={"sender_id": "alice:x", "text": "一", "message_id": "1"})
    ).json()
    two = await (
        await client.post(URL, json={"sender_id": "alice", "text": "二", "message_id": "x:1"})
    ).json()
    assert two["duplicate"] is False
    assert two["message_id"] != one["message_id"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            '{"sender_id": "u1", "text": ' + "[" * 2000 + "]" * 2000 + "}",
            "the body is nested too deeply",
        ),
        (
            '{"sender_id": "u1", "text": "hi\\ud800"}',
            "the body holds a lone surrogate (\\ud800-\\udfff) in a string",
        ),
        (
            '{"sender_id": "u1", "text": "hi", "name": "\\udfff"}',
            "the body holds a lone surrogate (\\ud800-\\udfff) in a string",
        ),
        (b'{"sender_id": "u1", "text": "\xff"}', "the body is not valid JSON"),
    ],
)
async def test_malformed_json_is_a_400(client: TestClient, body: str | bytes, reason: str):
    resp = await client.post(URL, data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert await resp.json() == {"error": "bad_request", "reason": reason}


async def test_an_oversized_body_is_a_413(client: TestClient):
    body = json.dumps({"sender_id": "u1", "text": "长" * 30_000})
    resp = await client.post(URL, data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 413
    assert await resp.json() == {
        "error": "too_large",
        "reason": "the body is larger than 65536 bytes",
    }
