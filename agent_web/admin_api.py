"""Administration: staff accounts.

GET  /api/v1/admin/users
POST /api/v1/admin/users            {"login","name","password","roles","skills","max_chats","department","endpoint"}
PUT  /api/v1/admin/users/{login}    the same fields but login, every one optional, plus "active"

Knowledge-base articles: agent_web/kb_admin_api.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any

from aiohttp import web

from agent_web.auth import Caller, refusal, requires
from agent_web.json_input import integer, read_json, string_list, text
from agent_web.keys import ACD, AGENT_DESK, AGENTS, DEPARTMENTS, SESSIONS, SOCKETS
from agent_web.passwords import hash_password
from primitives.errors import Conflict
from routing.agents import Agent, Role
from routing.errors import AgentNotFound

log = logging.getLogger(__name__)

LOGIN = re.compile(r"^[a-z0-9_.\-]{2,32}$")
MIN_PASSWORD = 8
ENDPOINT = re.compile(r"^[A-Za-z0-9_]{2,16}/[A-Za-z0-9_.@:\-]{1,48}$")  # Asterisk dial string


def _user_json(agent: Agent) -> dict[str, Any]:
    return {
        "login": agent.login,
        "name": agent.name,
        "roles": sorted(r.value for r in agent.roles),
        "skills": dict(agent.skills),
        "max_chats": agent.max_chats,
        "department": agent.department,
        "active": agent.active,
        "endpoint": agent.endpoint,
    }


@requires(Role.ADMIN)
async def list_users(request: web.Request, me: Caller) -> web.Response:
    users = await request.app[AGENTS].all()
    queues = [{"name": q.name, "title": q.title} for q in request.app[ACD].queue_configs().values()]
    departments = [{"code": d.code, "name": d.name} for d in await request.app[DEPARTMENTS].all()]
    return web.json_response(
        {
            "users": [_user_json(u) for u in users],
            "roles": [r.value for r in Role],
            "queues": queues,
            "departments": departments,
        }
    )


@requires(Role.ADMIN)
async def create_user(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    login = text(body, "login", max_len=32).strip()
    if not LOGIN.match(login):
        raise refusal(400, "bad_request", "login must be 2–32 lower-case letters, digits, _ . or -")
    repo = request.app[AGENTS]
    try:
        await repo.get(login)
    except AgentNotFound:
        pass
    else:
        raise Conflict(f"login {login} is already taken")
    password = _password(body, required=True)
    agent = Agent(login=login, **await _profile(request, body, None))
    assert password is not None
    await repo.upsert(agent, password_hash=await asyncio.to_thread(hash_password, password))
    await request.app[AGENT_DESK].refresh_agent(login)
    log.info("admin.user_created", extra={"login": login, "by": me.login})
    return web.json_response({"user": _user_json(agent)}, status=201)


@requires(Role.ADMIN)
async def update_user(request: web.Request, me: Caller) -> web.Response:
    body = await read_json(request)
    repo = request.app[AGENTS]
    login = request.match_info["login"]
    before = await repo.get(login)  # AgentNotFound -> 404
    active = body.get("active", before.active)
    if not isinstance(active, bool):
        raise refusal(400, "bad_request", "field 'active' must be true or false")
    agent = replace(before, **await _profile(request, body, before), active=active)
    if login == me.login and (not active or Role.ADMIN not in agent.roles):
        raise Conflict("you cannot deactivate yourself or drop your own admin role")
    password = _password(body, required=False)
    hashed = await asyncio.to_thread(hash_password, password) if password else None
    await repo.upsert(agent, password_hash=hashed)
    await request.app[AGENT_DESK].refresh_agent(login)
    if not active or hashed:
        await request.app[SESSIONS].end_all(login)
        await request.app[SOCKETS].close_login(login, "account changed")
    log.info("admin.user_updated", extra={"login": login, "by": me.login})
    return web.json_response({"user": _user_json(agent)})


def _password(body: dict[str, Any], *, required: bool) -> str | None:
    password = text(body, "password", max_len=256, default="" if not required else None)
    if not password and not required:
        return None
    if len(password) < MIN_PASSWORD:
        raise refusal(400, "bad_request", f"password must have at least {MIN_PASSWORD} characters")
    return password


async def _profile(
    request: web.Request, body: dict[str, Any], before: Agent | None
) -> dict[str, Any]:
    """name, roles, skills, max_chats, department from body (falling back to before)."""
    name = text(body, "name", max_len=40, default=before.name if before else None).strip()
    if not name:
        raise refusal(400, "bad_request", "field 'name' is empty")
    if "roles" in body or before is None:
        names = string_list(body, "roles", max_items=4)
        if not names or not set(names) <= {r.value for r in Role}:
            raise refusal(
                400, "bad_request", "roles must be among " + ", ".join(r.value for r in Role)
            )
        roles = frozenset(Role(r) for r in names)
    else:
        roles = before.roles
    skills = _skills(request, body) if "skills" in body else (dict(before.skills) if before else {})
    default_max = before.max_chats if before else 3
    department = text(
        body, "department", max_len=32, default=(before.department or "") if before else ""
    )
    if department.strip() and department.strip() not in {
        d.code for d in await request.app[DEPARTMENTS].all()
    }:
        raise refusal(400, "bad_request", f"department {department.strip()} does not exist")
    endpoint = text(body, "endpoint", max_len=64, default=before.endpoint if before else "").strip()
    if endpoint and not ENDPOINT.match(endpoint):
        raise refusal(
            400, "bad_request", "endpoint must look like PJSIP/1001 (technology/resource)"
        )
    return {
        "endpoint": endpoint,
        "name": name,
        "roles": roles,
        "skills": skills,
        "max_chats": integer(body, "max_chats", low=1, high=20, default=default_max),
        "department": department.strip() or None,
    }


def _skills(request: web.Request, body: dict[str, Any]) -> dict[str, int]:
    skills = body.get("skills")
    queues = request.app[ACD].queue_configs()
    if not isinstance(skills, dict) or len(skills) > len(queues):
        raise refusal(400, "bad_request", "field 'skills' must map queue names to levels 1–10")
    for queue, level in skills.items():
        if queue not in queues:
            raise refusal(400, "bad_request", f"skill {queue} is not a queue")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise refusal(400, "bad_request", f"skill {queue} needs a level 1–10")
    return {str(k): int(v) for k, v in skills.items()}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/users", list_users)
    app.router.add_post("/api/v1/admin/users", create_user)
    app.router.add_put("/api/v1/admin/users/{login}", update_user)
