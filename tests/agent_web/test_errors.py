from pathlib import Path

from agent_web.keys import LOGIN_GUARD
from hub.settings import Settings
from tests.agent_web.conftest import PASSWORD
from tests.agent_web.outage import hub_on_own_database

DATABASE_DOWN = {"error": "database_unavailable", "reason": "数据库暂时不可用，请稍后重试"}


async def test_a_database_outage_is_a_503_with_retry_after(
    aiohttp_client, settings: Settings, tmp_path: Path
):
    async with hub_on_own_database(aiohttp_client, settings, tmp_path) as (hub, server):
        member = await hub.staff("agent1")
        await server.stop()
        for method, path, body in (
            ("GET", "/api/v1/auth/me", None),
            ("POST", "/api/v1/agent/status", {"status": "ready"}),
        ):
            resp = await member.call(method, path, body)
            assert resp.status == 503, (path, await resp.text())
            assert resp.headers["Retry-After"] == "5"
            assert await resp.json() == DATABASE_DOWN


async def test_a_sign_in_during_an_outage_is_a_503_that_costs_no_attempt(
    aiohttp_client, settings: Settings, tmp_path: Path
):
    async with hub_on_own_database(aiohttp_client, settings, tmp_path) as (hub, server):
        await server.stop()
        member = await hub.anonymous()
        member.login = "agent1"
        resp = await member.sign_in(PASSWORD)
        assert resp.status == 503
        assert await resp.json() == DATABASE_DOWN
        assert hub.app[LOGIN_GUARD].tracked() == (0, 0)


async def test_sockets_stay_open_through_a_database_outage(
    aiohttp_client, settings: Settings, tmp_path: Path
):
    """A visitor's and an agent's socket answer with a polite error while the database is
    down, and keep working: nothing is acknowledged that was not stored."""
    async with hub_on_own_database(aiohttp_client, settings, tmp_path) as (hub, server):
        member = await hub.staff("agent1")
        agent_ws = await member.ws()
        assert (await agent_ws.receive_json())["type"] == "hello"
        visitor = await hub.client.ws_connect("/webchat/ws")
        await visitor.send_json({"type": "hello", "visitor": "", "token": "", "after": ""})
        while (await visitor.receive_json())["type"] != "synced":
            pass
        await server.stop()

        await visitor.send_json({"type": "message", "client_id": "c-outage-1", "text": "你好"})
        frame = await visitor.receive_json(timeout=30)
        while frame["type"] == "typing":
            frame = await visitor.receive_json(timeout=30)
        assert frame == {"type": "error", "reason": "暂时无法处理，请稍后再试"}
        await visitor.send_json({"type": "ping"})
        assert (await visitor.receive_json(timeout=10))["type"] == "pong"

        await agent_ws.send_json({"type": "watch", "conversation_id": "c-unknown"})
        answer = await agent_ws.receive_json(timeout=30)
        while answer["type"] not in ("error", "watching"):
            answer = await agent_ws.receive_json(timeout=30)
        assert answer["type"] == "error"
        await agent_ws.send_json({"type": "ping"})
        while (await agent_ws.receive_json(timeout=10))["type"] != "pong":
            pass
        assert not visitor.closed
        assert not agent_ws.closed
        await visitor.close()
        await agent_ws.close()
