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
