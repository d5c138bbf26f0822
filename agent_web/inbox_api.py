"""The agent's inbox: my conversations, my offers, the waiting lists, presence.

GET  /api/v1/agent/inbox                      everything the inbox shows
GET  /api/v1/agent/waiting                    the waiting lists only (refreshed on queue events)
GET  /api/v1/agent/directory                  agents and queues (transfer targets), wrap-up codes
GET  /api/v1/agent/transfer-targets           who can take a chat now: ready agents with room,
                                              and the queues (waiting, agents ready in each)
POST /api/v1/agent/status                     {"status": "ready" | "busy" | "away"}
POST /api/v1/agent/offers/{cid}/accept | /decline
POST /api/v1/agent/waiting/{cid}/pick         manual queues only
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from agent_web.auth import Caller, refusal, requires
from agent_web.json_input import read_json, text
from agent_web.keys import ACD, AGENT_DESK, CLOCK, CONVERSATIONS, CUSTOMERS, OFFERS, ROUTER
from agent_web.views import conversation_json, entry_json, iso
from primitives.errors import Conflict, NotAllowed
from routing.agent_desk import AgentDesk
from routing.agents import Role
from routing.conversation_model import WITH_AGENT, Conversation, Media
from routing.customers import CustomerRepository
from routing.errors import CustomerNotFound
from routing.presence import AgentSeat, AgentStatus
from routing.reply_watch import AgentReplyWatch

SERVING = (Role.AGENT, Role.SUPERVISOR)
MAX_WAITING_SHOWN = 50
STATUSES = {"ready": AgentStatus.READY, "busy": AgentStatus.BUSY, "away": AgentStatus.AWAY}
# Wrap-up codes (小结) an agent closes a conversation with; labels live in the page.
WRAP_UP_CODES = ("resolved", "case_created", "transferred", "callback", "invalid", "other")


def presence_json(seat: AgentSeat | None) -> dict[str, Any]:
    if seat is None:
        return {"status": "offline", "load": 0, "max_chats": 0, "connected": False}
    return {
        "status": seat.status.value,
        "load": seat.load,
        "chats": len(seat.chats),
        "calls": len(seat.calls),
        "offers": len(seat.offers),
        "max_chats": seat.max_chats,
        "connected": seat.connected,
        "missed_offers": seat.missed_offers,
    }


async def with_customer(
    customers: CustomerRepository, conv: Conversation, watch: AgentReplyWatch | None = None
) -> dict[str, Any]:
    """The conversation with its customer; with watch, also how long the customer waits for
    the agent's answer and when it goes to another agent."""
    try:
        customer = await customers.get(conv.customer_id)
    except CustomerNotFound:
        customer = None
    if watch is None:
        return conversation_json(conv, customer)
    return conversation_json(
        conv,
        customer,
        waiting_since=watch.waiting_since(conv.id),
        reply_due=watch.reply_due(conv.id),
    )


@requires(*SERVING)
async def inbox(request: web.Request, me: Caller) -> web.Response:
    customers = request.app[CUSTOMERS]
    watch = request.app[ROUTER].reply_watch
    mine = [
        c
        for c in await request.app[CONVERSATIONS].in_states(WITH_AGENT)
        if c.agent == me.login or me.login in c.participants
    ]
    mine.sort(key=lambda c: c.updated_at, reverse=True)
    return web.json_response(
        {
            "me": presence_json(request.app[ACD].seat(me.login)),
            "conversations": [await with_customer(customers, c, watch) for c in mine],
            "offers": await _offers(request, me),
            "waiting": await _waiting(request, me.login),
        }
    )


@requires(*SERVING)
async def waiting(request: web.Request, me: Caller) -> web.Response:
    return web.json_response({"waiting": await _waiting(request, me.login)})


async def _offers(request: web.Request, me: Caller) -> list[dict[str, Any]]:
    acd, router, customers = request.app[ACD], request.app[ROUTER], request.app[CUSTOMERS]
    seat = acd.seat(me.login)
    if seat is None:
        return []
    out = []
    now = request.app[CLOCK].now()
    for cid in sorted(seat.offers):
        conv = await router.conversation(cid)
        known = request.app[OFFERS].get(cid)
        queue = conv.queue or ""
        cfg = acd.queue_config(queue)
        expires = (
            known.expires_at
            if known
            else now + timedelta(seconds=cfg.offer_timeout_s if cfg else 20)
        )
        out.append(
            {
                "conversation_id": cid,
                "queue": queue,
                "queue_title": cfg.title if cfg else queue,
                "expires_at": iso(expires),
                "ttl_s": max(0, round((expires - now).total_seconds())),
                "conversation": await with_customer(customers, conv),
            }
        )
    return out


async def _waiting(request: web.Request, login: str) -> list[dict[str, Any]]:
    acd, router, customers = request.app[ACD], request.app[ROUTER], request.app[CUSTOMERS]
    seat = acd.seat(login)
    now = request.app[CLOCK].now()
    out = []
    for name, cfg in acd.queue_configs().items():
        if not acd.serves_queue(login, name):
            continue
        entries = []
        for position, entry in enumerate(acd.waiting_in_order(name, now), 1):
            if position > MAX_WAITING_SHOWN:
                break
            item = entry_json(entry, position, now)
            conv = await router.conversation(entry.conversation_id)
            view = await with_customer(customers, conv)
            item["channel"] = view["channel"]
            item["customer"] = view["customer"]
            item["escalation_reason"] = conv.escalation_reason
            item["pickable"] = (
                acd.is_manual(name)
                and seat is not None
                and any(entry.accepts_skill(s) for s in seat.skills)
            )
            entries.append(item)
        out.append(
            {
                "queue": name,
                "title": cfg.title,
                "manual": acd.is_manual(name),
                "count": acd.waiting_count(name),
                "entries": entries,
            }
        )
    return out


@requires(*SERVING)
async def directory(request: web.Request, me: Caller) -> web.Response:
    acd, desk = request.app[ACD], request.app[AGENT_DESK]
    agents = [
        {
            "login": s.login,
            "name": s.name,
            "status": s.status.value,
            "load": s.load,
            "max_chats": s.max_chats,
            "skills": sorted(s.skills),
            "connected": s.connected,
        }
        for s in acd.seats()
        if _is_active_agent(desk, s.login)
    ]
    queues = [
        {
            "name": q.name,
            "title": q.title,
            "manual": acd.is_manual(q.name),
            "reply_timeout_s": q.reply_timeout_s,
        }
        for q in acd.queue_configs().values()
    ]
    return web.json_response(
        {"agents": agents, "queues": queues, "wrap_up_codes": list(WRAP_UP_CODES)}
    )


@requires(*SERVING)
async def transfer_targets(request: web.Request, me: Caller) -> web.Response:
    """Only agents who could take a chat now (signed in, ready, below their limit) and the
    queues with how many wait and how many agents are ready for each."""
    acd, desk = request.app[ACD], request.app[AGENT_DESK]
    media = Media.CHAT
    cid = request.query.get("conversation", "")
    if cid:
        media = (await request.app[ROUTER].conversation(cid)).media
    ready = [
        s
        for s in acd.seats()
        if s.login != me.login
        and s.connected
        and s.can_take(media)
        and _is_active_agent(desk, s.login)
    ]
    agents = [
        {
            "login": s.login,
            "name": s.name,
            "status": s.status.value,
            "load": s.load,
            "max_chats": s.max_chats,
            "skills": sorted(s.skills),
        }
        for s in sorted(ready, key=lambda s: (s.load / max(1, s.max_chats), s.name))
    ]
    queues = [
        {
            "name": q.name,
            "title": q.title,
            "manual": acd.is_manual(q.name),
            "waiting": acd.waiting_count(q.name),
            "ready_agents": sum(1 for s in ready if acd.serves_queue(s.login, q.name)),
        }
        for q in acd.queue_configs().values()
    ]
    return web.json_response({"agents": agents, "queues": queues})


def _is_active_agent(desk: AgentDesk, login: str) -> bool:
    try:
        return desk.agent(login).has_role(Role.AGENT)
    except NotAllowed:  # inactive: not a transfer target
        return False


@requires(*SERVING)
async def set_status(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    wanted = text(body, "status", max_len=16)
    if wanted not in STATUSES:
        raise refusal(400, "bad_request", "status must be ready, busy or away")
    await request.app[AGENT_DESK].set_status(me.login, STATUSES[wanted])
    return web.json_response({"me": presence_json(request.app[ACD].seat(me.login))})


@requires(*SERVING)
async def accept(request: web.Request, me: Caller) -> web.Response:
    conv = await request.app[AGENT_DESK].accept(me.login, request.match_info["cid"])
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def decline(request: web.Request, me: Caller) -> web.Response:
    await request.app[AGENT_DESK].decline(me.login, request.match_info["cid"])
    return web.json_response({"ok": True})


@requires(*SERVING)
async def pick(request: web.Request, me: Caller) -> web.Response:
    cid = request.match_info["cid"]
    entry = request.app[ACD].waiting_entry(cid)
    if entry is None:
        raise Conflict(f"conversation {cid} is not waiting")
    if not request.app[ACD].is_manual(entry.queue):
        raise Conflict(f"queue {entry.queue} assigns conversations itself: wait for an offer")
    conv = await request.app[AGENT_DESK].pick(me.login, cid)
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/inbox", inbox)
    app.router.add_get("/api/v1/agent/waiting", waiting)
    app.router.add_get("/api/v1/agent/directory", directory)
    app.router.add_get("/api/v1/agent/transfer-targets", transfer_targets)
    app.router.add_post("/api/v1/agent/status", set_status)
    app.router.add_post("/api/v1/agent/offers/{cid}/accept", accept)
    app.router.add_post("/api/v1/agent/offers/{cid}/decline", decline)
    app.router.add_post("/api/v1/agent/waiting/{cid}/pick", pick)
