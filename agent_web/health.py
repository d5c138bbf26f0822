"""GET /healthz: is the hub usable, and which parts are degraded."""

from __future__ import annotations

from aiohttp import web

from agent_web.errors import DATABASE_RETRY_AFTER_S
from agent_web.keys import DATABASE_UP, DB_KIND, HEALTH_PROBES


async def healthz(request: web.Request) -> web.Response:
    up = await request.app[DATABASE_UP]()
    body = {
        "status": "ok" if up else "degraded",
        "database": {"status": "up" if up else "down", "kind": request.app[DB_KIND]},
    }
    for name, probe in request.app[HEALTH_PROBES].items():
        part = await probe()
        body[name] = part
        if part.get("degraded"):  # still serving (e.g. Rasa down, embedded NLU answers)
            body["status"] = "degraded"
    if not up:
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S), "Cache-Control": "no-store"}
        return web.json_response(body, status=503, headers=headers)
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    app.setdefault(HEALTH_PROBES, {})
    app.router.add_get("/healthz", healthz)
