"""Working one conversation. Every path is under /api/v1/agent/conversations/{cid}.

GET  ""                the conversation and its transcript (bot turns with intent/entities)
GET  /messages?after=  messages after a message id
POST /messages         {"text", "client_id"}: reply to the customer (a retried client_id is a no-op)
POST /notes            {"text"}: internal note (agents only)
POST /transfer         {"agent" | "queue", "note"}
POST /invite           {"expert"}   POST /leave
POST /hand-back        back to the bot
POST /end              wrap-up      POST /close {"wrap_up_code"}
POST /help             {"text"}: ask the supervisors for help (SupervisorAlert help_requested)
"""

from __future__ import annotations

import re

from aiohttp import web

from agent_web.access import viewable
from agent_web.auth import Caller, refusal, requires
from agent_web.inbox_api import SERVING, WRAP_UP_CODES, with_customer
from agent_web.json_input import read_json, text
from agent_web.keys import ACD, AGENT_DESK, CLOCK, CUSTOMERS, EVENTS, MESSAGES, ROUTER
from agent_web.views import message_json, transcript_json
from routing.events import SupervisorAlert

CLIENT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MESSAGE_ID = re.compile(r"^[0-9a-f]{24}$")
TRANSCRIPT_LIMIT = 500
_BASE = "/api/v1/agent/conversations/{cid}"


@requires(*SERVING)
async def show(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    messages = await request.app[MESSAGES].list_for_conversation(conv.id, limit=TRANSCRIPT_LIMIT)
    return web.json_response(
        {
            "conversation": await with_customer(
                request.app[CUSTOMERS], conv, request.app[ROUTER].reply_watch
            ),
            "messages": transcript_json(messages),
        }
    )


@requires(*SERVING)
async def messages_after(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    after = request.query.get("after") or None
    if after is not None and not MESSAGE_ID.match(after):
        raise refusal(400, "bad_request", "query parameter after must be a message id")
    found = await request.app[MESSAGES].list_for_conversation(
        conv.id, after=after, limit=TRANSCRIPT_LIMIT
    )
    return web.json_response({"messages": transcript_json(found)})


@requires(*SERVING)
async def reply(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    message = text(body, "text", max_len=10_000)
    client_id = text(body, "client_id", max_len=64)
    if not CLIENT_ID.match(client_id):
        raise refusal(400, "bad_request", "client_id must be 1–64 letters, digits, _ or -")
    stored = await request.app[AGENT_DESK].reply(
        me.login, request.match_info["cid"], message, client_id
    )
    if stored is None:
        return web.json_response({"duplicate": True})
    return web.json_response({"duplicate": False, "message": message_json(stored)}, status=201)


@requires(*SERVING)
async def note(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    stored = await request.app[AGENT_DESK].note(
        me.login, request.match_info["cid"], text(body, "text", max_len=10_000)
    )
    return web.json_response({"message": message_json(stored)}, status=201)


@requires(*SERVING)
async def transfer(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    remark = text(body, "note", max_len=500, default="").strip()
    target = text(body, "agent", max_len=64, default="")
    queue = text(body, "queue", max_len=64, default="")
    if bool(target) == bool(queue):
        raise refusal(400, "bad_request", "请选择要转给的坐席或队列（二选一）")
    desk = request.app[AGENT_DESK]
    cid = request.match_info["cid"]
    if target:
        if target == me.login:
            raise refusal(400, "bad_request", "不能转接给自己")
        seat = request.app[ACD].seat(target)
        conv = await desk.serving_conversation(me.login, cid)
        if seat is None or not (seat.connected and seat.can_take(conv.media)):
            name = seat.name if seat else target
            raise refusal(409, "target_unavailable", f"{name}当前未就绪或已满负荷，无法接收转接")
        conv = await desk.transfer_to_agent(me.login, cid, target, remark)
    else:
        if request.app[ACD].queue_config(queue) is None:
            raise refusal(400, "unknown_queue", "没有这个队列")
        conv = await desk.transfer_to_queue(me.login, cid, queue, remark)
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def invite(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    expert = text(body, "expert", max_len=64)
    conv = await request.app[AGENT_DESK].invite(me.login, request.match_info["cid"], expert)
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def leave(request: web.Request, me: Caller) -> web.Response:
    conv = await request.app[AGENT_DESK].leave(me.login, request.match_info["cid"])
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def hand_back(request: web.Request, me: Caller) -> web.Response:
    conv = await request.app[AGENT_DESK].hand_back(me.login, request.match_info["cid"])
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def end(request: web.Request, me: Caller) -> web.Response:
    conv = await request.app[AGENT_DESK].end(me.login, request.match_info["cid"])
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def close(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    code = text(body, "wrap_up_code", max_len=32)
    if code not in WRAP_UP_CODES:
        raise refusal(400, "bad_request", "wrap_up_code must be one of " + ", ".join(WRAP_UP_CODES))
    conv = await request.app[AGENT_DESK].close(me.login, request.match_info["cid"], code)
    return web.json_response({"conversation": await with_customer(request.app[CUSTOMERS], conv)})


@requires(*SERVING)
async def ask_for_help(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    remark = text(body, "text", max_len=500, default="").strip()
    conv = await request.app[ROUTER].conversation(request.match_info["cid"])
    if conv.agent != me.login:
        raise refusal(403, "forbidden", "only the serving agent asks for help on a conversation")
    alert = f"{me.agent.name}请求协助" + (f"：{remark}" if remark else "")
    request.app[EVENTS].publish(
        SupervisorAlert(request.app[CLOCK].now(), "help_requested", conv.id, alert, me.login)
    )
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get(_BASE, show)
    app.router.add_get(_BASE + "/messages", messages_after)
    app.router.add_post(_BASE + "/messages", reply)
    app.router.add_post(_BASE + "/notes", note)
    app.router.add_post(_BASE + "/transfer", transfer)
    app.router.add_post(_BASE + "/invite", invite)
    app.router.add_post(_BASE + "/leave", leave)
    app.router.add_post(_BASE + "/hand-back", hand_back)
    app.router.add_post(_BASE + "/end", end)
    app.router.add_post(_BASE + "/close", close)
    app.router.add_post(_BASE + "/help", ask_for_help)
