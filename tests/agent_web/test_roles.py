"""Every staff API checks the session and the role; each role reaches only its own APIs."""

import re

import pytest

from tests.agent_web.conftest import Hub

STAFF_API = re.compile(r"^/api/v1/(agent|supervisor|admin|auth)/")
OPEN = {"/api/v1/auth/login"}


def _staff_routes(hub: Hub) -> list[tuple[str, str, object]]:
    out = []
    for route in hub.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if STAFF_API.match(path) and route.method != "HEAD" and path not in OPEN:
            out.append((route.method, path, route.handler))
    return out


async def test_every_staff_route_declares_its_roles(hub: Hub):
    routes = _staff_routes(hub)
    assert len(routes) > 30
    for method, path, handler in routes:
        assert hasattr(handler, "__roles__"), f"{method} {path} has no @requires"


async def test_every_staff_route_is_401_without_a_session(hub: Hub):
    anonymous = await hub.anonymous()
    for method, path, _ in _staff_routes(hub):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        resp = await anonymous.call(method, concrete, {} if method != "GET" else None)
        assert resp.status == 401, f"{method} {concrete} answered {resp.status}"
        assert (await resp.json())["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("login", "method", "path", "status"),
    [
        ("agent1", "GET", "/api/v1/supervisor/board", 403),
        ("agent1", "GET", "/api/v1/supervisor/conversations", 403),
        ("agent1", "PUT", "/api/v1/supervisor/customers/c1/tags", 403),
        ("agent1", "GET", "/api/v1/admin/users", 403),
        ("super", "GET", "/api/v1/admin/users", 403),
        ("super", "GET", "/api/v1/supervisor/board", 200),
        ("admin", "GET", "/api/v1/supervisor/board", 200),  # admins hold every role
        ("admin", "GET", "/api/v1/admin/users", 200),
        ("water1", "GET", "/api/v1/agent/inbox", 403),
        ("water1", "POST", "/api/v1/agent/conversations/x/messages", 403),
        ("water1", "POST", "/api/v1/agent/status", 403),
        ("water1", "GET", "/api/v1/agent/taxonomy", 200),
        ("water1", "GET", "/api/v1/agent/ws", 403),
    ],
)
async def test_roles_reach_only_their_apis(hub: Hub, login, method, path, status):
    member = await hub.staff(login)
    body = (
        {"tags": []}
        if method == "PUT"
        else ({"text": "x", "client_id": "a"} if method == "POST" else None)
    )
    resp = await member.call(method, path, body)
    assert resp.status == status, await resp.text()
    if status == 403:
        assert (await resp.json())["error"] == "forbidden"


async def test_department_staff_cannot_reply_to_a_chat(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    sent = await hub.customer("u-dept", "转人工")
    dept = await hub.staff("water1")
    resp = await dept.post(
        f"/api/v1/agent/conversations/{sent['conversation_id']}/messages",
        {"text": "部门回复", "client_id": "d1"},
    )
    assert resp.status == 403
    assert "agent or supervisor" in (await resp.json())["reason"]
    assert agent.login == "agent1"


async def test_an_agent_cannot_reply_in_a_conversation_of_another_agent(hub: Hub):
    await hub.staff("agent1", ready=True)
    sent = await hub.customer("u-other", "转人工")
    other = await hub.staff("agent2")
    resp = await other.post(
        f"/api/v1/agent/conversations/{sent['conversation_id']}/messages",
        {"text": "插话", "client_id": "x1"},
    )
    assert resp.status == 403
    read = await other.get(f"/api/v1/agent/conversations/{sent['conversation_id']}")
    assert read.status == 403


async def test_pages_redirect_to_login_without_a_session(hub: Hub):
    anonymous = await hub.anonymous()
    for path in ("/", "/supervisor", "/admin", "/canned"):
        resp = await anonymous.http.get(anonymous.url(path), allow_redirects=False)
        assert resp.status == 302, path
        assert resp.headers["Location"] == "/login"


async def test_a_page_for_another_role_is_403(hub: Hub):
    agent = await hub.staff("agent1")
    resp = await agent.get("/supervisor")
    assert resp.status == 403
    assert "无权访问" in await resp.text()


async def test_pages_carry_a_strict_content_security_policy(hub: Hub):
    agent = await hub.staff("agent1")
    resp = await agent.get("/")
    assert resp.status == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


async def test_static_files_outside_the_folder_are_not_served(hub: Hub):
    anonymous = await hub.anonymous()
    for path in (
        "/static/agent/../routes.py",
        "/static/agent/%2e%2e%2fauth.py",
        "/static/agent/x.py",
    ):
        resp = await anonymous.http.get(anonymous.url(path))
        assert resp.status == 404, path
    ok = await anonymous.http.get(anonymous.url("/static/agent/common.js"))
    assert ok.status == 200
    assert ok.headers["Content-Type"].startswith("text/javascript")
