"""The citizen hears about their case in the chat they used, and deadlines raise alerts on the
staff's live feed (routing/case_notices.py, cases/reminders.py, hub/case_jobs.py)."""

from __future__ import annotations

import asyncio

from agent_web.keys import EVENTS
from hub.case_jobs import REMINDERS
from primitives.clock import FixedClock
from routing.events import CaseAlertRaised
from tests.agent_web.conftest import Hub
from tests.agent_web.test_case_workbench_api import act, clock, file_case, hub  # noqa: F401


async def test_the_citizen_is_told_the_number_and_each_step_in_the_chat(hub: Hub):  # noqa: F811
    agent = await hub.staff("agent1", ready=True)
    water1 = await hub.staff("water1")
    number = (await file_case(hub, agent, "told-1"))["case"]["number"]
    await act(agent, number, "dispatch", department="water", due_days=3)
    await act(water1, number, "confirm")
    await act(water1, number, "reply", reply="已恢复供水")
    await act(agent, number, "revisit", satisfaction="satisfied")
    await act(agent, number, "close")

    said = [t for t in await hub.customer_inbox("told-1") if number in t]
    assert (
        said[0] == f"您反映的问题已受理，工单号{number}。如需了解进度，请发送“查询工单{number}”。"
    )
    assert said[1].startswith(f"工单{number}已转交市水务集团办理，预计")
    assert said[2] == f"工单{number}已有办理结果：已恢复供水"
    assert said[3] == f"工单{number}已办结，感谢您对12345热线的支持。"
    assert len(said) == 4  # one notice per step, none twice


async def test_a_merged_report_is_told_which_case_it_joined(hub: Hub):  # noqa: F811
    agent = await hub.staff("agent1", ready=True)
    number = (await file_case(hub, agent, "first-reporter"))["case"]["number"]
    await file_case(hub, agent, "second-reporter", status=200, merge_into=number)
    said = await hub.customer_inbox("second-reporter")
    assert f"您反映的问题与已登记的工单{number}为同一事项，已并入该工单一并办理。" in said


async def test_deadlines_raise_one_alert_each_on_the_live_feed(hub: Hub, clock: FixedClock):  # noqa: F811
    agent = await hub.staff("agent1", ready=True)
    number = (await file_case(hub, agent, "late-1"))["case"]["number"]
    await act(agent, number, "dispatch", department="water", due_days=1)
    heard: list[CaseAlertRaised] = []
    subscription = hub.app[EVENTS].subscribe(lambda e: isinstance(e, CaseAlertRaised))

    async def listen() -> None:
        async for event in subscription:
            heard.append(event)  # type: ignore[arg-type]

    listener = asyncio.create_task(listen())
    try:
        clock.advance(minutes=31)
        await hub.app[REMINDERS].run_once()
        await hub.app[REMINDERS].run_once()
        await asyncio.sleep(0.05)
        assert [(e.kind, e.case_number, e.label) for e in heard] == [
            ("sign_off_late", number, "签收超时")
        ]
        clock.advance(days=10)
        await hub.app[REMINDERS].run_once()
        await asyncio.sleep(0.05)
        assert [e.kind for e in heard] == ["sign_off_late", "overdue"]
    finally:
        listener.cancel()
        subscription.close()


async def test_a_callback_the_bot_booked_reminds_the_agents_when_due(
    hub: Hub,  # noqa: F811
    clock: FixedClock,  # noqa: F811
):
    """预约回电: the bot files a todo case; at its reminder time every agent's feed hears it."""
    from datetime import timedelta

    from agent_web.keys import CASE_DESK
    from cases.model import CaseType, NewCase

    agent = await hub.staff("agent1", ready=True)
    ws = await agent.ws()
    assert (await ws.receive_json())["type"] == "hello"
    todo = await hub.app[CASE_DESK].open(
        NewCase(
            CaseType.TODO, "回电：咨询公积金提取", remind_at=clock.now() + timedelta(minutes=30)
        ),
        actor="bot",
    )
    clock.advance(minutes=31)
    await hub.app[REMINDERS].run_once()
    while (event := await ws.receive_json(timeout=10))["type"] != "case_alert":
        pass
    assert (event["kind"], event["case"], event["label"]) == ("todo_due", todo.number, "待办提醒")
    await ws.close()
