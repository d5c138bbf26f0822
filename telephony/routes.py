"""Voice over HTTP: the browser test call, recordings, call records and the inbox's call
controls.

GET  /webcall                              the test-call page (microphone or a WAV file)
GET  /api/v1/webcall/socket                its audio WebSocket (telephony/webcall.py)
GET  /api/v1/recordings/{id}               a recording or voicemail (staff who may read its
                                           conversation)
GET  /api/v1/calls?caller=&agent=&date=    call records, newest first (supervisors: all;
                                           agents: their own)
POST /api/v1/calls/{cid}/hangup            the serving agent leaves the call (caller → survey)
POST /api/v1/calls/{cid}/hold {"on": bool} hold music for the caller
POST /api/v1/calls/{cid}/monitor {"mode"}  a supervisor's phone joins: listen, whisper, barge
POST /api/v1/calls/{cid}/conference {"expert"}  the agent adds an expert's phone (three-way)
GET  /api/v1/admin/ivr/flows               each IVR flow as a graph (read only)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from agent_web.access import may_view, viewable
from agent_web.auth import Caller, refusal, requires
from agent_web.json_input import read_json
from agent_web.keys import ACD, AGENT_DESK, AGENTS, ROUTER
from primitives.errors import HubError
from primitives.local_time import LOCAL_TZ
from primitives.phone import PhoneNumber
from routing.agents import Role
from telephony.ari.client import AriError
from telephony.ari_calls import AriCalls
from telephony.call_records import CallQuery, CallRecord
from telephony.ivr.flow import flow_graph
from telephony.keys import CALL_RECORDS, RECORDINGS, VOICE, WEBCALL_CONFIG
from telephony.recordings import RECORDING_ID
from telephony.voice_calls import LiveCall
from telephony.webcall import WebSocketTransport, caller_number, new_call_id, read_socket

STATIC = Path(__file__).resolve().parent / "static"
SERVING = (Role.AGENT, Role.SUPERVISOR)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "media-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


async def webcall_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "webcall.html",
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


async def webcall_static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    return web.FileResponse(
        STATIC / name,
        headers={"Content-Type": _TYPES[name[name.rindex(".") :]], "Cache-Control": "no-cache"},
    )


async def webcall_socket(request: web.Request) -> web.StreamResponse:
    voice = request.app[VOICE]
    config = request.app[WEBCALL_CONFIG]
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=64 * 1024)
    await ws.prepare(request)
    call_id = new_call_id()
    transport = WebSocketTransport(ws, call_id)
    await transport.notify({"type": "call", "call_id": call_id})
    reader = asyncio.create_task(read_socket(ws, transport))
    if voice.web_calls is not None:
        voice.web_calls.add(transport)
    # The call runs in a task of its own: when the browser goes, aiohttp may cancel this
    # handler, but the call must still end properly (conversation, call record).
    call = asyncio.create_task(
        voice.run_call(
            transport, caller=caller_number(request, config), dialed=config.dialed, kind="webcall"
        )
    )
    try:
        await asyncio.shield(call)
    finally:
        if voice.web_calls is not None:
            voice.web_calls.remove(call_id)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()
    return ws


@requires(*SERVING)
async def recording(request: web.Request, me: Caller) -> web.StreamResponse:
    info = await request.app[RECORDINGS].find(request.match_info["file_id"])
    if info is None:
        raise refusal(404, "not_found", "没有这段录音")
    await viewable(request.app[ROUTER], request.app[ACD], me, info.conversation_id)
    return web.FileResponse(
        info.path,
        headers={
            "Content-Type": "audio/wav",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@requires(*SERVING)
async def list_calls(request: web.Request, me: Caller) -> web.Response:
    q = request.query
    agent = q.get("agent") or None
    if not me.has(Role.SUPERVISOR):
        if agent not in (None, me.login):
            raise refusal(403, "forbidden", "只能查看自己接听的通话")
        agent = me.login
    caller = None
    if q.get("caller"):
        try:
            caller = PhoneNumber.parse(q["caller"]).e164
        except ValueError:
            raise refusal(400, "bad_request", "来电号码格式不正确") from None
    since = until = None
    if q.get("date"):
        try:
            day = datetime.strptime(q["date"], "%Y-%m-%d").replace(tzinfo=LOCAL_TZ)
        except ValueError:
            raise refusal(400, "bad_request", "日期格式应为 YYYY-MM-DD") from None
        since, until = day, day + timedelta(days=1)
    records = await request.app[CALL_RECORDS].search(
        CallQuery(
            caller=caller,
            agent=agent,
            since=since,
            until=until,
            with_recording=q.get("recorded") == "1",
            limit=100,
        )
    )
    router, acd = request.app[ROUTER], request.app[ACD]
    out = []
    for r in records:
        shown = me.has(Role.SUPERVISOR) or r.agent == me.login
        if not shown:
            with contextlib.suppress(HubError):
                shown = await may_view(
                    router, acd, me, await router.conversation(r.conversation_id)
                )
        if shown:
            out.append(call_json(r))
    return web.json_response({"calls": out}, dumps=_dumps)


def call_json(r: CallRecord) -> dict[str, Any]:
    return {
        "call_id": r.call_id,
        "conversation_id": r.conversation_id,
        "caller": str(PhoneNumber(r.caller)) if r.caller else "未显示号码",
        "started_at": r.started_at.isoformat(),
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "queue": r.queue,
        "agent": r.agent,
        "outcome": r.outcome.value,
        "wait_s": round(r.wait_s, 1) if r.wait_s is not None else None,
        "talk_s": round(r.talk_s, 1) if r.talk_s is not None else None,
        "survey": r.survey,
        "recording_url": f"/api/v1/recordings/{r.recording}" if r.recording else None,
        "case_number": r.case_number,
    }


@requires(*SERVING)
async def hangup(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    if conv.agent != me.login and not me.has(Role.SUPERVISOR):
        raise refusal(403, "forbidden", "只有接听坐席可以挂断")
    try:
        await request.app[VOICE].calls.hangup_from_inbox(conv.id, me.login)
    except HubError as e:
        raise refusal(409, "call_ended", str(e)) from None
    return web.json_response({"ok": True})


@requires(*SERVING)
async def hold(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    if conv.agent != me.login:
        raise refusal(403, "forbidden", "只有接听坐席可以保持通话")
    body = await read_json(request)
    on = body.get("on")
    if not isinstance(on, bool):
        raise refusal(400, "bad_request", "field 'on' must be true or false")
    try:
        await request.app[VOICE].calls.hold_from_inbox(conv.id, on)
    except HubError as e:
        raise refusal(409, "call_ended", str(e)) from None
    return web.json_response({"ok": True, "on": on})


MONITOR_MODES = ("listen", "whisper", "barge")


@requires(Role.SUPERVISOR)
async def monitor(request: web.Request, me: Caller) -> web.Response:
    """The supervisor's phone (their profile's endpoint) joins the call: listen, whisper to the
    agent, or barge in."""
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    body = await read_json(request)
    mode = body.get("mode")
    if mode not in MONITOR_MODES:
        raise refusal(400, "bad_request", "mode must be listen, whisper or barge")
    call, ari = _pbx_call(request, conv.id, "监听")
    endpoint = (await request.app[AGENTS].get(me.login)).endpoint
    if not endpoint:
        raise refusal(409, "no_endpoint", "您的账号没有设置话机（如 PJSIP/1005），请联系管理员")
    await _ring(ari.monitor(call.info.call_id, endpoint, mode), "您")
    return web.json_response({"ok": True, "mode": mode})


@requires(*SERVING)
async def conference(request: web.Request, me: Caller) -> web.Response:
    """Three-way: the serving agent brings an expert (a colleague) into the call; the expert's
    phone rings and joins, and the conversation is theirs to read too."""
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    if conv.agent != me.login:
        raise refusal(403, "forbidden", "只有接听坐席可以发起三方通话")
    body = await read_json(request)
    expert = body.get("expert")
    if not isinstance(expert, str) or not expert:
        raise refusal(400, "bad_request", "field 'expert' must be a login")
    call, ari = _pbx_call(request, conv.id, "三方通话")
    try:
        endpoint = (await request.app[AGENTS].get(expert)).endpoint
    except HubError:
        raise refusal(404, "not_found", "没有这个专家账号") from None
    if not endpoint:
        raise refusal(409, "no_endpoint", "该专家没有设置话机，无法加入通话")
    await request.app[AGENT_DESK].invite(me.login, conv.id, expert)
    await _ring(ari.add_party(call.info.call_id, expert, endpoint), "专家")
    return web.json_response({"ok": True, "expert": expert})


def _pbx_call(request: web.Request, conversation_id: str, what: str) -> tuple[LiveCall, AriCalls]:
    """The live Asterisk call of a conversation (a web test call has no PBX to ring phones)."""
    voice = request.app[VOICE]
    call = voice.calls.call_for_conversation(conversation_id)
    if call is None:
        raise refusal(409, "call_ended", "这通电话已经结束")
    if call.transport != "audiosocket" or voice.ari is None:
        raise refusal(409, "no_pbx", f"网页试拨的通话不经过交换机，无法{what}")
    return call, voice.ari


async def _ring(dialling: Awaitable[None], whose: str) -> None:
    try:
        await dialling
    except LookupError:
        raise refusal(409, "call_ended", "这通电话已经结束") from None
    except AriError as e:
        raise refusal(502, "pbx_refused", f"交换机未能呼叫{whose}的话机（{e.status}）") from None


@requires(Role.ADMIN)
async def flows(request: web.Request, me: Caller) -> web.Response:
    voice = request.app[VOICE]
    body = [
        {"name": name, "title": flow.title, "graph": flow_graph(flow)}
        for name, flow in sorted(voice.flows.items())
    ]
    return web.json_response({"flows": body, "speech": voice.speech_on}, dumps=_dumps)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/webcall", webcall_page)
    app.router.add_get("/static/voice/{name:webcall\\.(?:js|css)}", webcall_static)
    app.router.add_get("/api/v1/webcall/socket", webcall_socket)
    app.router.add_get(f"/api/v1/recordings/{{file_id:{RECORDING_ID}}}", recording)
    app.router.add_get("/api/v1/calls", list_calls)
    app.router.add_post("/api/v1/calls/{cid}/hangup", hangup)
    app.router.add_post("/api/v1/calls/{cid}/hold", hold)
    app.router.add_post("/api/v1/calls/{cid}/monitor", monitor)
    app.router.add_post("/api/v1/calls/{cid}/conference", conference)
    app.router.add_get("/api/v1/admin/ivr/flows", flows)
