from agent_web.keys import ACD
from tests.agent_web.conftest import Hub, Staff

USERS = "/api/v1/admin/users"


async def test_an_admin_creates_an_agent_who_can_sign_in_and_take_work(hub: Hub):
    admin = await hub.staff("admin")
    body = {
        "login": "agent9",
        "name": "话务员周杰",
        "password": "long-enough-1",
        "roles": ["agent"],
        "skills": {"general": 7, "water": 3},
        "max_chats": 2,
        "endpoint": "PJSIP/1009",
    }
    created = await admin.json("POST", USERS, body, status=201)
    assert created["user"] == {
        "login": "agent9",
        "name": "话务员周杰",
        "roles": ["agent"],
        "skills": {"general": 7, "water": 3},
        "max_chats": 2,
        "department": None,
        "active": True,
        "endpoint": "PJSIP/1009",
    }
    bad = {**body, "login": "agent10", "endpoint": "PJSIP/1001;rm -rf"}
    refused = await admin.json("POST", USERS, bad, status=400)
    assert "PJSIP/1001" in refused["reason"]
    newcomer = Staff(hub.client, "agent9")
    hub.sessions.append(newcomer)
    assert (await newcomer.sign_in("long-enough-1")).status == 200
    await newcomer.json("POST", "/api/v1/agent/status", {"status": "ready"})
    cid = (await hub.customer("a1", "转人工"))["conversation_id"]
    inbox = await newcomer.json("GET", "/api/v1/agent/inbox")
    assert [c["id"] for c in inbox["conversations"]] == [cid]


async def test_a_taken_login_is_409(hub: Hub):
    admin = await hub.staff("admin")
    resp = await admin.post(
        USERS, {"login": "agent1", "name": "重复", "password": "long-enough-1", "roles": ["agent"]}
    )
    assert resp.status == 409


async def test_bad_user_input_is_400_with_the_field(hub: Hub):
    admin = await hub.staff("admin")
    base = {"login": "newbie", "name": "新人", "password": "long-enough-1", "roles": ["agent"]}
    cases = [
        ({"password": "short"}, "password must have at least 8 characters"),
        ({"roles": ["king"]}, "roles must be among agent, supervisor, department, admin"),
        ({"skills": {"nope": 3}}, "skill nope is not a queue"),
        ({"skills": {"general": 11}}, "skill general needs a level 1–10"),
        ({"max_chats": 0}, "field 'max_chats' must be an integer 1–20"),
        ({"login": "Bad Login"}, "login must be 2–32 lower-case letters, digits, _ . or -"),
    ]
    for change, reason in cases:
        resp = await admin.post(USERS, {**base, **change})
        assert resp.status == 400, change
        assert (await resp.json())["reason"] == reason


async def test_an_admin_changes_skills_and_the_desk_knows_at_once(hub: Hub):
    admin = await hub.staff("admin")
    await admin.json("PUT", f"{USERS}/agent2", {"skills": {"water": 9}, "max_chats": 6})
    seat = hub.app[ACD].seat("agent2")
    assert seat.skills == {"water": 9}
    assert seat.max_chats == 6


async def test_an_admin_cannot_lock_themselves_out(hub: Hub):
    admin = await hub.staff("admin")
    resp = await admin.put(f"{USERS}/admin", {"active": False})
    assert resp.status == 409


async def test_a_password_change_ends_the_old_sessions(hub: Hub):
    admin = await hub.staff("admin")
    agent = await hub.staff("agent1")
    await admin.json("PUT", f"{USERS}/agent1", {"password": "brand-new-pass"})
    assert (await agent.get("/api/v1/auth/me")).status == 401
    assert (await agent.sign_in("brand-new-pass")).status == 200


async def test_the_user_list_offers_roles_and_queues(hub: Hub):
    admin = await hub.staff("admin")
    body = await admin.json("GET", USERS)
    assert [u["login"] for u in body["users"]] == ["admin", "agent1", "agent2", "super", "water1"]
    assert "password_hash" not in body["users"][0]
    assert body["roles"] == ["agent", "supervisor", "department", "admin"]
    assert {"name": "general", "title": "综合咨询"} in body["queues"]
