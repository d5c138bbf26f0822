from agent_web.keys import LOGIN_GUARD
from tests.agent_web.conftest import PASSWORD, Hub, Staff


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
    stored = await hub.stack.messages._col.database["web_sessions"].find_one({})
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


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(hub: Hub):
    member = await hub.anonymous()
    member.login = "agent2"
    for _ in range(4):
        assert (await member.sign_in("nope-nope")).status == 401
    fifth = await member.sign_in("nope-nope")
    assert fifth.status == 429
    assert (await fifth.json())["error"] == "locked"
    assert int(fifth.headers["Retry-After"]) > 0
    right = await member.sign_in(PASSWORD)
    assert right.status == 429


async def test_a_lockout_is_per_account(hub: Hub):
    await hub.app[LOGIN_GUARD].failed("agent2")
    for _ in range(5):
        await hub.app[LOGIN_GUARD].failed("agent2")
    member = await hub.staff("agent1")
    assert member.csrf


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
