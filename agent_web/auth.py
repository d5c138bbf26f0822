"""Who is calling, and may they: the one decorator every staff API handler wears.

`@requires(Role.AGENT)` signs the caller in from the session cookie (401 without a live
session), refuses a mutating request without the session's CSRF token or from another
origin (403), and refuses a caller holding none of the roles (403). Admins hold every role
(Agent.has_role). Handlers receive the Caller as their second argument.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from aiohttp import web

from agent_web.keys import AGENT_DESK, INBOX_CONFIG, SESSIONS
from agent_web.sessions import WebSession
from primitives.errors import NotAllowed
from routing.agents import Agent, Role

SESSION_COOKIE = "hub_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANYONE = ()  # requires(*ANYONE): any signed-in staff member

_STATUS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    413: web.HTTPRequestEntityTooLarge,
    415: web.HTTPUnsupportedMediaType,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}


@dataclass(frozen=True, slots=True)
class Caller:
    agent: Agent
    session: WebSession

    @property
    def login(self) -> str:
        return self.agent.login

    def has(self, role: Role) -> bool:
        return self.agent.has_role(role)


StaffHandler = Callable[[web.Request, Caller], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refusal(status: int, error: str, reason: str) -> web.HTTPException:
    """An HTTP error with the API's JSON body, to raise."""
    body = json.dumps({"error": error, "reason": reason}, ensure_ascii=False)
    if status == 413:
        return web.HTTPRequestEntityTooLarge(
            max_size=0, actual_size=0, text=body, content_type="application/json"
        )
    return _STATUS[status](text=body, content_type="application/json")


def requires(*roles: Role) -> Callable[[StaffHandler], Handler]:
    def decorate(handler: StaffHandler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            caller = await signed_in(request)
            if caller is None:
                raise refusal(401, "unauthorized", "sign in first")
            if request.method not in SAFE_METHODS:
                check_origin(request)
                check_csrf(request, caller.session)
            if roles and not any(caller.has(r) for r in roles):
                needed = " or ".join(r.value for r in roles)
                raise refusal(403, "forbidden", f"this needs the {needed} role")
            response = await handler(request, caller)
            if isinstance(response, web.Response):
                response.headers.setdefault("Cache-Control", "no-store")
                response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response

        guarded.__roles__ = roles  # type: ignore[attr-defined]  # read by the route table test
        return guarded

    return decorate


async def signed_in(request: web.Request) -> Caller | None:
    """The caller behind the session cookie; None when there is no live session or the
    account is no longer active."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    session = await request.app[SESSIONS].resolve(token)
    if session is None:
        return None
    try:
        agent = request.app[AGENT_DESK].agent(session.login)
    except NotAllowed:
        return None
    return Caller(agent, session)


def check_csrf(request: web.Request, session: WebSession) -> None:
    given = request.headers.get(CSRF_HEADER, "")
    if not given or not hmac.compare_digest(given.encode(), session.csrf_token.encode()):
        raise refusal(403, "csrf_failed", f"the {CSRF_HEADER} header is missing or wrong")


def check_origin(request: web.Request) -> None:
    """Browsers send Origin on cross-site POSTs and WebSocket handshakes: it must be us."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = {request.host}
    public = request.app[INBOX_CONFIG].public_url
    if public:
        allowed.add(urlsplit(public).netloc)
    if urlsplit(origin).netloc not in allowed:
        raise refusal(403, "bad_origin", "cross-origin requests are not accepted")


def set_session_cookie(
    request: web.Request, response: web.Response, token: str, ttl_s: float
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl_s),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
    )


def clear_session_cookie(request: web.Request, response: web.Response) -> None:
    response.del_cookie(SESSION_COOKIE, path="/", samesite="Strict", secure=_secure(request))


def _secure(request: web.Request) -> bool:
    public = request.app[INBOX_CONFIG].public_url or ""
    return request.secure or public.startswith("https://")
