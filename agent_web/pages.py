"""The staff pages: plain HTML + JS + CSS from agent_web/static, no build step.

GET /login, / (inbox), /supervisor, /admin, /canned, /cases (case workbench),
/cases/{number} (one case), /dept (department portal); GET /static/agent/<file>.
Pages hold no data: their scripts fetch it from the API, so a page is served to anyone
signed in with the role, and the sign-in page to everyone else. Every page gets a strict
Content-Security-Policy (no inline script, same-origin only). A department account has no
seat: its "/" leads to its portal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from agent_web.auth import signed_in
from routing.agents import Role

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# path -> (file, roles of which one is needed)
PAGES: dict[str, tuple[str, tuple[Role, ...]]] = {
    "/": ("inbox.html", (Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT)),
    "/supervisor": ("supervisor.html", (Role.SUPERVISOR,)),
    "/admin": ("admin.html", (Role.ADMIN,)),
    "/canned": ("canned.html", (Role.AGENT, Role.SUPERVISOR)),
    "/cases": ("cases.html", (Role.AGENT, Role.SUPERVISOR)),
    # the case page only: its script reads the number from the path and the case from the API,
    # which decides who may see it
    r"/cases/{number:[0-9A-Za-z\-]{1,40}}": (
        "case.html",
        (Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT),
    ),
    "/dept": ("dept.html", (Role.DEPARTMENT,)),
}


def _headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }


def _html(name: str, status: int = 200) -> web.FileResponse:
    return web.FileResponse(
        STATIC / name, status=status, headers=_headers("text/html; charset=utf-8")
    )


async def login_page(request: web.Request) -> web.StreamResponse:
    return _html("login.html")


def _page(
    name: str, roles: tuple[Role, ...]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def page(request: web.Request) -> web.StreamResponse:
        caller = await signed_in(request)
        if caller is None:
            raise web.HTTPFound("/login")
        if not any(caller.has(r) for r in roles):
            return _html("forbidden.html", status=403)
        if name == "inbox.html" and not (caller.has(Role.AGENT) or caller.has(Role.SUPERVISOR)):
            raise web.HTTPFound("/dept")  # a department account: its portal
        return _html(name)

    return page


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    suffix = path.suffix
    if suffix not in _TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers=_headers(_TYPES[suffix] + "; charset=utf-8"))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    for path, (name, roles) in PAGES.items():
        app.router.add_get(path, _page(name, roles))
    # One path segment of safe characters: no way out of the static directory.
    app.router.add_get(r"/static/agent/{name:[a-z0-9_\-]+\.(?:js|css|svg)}", asset)
