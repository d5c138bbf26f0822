"""The supervisors' desk (班长席).

GET  /api/v1/supervisor/board                           queues and agents, live figures
GET  /api/v1/supervisor/conversations                   every waiting and served conversation
POST /api/v1/supervisor/conversations/{cid}/whisper     {"text"}: a note only the agent sees
POST /api/v1/supervisor/conversations/{cid}/take-over
PUT  /api/v1/supervisor/customers/{customer_id}/tags    {"tags": ["elderly","vip",…]}
Monitoring is GET /api/v1/agent/conversations/{cid} plus a "watch" on the WebSocket.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_web.auth import Caller, refusal, requires
from agent_web.inbox_api import presence_json, with_customer
from agent_web.json_input import read_json, string_list, text
from agent_web.keys import ACD, AGENT_DESK, CLOCK, CONVERSATIONS, CUSTOMERS, OFFERS, ROUTER
from agent_web.views import customer_json, message_json
from primitives.errors import NotAllowed
from routing.agent_desk import AgentDesk
from routing.agents import Role
from routing.assignment import Acd
from routing.conversation_model import WAITING, WITH_AGENT
from routing.customers import CustomerTag
from routing.presence import AgentStatus

MAX_LISTED = 200


@requires(Role.SUPERVISOR)
async def board(request: web.Request, me: Caller) -> web.Response:
    acd = request.app[ACD]
    return web.json_response(
        {
            "queues": _queues(request),
            "agents": _agents(acd, request.app[AGENT_DESK]),
            "longest_answered_wait_s": int(acd.longest_answered_wait_s()),
        }
    )


def _queues(request: web.Request) -> list[dict[str, Any]]:
    acd = request.app[ACD]
    now = request.app[CLOCK].now()
    offers = request.app[OFFERS]
    out = []
    for name, cfg in acd.queue_configs().items():
        waiting = acd.waiting_entries(name)
        longest = max(((now - e.queued_at).total_seconds() for e in waiting), default=0.0)
        level = acd.service_level(name)
        seats = acd.seats_with_skill(name)
        out.append(
            {
                "queue": name,
                "title": cfg.title,
                "strategy": cfg.strategy.value,
                "waiting": len(waiting),
                "offered": offers.count_in_queue(name),
                "longest_wait_s": int(longest),
                "answered": acd.answered_count(name),
                "service_level": None if level is None else round(level, 3),
                "service_level_target_s": cfg.service_level_s,
                "agents_ready": sum(1 for s in seats if s.status is AgentStatus.READY),
                "agents_signed_in": sum(1 for s in seats if s.status is not AgentStatus.OFFLINE),
            }
        )
    return out


def _agents(acd: Acd, desk: AgentDesk) -> list[dict[str, Any]]:
    out = []
    for seat in acd.seats():
        try:
            agent = desk.agent(seat.login)
        except NotAllowed:
            continue
        if not agent.has_role(Role.AGENT) or Role.ADMIN in agent.roles:
            continue
        out.append(
            {
                "login": seat.login,
                "name": seat.name,
                "skills": sorted(seat.skills),
                "assigned_total": seat.assigned_total,
                **presence_json(seat),
            }
        )
    return out


@requires(Role.SUPERVISOR)
async def conversations(request: web.Request, me: Caller) -> web.Response:
    active = await request.app[CONVERSATIONS].in_states(WAITING | WITH_AGENT)
    active.sort(key=lambda c: (c.state.value, c.updated_at))
    customers = request.app[CUSTOMERS]
    watch = request.app[ROUTER].reply_watch
    listed = [await with_customer(customers, c, watch) for c in active[:MAX_LISTED]]
    return web.json_response({"conversations": listed, "total": len(active)})


@requires(Role.SUPERVISOR)
async def whisper(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    stored = await request.app[AGENT_DESK].note(
        me.login, request.match_info["cid"], text(body, "text", max_len=2000), whisper=True
    )
    return web.json_response({"message": message_json(stored)}, status=201)


@requires(Role.SUPERVISOR)
async def take_over(request: web.Request, me: Caller) -> web.Response:
    conv = await request.app[AGENT_DESK].take_over(me.login, request.match_info["cid"])
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(Role.SUPERVISOR)
async def set_tags(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    tags = set(string_list(body, "tags", max_items=8))
    known = {t.value for t in CustomerTag}
    if not tags <= known:
        raise refusal(400, "bad_request", "tags must be among " + ", ".join(sorted(known)))
    router = request.app[ROUTER]
    customer_id = request.match_info["customer_id"]
    customer = await request.app[CUSTOMERS].set_tags(customer_id, frozenset(tags))
    router.forget_customer(customer_id)
    router.forget_customer(customer.id)  # differs when customer_id was merged away
    return web.json_response({"customer": customer_json(customer)})


def add_routes(app: web.Application) -> None:
    base = "/api/v1/supervisor"
    app.router.add_get(base + "/board", board)
    app.router.add_get(base + "/conversations", conversations)
    app.router.add_post(base + "/conversations/{cid}/whisper", whisper)
    app.router.add_post(base + "/conversations/{cid}/take-over", take_over)
    app.router.add_put(base + "/customers/{customer_id}/tags", set_tags)
