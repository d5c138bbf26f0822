"""GET /api/v1/cases/{number}/sms: supervisors and admins read every case's SMS; an agent only
a case they opened or whose conversation they may read; a department user only a case
dispatched to their department. Only supervisors and admins see whole phone numbers."""

from __future__ import annotations

from typing import Any

from agent_web.keys import CASE_DESK
from cases.model import CaseType, NewCase
from cases.workflow import CaseAction, CaseCommand
from tests.agent_web.conftest import Hub
from tests.channels.sms.rig import CITIZEN

MASKED = "138****5678"


async def _case(
    hub: Hub, opened_by: str, *, department: str | None = None, conversation: str | None = None
) -> str:
    """A case opened and accepted by opened_by (the citizen gets an SMS), perhaps dispatched."""
    desk = hub.app[CASE_DESK]
    new = NewCase(
        CaseType.REPAIR,
        "小区停水，联系13812345678",
        contact_phone=CITIZEN,
        category=("01", "0101"),
        conversation_id=conversation,
    )
    case = await desk.open(new, opened_by)
    await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, opened_by))
    if department:
        await desk.act(
            case.number, CaseCommand(CaseAction.DISPATCH, opened_by, department=department)
        )
    return case.number


def _sms(number: str) -> str:
    return f"/api/v1/cases/{number}/sms"


async def _forbidden(hub: Hub, login: str, number: str) -> dict[str, Any]:
    member = await hub.staff(login)
    return await member.json("GET", _sms(number), status=403)


async def test_a_department_user_reads_only_their_cases_sms(demo_hub: Hub):
    theirs = await _case(demo_hub, "agent1", department="water")
    elsewhere = await _case(demo_hub, "agent1", department="transport")
    undispatched = await _case(demo_hub, "agent1")
    water = await demo_hub.staff("water1")
    shown = (await water.json("GET", _sms(theirs)))["sms"]
    assert {s["purpose"] for s in shown} == {"accepted", "dispatched"}
    for number in (elsewhere, undispatched):
        refused = await water.json("GET", _sms(number), status=403)
        assert refused == {"error": "forbidden", "reason": "您无权查看该工单的短信记录"}


async def test_an_agent_reads_the_sms_of_cases_they_opened_or_serve_only(demo_hub: Hub):
    await demo_hub.staff("agent2", ready=True)
    served = (await demo_hub.customer("k1", "转人工"))["conversation_id"]
    serving = await _case(demo_hub, "super", conversation=served)
    opened = await _case(demo_hub, "agent1")

    agent1 = await demo_hub.staff("agent1")
    agent2 = await demo_hub.staff("agent2")
    assert (await agent1.json("GET", _sms(opened)))["sms"]
    assert (await agent2.json("GET", _sms(serving)))["sms"]
    await agent1.json("GET", _sms(serving), status=403)
    await agent2.json("GET", _sms(opened), status=403)


async def test_phone_numbers_are_masked_except_for_supervisors_and_admins(demo_hub: Hub):
    number = await _case(demo_hub, "agent1")
    agent = await demo_hub.staff("agent1")
    [shown] = (await agent.json("GET", _sms(number)))["sms"]
    assert shown["to"] == MASKED
    assert "13812345678" not in shown["text"]
    assert MASKED in shown["text"]
    for login in ("super", "admin"):
        staff = await demo_hub.staff(login)
        [full] = (await staff.json("GET", _sms(number)))["sms"]
        assert full["to"] == CITIZEN
        assert "13812345678" in full["text"]


async def test_an_unknown_case_is_a_404(demo_hub: Hub):
    supervisor = await demo_hub.staff("super")
    refused = await supervisor.json("GET", _sms("20260101-999999"), status=404)
    assert refused["reason"] == "case 20260101-999999 does not exist"
