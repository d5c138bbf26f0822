"""The dispatch catalogue (派单目录) and the departments cases go to.

GET    /api/v1/catalogue/suggest?category=<code path, comma-separated, or the deepest code>
                                                  → {"suggestion": {lead, assisting, due_days}|null}
GET    /api/v1/departments                        → {"departments": [{"code","name"}]} (active)
GET    /api/v1/admin/catalogue                    → {"entries": [...]}                 (admin)
PUT    /api/v1/admin/catalogue/{category}         {"lead","assisting","due_days"} → 200
DELETE /api/v1/admin/catalogue/{category}         → 204
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_web.auth import Caller, refusal, requires
from agent_web.case_views import (
    CaseContext,
    case_context,
    departments_json,
    suggestion_json,
)
from agent_web.json_input import read_json
from agent_web.keys import CATALOGUE, DEPARTMENTS, TAXONOMY
from cases.catalogue import CatalogueEntry
from cases.errors import UnknownCategory
from routing.agents import Role


@requires(Role.AGENT, Role.SUPERVISOR)
async def suggest(request: web.Request, me: Caller) -> web.Response:
    codes = [c.strip() for c in request.query.get("category", "").split(",") if c.strip()]
    if not codes:
        raise refusal(400, "bad_request", "请指定分类（category）")
    try:  # the deepest code's whole path: an entry for any level above it applies
        path = [c.code for c in request.app[TAXONOMY][0].path(codes[-1])]
    except UnknownCategory:
        raise refusal(400, "bad_request", f"分类 {codes[-1][:16]} 不存在") from None
    entry = request.app[CATALOGUE].suggest(path)
    ctx = await case_context(request.app)
    return web.json_response({"suggestion": suggestion_json(entry, ctx)})


@requires(Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT)
async def departments(request: web.Request, me: Caller) -> web.Response:
    found = [
        {"code": d.code, "name": d.name} for d in await request.app[DEPARTMENTS].all() if d.active
    ]
    return web.json_response({"departments": found})


@requires(Role.ADMIN)
async def entries(request: web.Request, me: Caller) -> web.Response:
    ctx = await case_context(request.app)
    listed = [_entry_json(e, ctx) for e in request.app[CATALOGUE].entries()]
    return web.json_response({"entries": listed})


@requires(Role.ADMIN)
async def save_entry(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    lead = body.get("lead")
    if not isinstance(lead, str) or not lead.strip():
        raise refusal(400, "bad_request", "请选择主办单位（lead）")
    assisting = body.get("assisting") or []
    if not isinstance(assisting, list) or not all(isinstance(a, str) for a in assisting):
        raise refusal(400, "bad_request", "协办单位（assisting）须为部门代码列表")
    due = body.get("due_days")
    if due is not None and (isinstance(due, bool) or not isinstance(due, int)):
        raise refusal(400, "bad_request", "办理时限（due_days）须为整数个工作日")
    entry = CatalogueEntry(
        request.match_info["category"], lead.strip(), tuple(dict.fromkeys(assisting)), due
    )
    saved = await request.app[CATALOGUE].save(entry)  # InvalidInput (zh-CN) -> 400
    ctx = await case_context(request.app)
    return web.json_response({"entry": _entry_json(saved, ctx)})


@requires(Role.ADMIN)
async def delete_entry(request: web.Request, me: Caller) -> web.Response:
    if not await request.app[CATALOGUE].delete(request.match_info["category"]):
        raise refusal(404, "not_found", "派单目录中没有该分类")
    return web.Response(status=204)


def _entry_json(entry: CatalogueEntry, ctx: CaseContext) -> dict[str, Any]:
    try:
        name = ctx.taxonomy.label(entry.category)
    except UnknownCategory:
        name = entry.category
    return {
        "category": entry.category,
        "category_name": name,
        "lead": entry.lead,
        "lead_name": ctx.department_name(entry.lead),
        "assisting": departments_json(entry.assisting, ctx),
        "due_days": entry.due_days,
    }


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/catalogue/suggest", suggest)
    app.router.add_get("/api/v1/departments", departments)
    app.router.add_get("/api/v1/admin/catalogue", entries)
    app.router.add_put("/api/v1/admin/catalogue/{category:[0-9A-Za-z_-]{1,16}}", save_entry)
    app.router.add_delete("/api/v1/admin/catalogue/{category:[0-9A-Za-z_-]{1,16}}", delete_entry)
