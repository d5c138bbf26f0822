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
from agent_web.keys import OFFERS
from agent_web.views import customer_json, message_json
from channels.keys import ROUTING
from hub.routing_stack import RoutingStack
from primitives.errors import NotAllowed
from routing.agents import Role
from routing.conversation_model import WAITING, WITH_AGENT
from routing.customers import CustomerTag
from routing.presence import AgentStatus

MAX_LISTED = 200


@requires(Role.SUPERVISOR)
async def board(request: web.Request, me: Caller) -> web.Response:
    stack = request.app[ROUTING]
    return web.json_response(
        {
            "queues": _queues(request, stack),
            "agents": _agents(stack),
            "longest_answered_wait_s": int(stack.acd.stats.longest_answered_wait_s),
        }
    )


def _queues(request: web.Request, stack: RoutingStack) -> list[dict[str, Any]]:
    now = stack.router.clock.now()
    stats = stack.acd.stats
    offers = request.app[OFFERS]
    out = []
    for name, cfg in stack.acd.config.queues.items():
        waiting = list(stack.acd.queues[name])
        longest = max(((now - e.queued_at).total_seconds() for e in waiting), default=0.0)
        level = stats.service_level(name)
        seats = stack.acd.presence.with_skill(name)
        out.append(
            {
                "queue": name,
                "title": cfg.title,
                "strategy": cfg.strategy.value,
                "waiting": len(waiting),
                "offered": offers.count_in_queue(name),
                "longest_wait_s": int(longest),
                "answered": stats.answered.get(name, 0),
                "service_level": None if level is None else round(level, 3),
                "service_level_target_s": cfg.service_level_s,
                "agents_ready": sum(1 for s in seats if s.status is AgentStatus.READY),
                "agents_signed_in": sum(1 for s in seats if s.status is not AgentStatus.OFFLINE),
            }
        )
    return out


def _agents(stack: RoutingStack) -> list[dict[str, Any]]:
    out = []
    for seat in sorted(stack.acd.presence.seats.values(), key=lambda s: s.login):
        try:
            agent = stack.desk.agent(seat.login)
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
    stack = request.app[ROUTING]
    active = await stack.conversations.in_states(WAITING | WITH_AGENT)
    active.sort(key=lambda c: (c.state.value, c.updated_at))
    listed = [await with_customer(stack, c) for c in active[:MAX_LISTED]]
    return web.json_response({"conversations": listed, "total": len(active)})


@requires(Role.SUPERVISOR)
async def whisper(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    stored = await request.app[ROUTING].desk.note(
        me.login, request.match_info["cid"], text(body, "text", max_len=2000), whisper=True
    )
    return web.json_response({"message": message_json(stored)}, status=201)


@requires(Role.SUPERVISOR)
async def take_over(request: web.Request, me: Caller) -> web.Response:
    stack = request.app[ROUTING]
    conv = await stack.desk.take_over(me.login, request.match_info["cid"])
    return web.json_response({"conversation": await with_customer(stack, conv)})


@requires(Role.SUPERVISOR)
async def set_tags(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    tags = set(string_list(body, "tags", max_items=8))
    known = {t.value for t in CustomerTag}
    if not tags <= known:
        raise refusal(400, "bad_request", "tags must be among " + ", ".join(sorted(known)))
    stack = request.app[ROUTING]
    customer_id = request.match_info["customer_id"]
    customer = await stack.customers.set_tags(customer_id, frozenset(tags))
    stack.router.forget_customer(customer_id)
    stack.router.forget_customer(customer.id)  # differs when customer_id was merged away
    return web.json_response({"customer": customer_json(customer)})


def add_routes(app: web.Application) -> None:
    base = "/api/v1/supervisor"
    app.router.add_get(base + "/board", board)
    app.router.add_get(base + "/conversations", conversations)
    app.router.add_post(base + "/conversations/{cid}/whisper", whisper)
    app.router.add_post(base + "/conversations/{cid}/take-over", take_over)
    app.router.add_put(base + "/customers/{customer_id}/tags", set_tags)
