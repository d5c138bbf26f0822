import pytest
from aiohttp.test_utils import TestClient

from channels.keys import ROUTING
from hub.app import create_app
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
    assert "您前面还有0位" in body["replies"][-1]["text"]


async def test_agent_reply_reaches_the_sender_by_polling(client: TestClient):
    first = await (await client.post(URL, json={"sender_id": "u9", "text": "转人工"})).json()
    stack = client.app[ROUTING]
    from mongo.people import MongoAgentRepository
    from routing.agents import Agent, Role

    await MongoAgentRepository(client.app[ROUTING].messages._col.database).upsert(
        Agent("a1", "李娜", frozenset({Role.AGENT}), {"general": 5})
    )
    await stack.desk.refresh_agent("a1")
    await stack.desk.set_status("a1", AgentStatus.READY)
    await stack.desk.reply("a1", first["conversation_id"], "您好，我是李娜", client_id="k1")
    await stack.outbox.drain()
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
    from pydantic import SecretStr

    locked = settings.model_copy(update={"hub_rest_token": SecretStr("s3cret")})
    client = await aiohttp_client(create_app(locked, bot=FakeBot()))
    resp = await client.post(URL, json={"sender_id": "u1", "text": "hi"})
    assert resp.status == 401
    ok = await client.post(
        URL, json={"sender_id": "u1", "text": "hi"}, headers={"Authorization": "Bearer s3cret"}
    )
    assert ok.status == 200
