"""Canned replies and the KB panel, for the composer.

GET    /api/v1/agent/canned            shared replies and mine
POST   /api/v1/agent/canned            {"shortcut","title","text","shared"} (shared: supervisors)
PUT    /api/v1/agent/canned/{id}       {"shortcut","title","text"}
DELETE /api/v1/agent/canned/{id}
GET    /api/v1/agent/kb/search?q=…&limit=…   {"available", "hits"}
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from agent_web.auth import Caller, refusal, requires
from agent_web.canned import CannedReply, checked_fields
from agent_web.inbox_api import SERVING
from agent_web.json_input import query_int, read_json, text
from agent_web.kb_panel import MAX_QUERY, search_json
from agent_web.keys import CANNED_REPLIES, CLOCK, KB_SEARCH
from agent_web.views import iso
from primitives.ids import new_id
from routing.agents import Role


def _json(reply: CannedReply, me: Caller) -> dict[str, Any]:
    return {
        "id": reply.id,
        "shortcut": reply.shortcut,
        "title": reply.title,
        "text": reply.text,
        "shared": reply.shared,
        "editable": _may_edit(reply, me),
        "updated_at": iso(reply.updated_at),
    }


def _may_edit(reply: CannedReply, me: Caller) -> bool:
    return me.has(Role.SUPERVISOR) if reply.shared else reply.owner == me.login


@requires(*SERVING)
async def list_replies(request: web.Request, me: Caller) -> web.Response:
    replies = await request.app[CANNED_REPLIES].visible_to(me.login)
    return web.json_response({"replies": [_json(r, me) for r in replies]})


@requires(*SERVING)
async def create_reply(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    shared = body.get("shared", False)
    if not isinstance(shared, bool):
        raise refusal(400, "bad_request", "field 'shared' must be true or false")
    if shared and not me.has(Role.SUPERVISOR):
        raise refusal(403, "forbidden", "shared replies are kept by supervisors")
    shortcut, title, reply_text = _fields(body)
    reply = CannedReply(
        id=new_id(),
        shortcut=shortcut,
        title=title,
        text=reply_text,
        owner=None if shared else me.login,
        updated_at=request.app[CLOCK].now(),
    )
    await request.app[CANNED_REPLIES].add(reply)  # ShortcutTaken -> 409
    return web.json_response({"reply": _json(reply, me)}, status=201)


@requires(*SERVING)
async def update_reply(request: web.Request, me: Caller) -> web.Response:
    repo = request.app[CANNED_REPLIES]
    reply = await _editable(request, me)
    shortcut, title, reply_text = _fields(await read_json(request))
    changed = replace(
        reply, shortcut=shortcut, title=title, text=reply_text, updated_at=request.app[CLOCK].now()
    )
    await repo.save(changed)
    return web.json_response({"reply": _json(changed, me)})


@requires(*SERVING)
async def delete_reply(request: web.Request, me: Caller) -> web.Response:
    reply = await _editable(request, me)
    await request.app[CANNED_REPLIES].remove(reply.id)
    return web.json_response({"ok": True})


async def _editable(request: web.Request, me: Caller) -> CannedReply:
    reply = await request.app[CANNED_REPLIES].get(request.match_info["id"])
    if reply.owner is not None and reply.owner != me.login:
        # Someone else's personal reply: as good as absent.
        raise refusal(404, "not_found", "no such canned reply")
    if not _may_edit(reply, me):
        raise refusal(403, "forbidden", "shared replies are kept by supervisors")
    return reply


def _fields(body: dict[str, Any]) -> tuple[str, str, str]:
    return checked_fields(
        text(body, "shortcut", max_len=40),
        text(body, "title", max_len=100, default=""),
        text(body, "text", max_len=4000),
    )


@requires(*SERVING)
async def kb_search(request: web.Request, me: Caller) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query:
        raise refusal(400, "bad_request", "query parameter q is required")
    if len(query) > MAX_QUERY:
        raise refusal(
            400, "bad_request", f"query parameter q is longer than {MAX_QUERY} characters"
        )
    limit = query_int(request, "limit", low=1, high=20, default=8)
    return web.json_response(await search_json(request.app.get(KB_SEARCH), query, limit))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/canned", list_replies)
    app.router.add_post("/api/v1/agent/canned", create_reply)
    app.router.add_put("/api/v1/agent/canned/{id}", update_reply)
    app.router.add_delete("/api/v1/agent/canned/{id}", delete_reply)
    app.router.add_get("/api/v1/agent/kb/search", kb_search)
