"""The hotline case loop through the HTTP API: intake, dispatch by the catalogue, the department
portal, audit of extensions and returns, revisit, close, merge, SLA lights (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from agent_web.keys import CASE_DESK, CLOCK
from cases.departments import Department
from cases.model import CaseType, NewCase
from channels.webchat.records import Upload
from hub.settings import Settings
from mongo.client import Database
from mongo.people import MongoAgentRepository, MongoDepartmentRepository
from mongo.uploads import MongoUploadRepository
from primitives.clock import FixedClock
from routing.agents import Agent, Role
from tests.agent_web.conftest import Hub, MakeHub, Staff, password_hash

# Wednesday 30 September 2026, 09:00 in Beijing: the National Day holidays (1–7 October) follow,
# and Saturday 10 October is a make-up working day (hub/data/routing.yaml).
START = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)
DEPARTMENTS = (
    ("water", "市水务集团"),
    ("chengguan", "市城市管理局"),
    ("housing", "市住房和城乡建设局"),
    ("transport", "市交通运输局"),
)
WATER = ["02", "0201", "020101", "02010101"]  # 公用事业 / 供水 / 停水 / …: the catalogue says water
LAMP = ["01", "0101", "010101", "01010101"]  # 路灯不亮: the catalogue says chengguan
STALE = {"error": "stale", "reason": "工单已被他人修改，请刷新后重试"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def hub(make_hub: MakeHub, db: Database, clock: FixedClock) -> Hub:
    departments = MongoDepartmentRepository(db)
    for code, name in DEPARTMENTS:
        await departments.upsert(Department(code, name))
    chengguan1 = Agent(
        "chengguan1", "城管局陈静", frozenset({Role.DEPARTMENT}), department="chengguan"
    )
    await MongoAgentRepository(db).upsert(chengguan1, password_hash=password_hash())
    # general={} drops the queues' opening hours: the test runs into the holidays
    return await make_hub(setup=lambda app: app.__setitem__(CLOCK, clock), general={})


def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def file_case(
    hub: Hub, agent: Staff, sender: str, status: int = 201, **changes: Any
) -> dict[str, Any]:
    cid = (await hub.customer(sender, "转人工"))["conversation_id"]
    body = {
        "type": "complaint",
        "title": "小区停水三天",
        "description": "阳光花园3栋停水三天，无人处理",
        "category": WATER,
        "contact_phone": "138-1234-5678",
        "address": "青山湖区阳光花园3栋",
    } | changes
    answer = await agent.json("POST", f"/api/v1/agent/conversations/{cid}/cases", body, status)
    return answer | {"cid": cid}


async def case_of(member: Staff, number: str) -> dict[str, Any]:
    return await member.json("GET", f"/api/v1/cases/{number}")


async def act(
    member: Staff, number: str, action: str, status: int = 200, **fields: Any
) -> dict[str, Any]:
    version = (await case_of(member, number))["case"]["version"]
    body = {"action": action, "version": version} | fields
    return await member.json("POST", f"/api/v1/cases/{number}/actions", body, status)


async def numbers(member: Staff, query: str = "") -> list[str]:
    found = await member.json("GET", "/api/v1/cases" + query)
    return [row["number"] for row in found["cases"]]


async def upload(member: Staff, number: str, name: str, data: bytes) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return await member.http.post(
        member.url(f"/api/v1/cases/{number}/attachments"),
        data=form,
        headers={"X-CSRF-Token": member.csrf},
    )


async def test_a_complaint_goes_round_the_whole_loop(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    filed = (await file_case(hub, agent, "loop-1"))["case"]
    number = filed["number"]
    assert filed["state"] == "accepted"  # 受理 at once

    page = await case_of(agent, number)
    assert page["suggestion"]["lead"] == "water"
    assert page["suggestion"]["lead_name"] == "市水务集团"
    assert page["suggestion"]["due_days"] == 3
    case = page["case"]
    assert case["contact_phone"] == "138****5678"
    assert case["contact_phone_full"] == "13812345678"
    assert case["category"][1] == {"code": "0201", "name": "供水"}
    assert {"action": "dispatch", "label": "派单"} in case["actions"]
    assert "confirm" not in [a["action"] for a in case["actions"]]  # a department's action

    suggestion = page["suggestion"]
    dispatched = await act(
        agent,
        number,
        "dispatch",
        department=suggestion["lead"],
        assisting=[a["code"] for a in suggestion["assisting"]],
        due_days=suggestion["due_days"],
    )
    # three working days after 30 September: 8, 9 and (the make-up workday) 10 October
    assert at(dispatched["case"]["due_at"]) == datetime(2026, 10, 10, 1, 0, tzinfo=UTC)
    assert dispatched["case"]["department_name"] == "市水务集团"
    assert dispatched["case"]["state_label"] == "已派单"

    water = await hub.staff("water1")
    assert number in await numbers(water)
    # a department's list is its own inbox whatever it asks for
    assert number in await numbers(water, "?list=all&department=chengguan")
    chengguan = await hub.staff("chengguan1")
    assert number not in await numbers(chengguan)
    resp = await chengguan.get(f"/api/v1/cases/{number}")
    assert resp.status == 404
    assert (await resp.json())["reason"] == "工单不存在"

    mine = (await case_of(water, number))["case"]
    assert {a["action"] for a in mine["actions"]} == {"confirm", "return"}
    assert "contact_phone_full" not in mine
    refused = await act(water, number, "close", status=403)
    assert refused == {"error": "forbidden", "reason": "该操作只能由热线中心进行"}

    signed = await act(water, number, "confirm")
    old_version = signed["case"]["version"] - 1
    stale = await water.json(
        "POST",
        f"/api/v1/cases/{number}/actions",
        {"action": "request_extension", "version": old_version, "days": 2},
        status=409,
    )
    assert stale == STALE
    await act(water, number, "request_extension", days=2, comment="需更换主管道")
    assert number in await numbers(agent, "?list=audit")

    supervisor = await hub.staff("super")
    approved = await act(supervisor, number, "approve_extension")
    # two more working days after Saturday 10 October: Monday 12 and Tuesday 13
    assert at(approved["case"]["due_at"]) == datetime(2026, 10, 13, 1, 0, tzinfo=UTC)
    assert approved["case"]["extension"] == "approved"

    resp = await upload(water, number, "现场.png", PNG)
    assert resp.status == 201, await resp.text()
    photo = (await resp.json())["attachment"]
    assert photo["content_type"] == "image/png"
    resp = await upload(water, number, "tool.exe", b"MZ\x90\x00" * 10)
    assert resp.status == 400
    assert "不支持的文件类型" in (await resp.json())["reason"]

    replied = await act(
        water, number, "reply", reply="已更换主管道，恢复供水", attachments=[photo["id"]]
    )
    assert replied["case"]["state"] == "replied"
    assert replied["case"]["attachments"][0]["name"] == "现场.png"
    download = await water.get(photo["url"])
    assert download.status == 200
    assert await download.read() == PNG
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert (await chengguan.get(photo["url"])).status == 404

    assert number in await numbers(agent, "?list=to_revisit")
    await act(agent, number, "revisit", satisfaction="satisfied")
    closed = (await act(agent, number, "close"))["case"]
    assert closed["state"] == "closed"
    assert closed["satisfaction_label"] == "满意"
    assert [(e["action"], e["actor"]) for e in closed["events"]] == [
        ("create", "agent1"),
        ("accept", "agent1"),
        ("dispatch", "agent1"),
        ("confirm", "water1"),
        ("request_extension", "water1"),
        ("approve_extension", "super"),
        ("reply", "water1"),
        ("revisit", "agent1"),
        ("close", "agent1"),
    ]
    assert closed["events"][4]["data"] == {"days": "2"}
    assert closed["events"][6]["data"]["attachments"] == photo["id"]
    assert closed["actions"] == [{"action": "reopen", "label": "重办"}]


async def test_a_repeat_report_is_merged_into_the_open_case(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    first = (await file_case(hub, agent, "merge-1"))["case"]
    similar = await agent.json(
        "GET", "/api/v1/cases/similar?address=阳光花园3栋&category=" + ",".join(WATER)
    )
    assert [c["number"] for c in similar["cases"]] == [first["number"]]
    by_phone = await agent.json("GET", "/api/v1/cases/similar?phone=%2B8613812345678")
    assert [c["number"] for c in by_phone["cases"]] == [first["number"]]

    cid = (await hub.customer("merge-2", "转人工"))["conversation_id"]
    merged = await agent.json(
        "POST",
        f"/api/v1/agent/conversations/{cid}/cases",
        {"merge_into": first["number"], "title": "又停水了", "description": "邻居也反映停水"},
    )
    assert merged["merged"] is True
    last = merged["case"]["events"][-1]
    assert last["action"] == "merge"
    assert last["comment"] == "又停水了\n邻居也反映停水"
    assert last["data"]["conversation_id"] == cid
    messages = (await agent.json("GET", f"/api/v1/agent/conversations/{cid}"))["messages"]
    assert f"已并入工单 {first['number']}" in [m["text"] for m in messages if m["internal"]]
    assert (await agent.json("GET", "/api/v1/cases?list=all"))["total"] == 1

    resp = await agent.post(
        f"/api/v1/agent/conversations/{cid}/cases", {"merge_into": "20260930-999999"}
    )
    assert resp.status == 404


async def test_a_return_is_audited_and_the_case_re_dispatched(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    number = (await file_case(hub, agent, "ret-1", category=LAMP, title="路灯不亮"))["case"][
        "number"
    ]
    await act(agent, number, "dispatch", department="water")
    water = await hub.staff("water1")
    missing = await act(water, number, "return", status=400)
    assert missing["reason"] == "请填写原因"
    returned = await act(water, number, "return", comment="路灯不属于本单位管理")
    assert returned["case"]["state_label"] == "退单待审"
    assert number in await numbers(agent, "?list=returned")

    await act(agent, number, "approve_return", comment="同意退单")
    assert (await water.get(f"/api/v1/cases/{number}")).status == 404
    page = await case_of(agent, number)
    assert page["case"]["department"] is None
    assert page["suggestion"]["lead"] == "chengguan"
    unknown = await act(agent, number, "dispatch", status=400, department="nobody")
    assert unknown["reason"] == "承办单位 nobody 不存在"
    await act(agent, number, "dispatch", department="chengguan")

    chengguan = await hub.staff("chengguan1")
    assert number in await numbers(chengguan)
    signed = (await act(chengguan, number, "confirm"))["case"]
    assert [e["data"].get("department") for e in signed["events"] if e["action"] == "dispatch"] == [
        "water",
        "chengguan",
    ]
    late = await act(chengguan, number, "dispatch", status=403, department="water")
    assert late["reason"] == "该操作只能由热线中心进行"


async def test_an_overdue_case_is_red_and_first(hub: Hub, clock: FixedClock):
    agent = await hub.staff("agent1", ready=True)
    fresh = (await file_case(hub, agent, "sla-1", address="八一大道1号"))["case"]["number"]
    late = (await file_case(hub, agent, "sla-2", address="八一大道2号"))["case"]["number"]
    await act(agent, fresh, "dispatch", department="water", due_days=10)
    await act(agent, late, "dispatch", department="water", due_days=1)
    clock.set(datetime(2026, 10, 9, 2, 0, tzinfo=UTC))  # past the 8 October deadline

    agent = await hub.staff("agent1")  # the old session went idle
    rows = (await agent.json("GET", "/api/v1/cases"))["cases"]
    assert [r["number"] for r in rows] == [late, fresh]
    assert (rows[0]["light"], rows[0]["light_label"]) == ("red", "超期")
    assert rows[1]["light"] == "green"
    assert await numbers(agent, "?list=overdue") == [late]
    assert await numbers(agent, "?list=sign_off_late") == [late, fresh]  # neither signed

    supervisor = await hub.staff("super")
    board = await supervisor.json("GET", "/api/v1/supervisor/case-board")
    assert board["overdue"] == 1
    assert board["open"] == 2
    assert board["sign_off_late"] == 2
    assert (await agent.get("/api/v1/supervisor/case-board")).status == 403


async def test_intake_may_leave_a_case_new_or_close_it_on_the_spot(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    kept = (await file_case(hub, agent, "in-1", accept=False))["case"]
    assert kept["state"] == "new"
    answered = await file_case(
        hub,
        agent,
        "in-2",
        type="consult",
        title="公积金怎么提取",
        close_now=True,
        reply="携带身份证到公积金中心办理",
    )
    closed = (await case_of(agent, answered["case"]["number"]))["case"]
    assert closed["state"] == "closed"
    assert closed["reply"] == "携带身份证到公积金中心办理"
    assert [e["action"] for e in closed["events"]] == ["create", "accept", "close"]
    refused = await file_case(hub, agent, "in-3", status=400, close_now=True, reply="好的")
    assert refused["reason"] == "只有咨询、表扬、建议、公共事务类工单可以直接办结"


async def test_bad_input_is_refused_in_chinese(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    for query, reason in (
        ("?list=nope", "工单列表无效：nope"),
        ("?phone=abc", "电话号码格式不正确"),
        ("?from=2026-13-01", "日期 from 格式应为 YYYY-MM-DD"),
        ("?per_page=1000", "参数 per_page 须在 1–100 之间"),
        ("?state=lost", "工单状态无效：lost"),
    ):
        answer = await agent.json("GET", "/api/v1/cases" + query, status=400)
        assert answer["reason"] == reason
    number = (await file_case(hub, agent, "bad-1"))["case"]["number"]
    illegal = await act(agent, number, "close", status=409)
    assert illegal["reason"] == "该类工单须派单至承办单位办理后才能办结"
    wrong_state = await act(agent, number, "revisit", status=409, satisfaction="satisfied")
    assert wrong_state["reason"] == "工单当前状态为“已受理”，不能回访"
    no_version = await agent.json(
        "POST", f"/api/v1/cases/{number}/actions", {"action": "dispatch"}, status=400
    )
    assert no_version["reason"] == "缺少工单版本号（version），请刷新后重试"
    assert (await agent.get("/api/v1/cases/20260930-999999")).status == 404
    assert (await agent.json("GET", "/api/v1/cases?phone=13812345678"))["total"] == 1


async def test_the_catalogue_suggests_and_admins_edit_it(hub: Hub):
    agent = await hub.staff("agent1")
    suggested = await agent.json("GET", "/api/v1/catalogue/suggest?category=02010101")
    assert suggested["suggestion"]["lead"] == "water"
    departments = (await agent.json("GET", "/api/v1/departments"))["departments"]
    assert {"code": "water", "name": "市水务集团"} in departments

    admin = await hub.staff("admin")
    entries = (await admin.json("GET", "/api/v1/admin/catalogue"))["entries"]
    lamp = next(e for e in entries if e["category"] == "0101")
    assert lamp["lead_name"] == "市城市管理局"
    assert lamp["category_name"] == "城乡建设 / 市政设施"
    saved = await admin.json(
        "PUT", "/api/v1/admin/catalogue/0201", {"lead": "housing", "assisting": ["water"]}
    )
    assert saved["entry"]["assisting"] == [{"code": "water", "name": "市水务集团"}]
    suggested = await agent.json("GET", "/api/v1/catalogue/suggest?category=02,0201")
    assert suggested["suggestion"]["lead"] == "housing"
    bad = await admin.json("PUT", "/api/v1/admin/catalogue/0201", {"lead": "nobody"}, status=400)
    assert bad["reason"] == "部门 nobody 不存在"
    assert (await admin.delete("/api/v1/admin/catalogue/0201")).status == 204
    suggested = await agent.json("GET", "/api/v1/catalogue/suggest?category=02010101")
    assert suggested["suggestion"] is None
    assert (await agent.put("/api/v1/admin/catalogue/0201", {"lead": "water"})).status == 403


async def test_a_citizens_chat_photo_on_the_case_is_served_to_who_may_see_the_case(
    hub: Hub, db: Database, settings: Settings
):
    upload_id = "c" * 32  # as the web chat stores a citizen's file: record + var/uploads/<id>
    await MongoUploadRepository(db).add(
        Upload(upload_id, "v-1", "漏水.jpg", "image/jpeg", 20), START
    )
    folder = settings.hub_var_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / upload_id).write_bytes(JPEG)
    new = NewCase(CaseType.COMPLAINT, "楼道漏水", attachments=(upload_id,))
    case = await hub.app[CASE_DESK].open(new, "agent1")

    agent = await hub.staff("agent1")
    photo = (await case_of(agent, case.number))["case"]["attachments"][0]
    assert photo == {
        "id": upload_id,
        "name": "漏水.jpg",
        "url": f"/api/v1/cases/{case.number}/attachments/{upload_id}",
        "content_type": "image/jpeg",
        "size": 20,
    }
    resp = await agent.get(photo["url"])
    assert resp.status == 200
    assert await resp.read() == JPEG
    water = await hub.staff("water1")
    assert (await water.get(photo["url"])).status == 404  # not a case of theirs
    other = f"/api/v1/cases/{case.number}/attachments/{'d' * 32}"
    assert (await agent.get(other)).status == 404


async def test_an_attachment_over_10_mb_is_413(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    number = (await file_case(hub, agent, "big-1"))["case"]["number"]
    resp = await upload(agent, number, "big.png", PNG + b"\x00" * (10 * 1024 * 1024))
    assert resp.status == 413
    assert (await resp.json())["reason"] == "文件超过 10 MB"
    resp = await upload(agent, number, "note.txt", "现场情况说明".encode())
    assert resp.status == 201
    assert (await resp.json())["attachment"]["content_type"] == "text/plain; charset=utf-8"
