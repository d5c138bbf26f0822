"""GET /metrics scraped over real HTTP: queue lengths and waits, assignments, messages by
channel, bot and database latency, delivery failures; served to loopback or with the token."""

from __future__ import annotations

import re

import aiohttp
from pydantic import SecretStr

from hub.app import create_app
from hub.settings import Settings
from tests.agent_web.conftest import REST
from tests.browser.conftest import serve
from tests.channels.helpers import eventually
from tests.fakes.bot import FakeBot


def _value(body: str, name: str, **labels: str) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" (\S+)"
    found = re.search("^" + pattern + "$", body, re.MULTILINE)
    return float(found.group(1)) if found else None


async def test_metrics_over_http_count_messages_queues_and_latencies(settings: Settings):
    server = await serve(create_app(settings, bot=FakeBot()))
    base = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as http:
            for text in ("医保怎么办", "转人工"):  # a KB answer, then a hand-over (no agent)
                resp = await http.post(base + REST, json={"sender_id": "m1", "text": text})
                assert resp.status == 200, await resp.text()

            async def scraped() -> str | None:
                resp = await http.get(base + "/metrics")
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/plain")
                body = await resp.text()
                queued = _value(body, "hub_conversations_queued_total", queue="general")
                return body if queued == 1 else None

            body = await eventually(scraped)
        assert _value(body, "hub_messages_total", channel="rest", sender="customer") == 2
        assert _value(body, "hub_messages_total", channel="rest", sender="bot") >= 2
        assert _value(body, "hub_queue_waiting", queue="general") == 1
        assert _value(body, "hub_queue_longest_wait_seconds", queue="general") >= 0
        assert _value(body, "hub_agents", status="ready") == 0
        assert _value(body, "hub_bot_latency_seconds_count") == 2
        assert _value(body, "hub_db_latency_seconds_count") >= 1
        assert _value(body, "hub_db_up") == 1
        # every command the driver ran, by command: the two messages were stored (insert)
        assert _value(body, "hub_db_command_seconds_count", command="insert") >= 2
        assert _value(body, "hub_db_command_seconds_count", command="find") >= 1
        assert _value(body, "hub_delivery_failures_total") == 0
        assert "hub_assignments_total" in body
    finally:
        await server.close()


async def test_metrics_off_the_host_need_the_token(settings: Settings):
    changed = {"hub_proxy_hops": 1, "hub_metrics_token": SecretStr("s3cret-metrics")}
    server = await serve(create_app(settings.model_copy(update=changed), bot=FakeBot()))
    url = str(server.make_url("/metrics"))
    outside = {"X-Forwarded-For": "203.0.113.7"}
    try:
        async with aiohttp.ClientSession() as http:
            resp = await http.get(url, headers=outside)
            assert resp.status == 403
            assert (await resp.json())["error"] == "forbidden"
            wrong = outside | {"Authorization": "Bearer nope"}
            assert (await http.get(url, headers=wrong)).status == 403
            right = outside | {"Authorization": "Bearer s3cret-metrics"}
            resp = await http.get(url, headers=right)
            assert resp.status == 200
            assert "hub_queue_waiting" in await resp.text()
            # Through the proxy from the host itself: loopback, served without a token.
            resp = await http.get(url, headers={"X-Forwarded-For": "127.0.0.1"})
            assert resp.status == 200
    finally:
        await server.close()
