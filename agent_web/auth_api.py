"""POST /api/v1/auth/login, POST /api/v1/auth/logout, GET /api/v1/auth/me."""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import web

from agent_web.auth import (
    ANYONE,
    Caller,
    check_origin,
    clear_session_cookie,
    refusal,
    requires,
    set_session_cookie,
)
from agent_web.client_address import client_address
from agent_web.json_input import read_json, text
from agent_web.keys import AGENT_DESK, AGENTS, INBOX_CONFIG, LOGIN_GUARD, SESSIONS, SOCKETS
from agent_web.passwords import verify_password
from primitives.errors import NotAllowed, NotFound
from routing.agents import Agent

log = logging.getLogger(__name__)

LOGIN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


async def login(request: web.Request) -> web.Response:
    check_origin(request)
    body = await read_json(request, max_bytes=4096)
    name = text(body, "login", max_len=64).strip()
    password = text(body, "password", max_len=256)
    if not LOGIN.match(name):
        raise refusal(400, "bad_request", "login must be 1–64 letters, digits, _ . or -")
    guard = request.app[LOGIN_GUARD]
    address = client_address(request, request.app[INBOX_CONFIG].proxy_hops)
    attempt = guard.reserve(address, name)  # LoginThrottled -> 429 at the edge
    try:
        # An unknown login costs one read and one hash check, as a wrong password does.
        stored = await request.app[AGENTS].password_hash(name)
        matches = await asyncio.to_thread(verify_password, stored, password)
        agent = await _active_agent(request, name) if matches else None
    except BaseException:
        guard.release(attempt)  # undecided (database down): the attempt does not count
        raise
    if agent is None:
        # An unknown "login" may be a password typed into the wrong field: not logged.
        shown = name if stored else "(unknown)"
        log.info("auth.login_failed", extra={"login": shown, "address": address})
        raise refusal(401, "invalid_credentials", "wrong login or password")
    guard.succeeded(attempt)
    sessions = request.app[SESSIONS]
    token, session = await sessions.start(name)
    log.info("auth.login", extra={"login": name})
    response = web.json_response({**_me_json(agent), "csrf_token": session.csrf_token})
    set_session_cookie(request, response, token, sessions.policy.ttl_s)
    response.headers["Cache-Control"] = "no-store"
    return response


@requires(*ANYONE)
async def logout(request: web.Request, me: Caller) -> web.Response:
    await request.app[SESSIONS].end(me.session)
    await request.app[SOCKETS].close_login(me.login, "signed out")
    log.info("auth.logout", extra={"login": me.login})
    response = web.json_response({"ok": True})
    clear_session_cookie(request, response)
    return response


@requires(*ANYONE)
async def whoami(request: web.Request, me: Caller) -> web.Response:
    return web.json_response({**_me_json(me.agent), "csrf_token": me.session.csrf_token})


async def _active_agent(request: web.Request, login: str) -> Agent | None:
    desk = request.app[AGENT_DESK]
    try:
        return desk.agent(login)
    except NotAllowed:
        pass
    try:  # created in the database behind the desk's back (hub demo, another instance)
        await desk.refresh_agent(login)
        return desk.agent(login)
    except (NotAllowed, NotFound):
        return None


def _me_json(agent: Agent) -> dict[str, object]:
    return {
        "login": agent.login,
        "name": agent.name,
        "roles": sorted(r.value for r in agent.roles),
        "skills": dict(agent.skills),
        "max_chats": agent.max_chats,
        "department": agent.department,
    }


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/auth/login", login)
    app.router.add_post("/api/v1/auth/logout", logout)
    app.router.add_get("/api/v1/auth/me", whoami)
