import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import aiohttp
from aiohttp import web

from agent_web.keys import CLOCK, INBOX_CONFIG
from hub.keys import DB
from primitives.clock import FixedClock
from tests.agent_web.conftest import PASSWORD, Hub, MakeHub, Staff

LOGIN = "/api/v1/auth/login"


def behind_proxy(clock: FixedClock) -> Callable[[web.Application], None]:
    """make_hub(setup=…): one trusted proxy in front (X-Forwarded-For picks the client address),
    and a clock that moves only when the test says so."""

    def setup(app: web.Application) -> None:
        app[INBOX_CONFIG] = replace(app[INBOX_CONFIG], proxy_hops=1)
        app[CLOCK] = clock

    return setup


async def sign_in(hub: Hub, address: str, login: str, password: str) -> aiohttp.ClientResponse:
    """A sign-in from a browser at address (seen through the proxy)."""
    return await hub.client.post(
        LOGIN, json={"login": login, "password": password}, headers={"X-Forwarded-For": address}
    )


async def statuses(hub: Hub, address: str, login: str, password: str, times: int) -> list[int]:
    return [(await sign_in(hub, address, login, password)).status for _ in range(times)]


async def test_login_sets_an_httponly_strict_session_cookie_and_returns_the_csrf_token(hub: Hub):
    member = Staff(hub.client, "agent1")
    hub.sessions.append(member)
    resp = await member.sign_in()
    assert resp.status == 200
    body = await resp.json()
    assert body["login"] == "agent1"
    assert body["name"] == "话务员李娜"
    assert body["roles"] == ["agent"]
    assert len(body["csrf_token"]) >= 32
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("hub_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie


async def test_the_session_cookie_is_not_the_stored_session_id(hub: Hub):
    member = await hub.staff("agent1")
    token = next(c.value for c in member.http.cookie_jar if c.key == "hub_session")
    stored = await hub.app[DB]["web_sessions"].find_one({})
    assert stored["_id"] != token
    assert stored["login"] == "agent1"


async def test_wrong_password_is_401_with_a_json_reason(hub: Hub):
    member = await hub.anonymous()
    member.login = "agent1"
    resp = await member.sign_in("wrong-password")
    assert resp.status == 401
    assert await resp.json() == {
        "error": "invalid_credentials",
        "reason": "wrong login or password",
    }


async def test_unknown_login_answers_like_a_wrong_password(hub: Hub):
    member = await hub.anonymous()
    member.login = "ghost"
    resp = await member.sign_in()
    assert resp.status == 401
    assert (await resp.json())["error"] == "invalid_credentials"


async def test_wrong_passwords_throttle_the_address_not_the_account(make_hub: MakeHub):
    hub = await make_hub(setup=behind_proxy(FixedClock()))
    assert await statuses(hub, "203.0.113.5", "agent2", "nope-nope", 5) == [401] * 5
    refused = await sign_in(hub, "203.0.113.5", "agent2", PASSWORD)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    assert await refused.json() == {
        "error": "LoginThrottled",
        "reason": "尝试次数过多，请1秒后再试",
    }
    assert (await sign_in(hub, "198.51.100.7", "agent2", PASSWORD)).status == 200


async def test_a_throttled_address_may_try_again_after_retry_after(make_hub: MakeHub):
    clock = FixedClock()
    hub = await make_hub(setup=behind_proxy(clock))
    await statuses(hub, "203.0.113.5", "agent2", "nope-nope", 6)
    clock.advance(seconds=1)
    assert (await sign_in(hub, "203.0.113.5", "agent2", PASSWORD)).status == 200


async def test_a_real_agent_signs_in_while_a_stranger_is_throttled(make_hub: MakeHub):
    hub = await make_hub(setup=behind_proxy(FixedClock()))
    for bot in range(2):  # a small botnet spends the account's free attempts
        await statuses(hub, f"203.0.113.{bot}", "agent2", "nope-nope", 5)
    assert await statuses(hub, "203.0.113.99", "agent2", "guess-3", 2) == [401, 429]
    assert (await sign_in(hub, "198.51.100.7", "agent2", PASSWORD)).status == 200


async def test_concurrent_guesses_never_exceed_the_budget(make_hub: MakeHub):
    hub = await make_hub(setup=behind_proxy(FixedClock()))
    guesses = [sign_in(hub, "203.0.113.5", "agent2", f"guess-{n}") for n in range(20)]
    answers = Counter(r.status for r in await asyncio.gather(*guesses))
    assert answers == {401: 5, 429: 15}


async def test_an_unknown_login_stores_nothing(make_hub: MakeHub):
    hub = await make_hub(setup=behind_proxy(FixedClock()))
    db = hub.app[DB]

    async def documents() -> dict[str, int]:
        names = await db.list_collection_names()
        return {name: await db[name].count_documents({}) for name in names}

    before = await documents()
    for n in range(8):
        await sign_in(hub, f"203.0.113.{n}", f"ghost{n}", "anything")
    assert await documents() == before


async def test_an_unknown_login_is_throttled_like_a_real_one(make_hub: MakeHub):
    hub = await make_hub(setup=behind_proxy(FixedClock()))
    seen: dict[str, list[list[int]]] = {}
    for net, login in ((1, "agent2"), (2, "ghost")):
        addresses = [f"10.{net}.0.1", f"10.{net}.0.2", f"10.{net}.0.3"]
        seen[login] = [await statuses(hub, a, login, "nope-nope", 6) for a in addresses]
    assert (
        seen["ghost"]
        == seen["agent2"]
        == [[401] * 5 + [429]] * 2 + [[401, 429, 429, 429, 429, 429]]
    )


async def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(make_hub: MakeHub):
    hub = await make_hub(setup=lambda app: app.__setitem__(CLOCK, FixedClock()))
    for n in range(5):
        assert (await sign_in(hub, f"203.0.113.{n}", "agent2", "nope-nope")).status == 401
    assert (await sign_in(hub, "198.51.100.7", "agent2", PASSWORD)).status == 429


async def test_me_without_a_session_is_401(hub: Hub):
    member = await hub.anonymous()
    resp = await member.get("/api/v1/auth/me")
    assert resp.status == 401
    assert await resp.json() == {"error": "unauthorized", "reason": "sign in first"}


async def test_me_returns_the_profile_and_csrf_token(hub: Hub):
    member = await hub.staff("super")
    me = await member.json("GET", "/api/v1/auth/me")
    assert me["roles"] == ["agent", "supervisor"]
    assert me["skills"] == {"general": 5, "complaint": 8, "emergency": 8}
    assert me["csrf_token"] == member.csrf


async def test_logout_ends_the_session(hub: Hub):
    member = await hub.staff("agent1")
    assert (await member.post("/api/v1/auth/logout")).status == 200
    assert (await member.get("/api/v1/auth/me")).status == 401


async def test_a_mutating_request_without_the_csrf_header_is_refused(hub: Hub):
    member = await hub.staff("agent1")
    resp = await member.http.post(member.url("/api/v1/agent/status"), json={"status": "ready"})
    assert resp.status == 403
    assert (await resp.json())["error"] == "csrf_failed"


async def test_a_csrf_token_of_another_session_is_refused(hub: Hub):
    mine = await hub.staff("agent1")
    other = await hub.staff("agent2")
    resp = await mine.http.post(
        mine.url("/api/v1/agent/status"),
        json={"status": "ready"},
        headers={"X-CSRF-Token": other.csrf},
    )
    assert resp.status == 403
    assert (await resp.json())["error"] == "csrf_failed"


async def test_a_cross_origin_post_is_refused_even_with_the_token(hub: Hub):
    member = await hub.staff("agent1")
    resp = await member.http.post(
        member.url("/api/v1/agent/status"),
        json={"status": "ready"},
        headers={"X-CSRF-Token": member.csrf, "Origin": "https://evil.example"},
    )
    assert resp.status == 403
    assert (await resp.json())["error"] == "bad_origin"


async def test_a_form_post_is_refused_as_unsupported_media(hub: Hub):
    member = await hub.staff("agent1")
    resp = await member.http.post(
        member.url("/api/v1/agent/status"),
        data={"status": "ready"},
        headers={"X-CSRF-Token": member.csrf},
    )
    assert resp.status == 415


async def test_broken_json_is_a_400_not_a_traceback(hub: Hub):
    member = await hub.staff("agent1")
    resp = await member.http.post(
        member.url("/api/v1/agent/status"),
        data=b"{not json",
        headers={"X-CSRF-Token": member.csrf, "Content-Type": "application/json"},
    )
    assert resp.status == 400
    assert await resp.json() == {"error": "invalid_json", "reason": "the body is not valid JSON"}


async def test_a_deactivated_account_loses_its_session(hub: Hub):
    admin = await hub.staff("admin")
    agent = await hub.staff("agent2")
    await admin.json("PUT", "/api/v1/admin/users/agent2", {"active": False})
    assert (await agent.get("/api/v1/auth/me")).status == 401
    again = await agent.sign_in()
    assert again.status == 401


async def test_failed_logins_never_log_the_password_or_an_unknown_name(hub: Hub, caplog):
    caplog.set_level("INFO", logger="agent_web")
    member = await hub.anonymous()
    member.login = "s3cret-typed-here"  # a password typed into the login field
    await member.sign_in("another-secret")
    member.login = "agent1"
    await member.sign_in("wrong-secret-9")
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "auth.login_failed" in logged
    for secret in ("s3cret-typed-here", "another-secret", "wrong-secret-9"):
        assert secret not in logged
