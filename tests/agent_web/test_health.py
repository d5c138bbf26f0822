from pathlib import Path

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings
from tests.agent_web.outage import hub_on_own_database
from tests.fakes.bot import FakeBot


async def test_healthz_reports_the_database_up(aiohttp_client, settings: Settings):
    client: TestClient = await aiohttp_client(
        create_app(settings, db_kind="embedded", bot=FakeBot())
    )
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "up", "kind": "embedded"}


async def test_unknown_api_path_is_a_json_404(aiohttp_client, settings: Settings):
    client: TestClient = await aiohttp_client(create_app(settings, bot=FakeBot()))
    resp = await client.get("/api/v1/nope")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


async def test_app_seeds_the_taxonomy_once(aiohttp_client, settings: Settings, mongo_client):
    await aiohttp_client(create_app(settings, bot=FakeBot()))
    await aiohttp_client(create_app(settings, bot=FakeBot()))
    doc = await mongo_client[settings.mongo_db]["taxonomy"].find_one({})
    assert len(doc["categories"]) == 239
    assert doc["version"] == 1


async def test_healthz_reports_the_database_down_with_503(
    aiohttp_client, settings: Settings, tmp_path: Path
):
    async with hub_on_own_database(aiohttp_client, settings, tmp_path) as (hub, server):
        await server.stop()
        resp = await hub.client.get("/healthz")
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "5"
        body = await resp.json()
        assert body["status"] == "degraded"
        assert body["database"] == {"status": "down", "kind": "embedded"}
