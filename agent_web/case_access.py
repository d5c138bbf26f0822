"""Who may see a case and do what to it (roles say what a caller is: auth.py).

The centre (agents and supervisors; admins hold every role) sees every case. A department's
staff see the cases their department leads or assists, and nothing else: any other number is
a 404, so numbers cannot be probed. Department actions (签收, 办理, 回复, 延期申请, 退单) are done
by the lead department's staff only; centre actions by agents and supervisors; 督办 by
supervisors.
"""

from __future__ import annotations

from aiohttp import web

from agent_web.auth import Caller, refusal
from agent_web.keys import CASES
from cases.errors import CaseNotFound
from cases.model import Case
from cases.workflow import (
    DEPARTMENT_ACTIONS,
    SUPERVISOR_ACTIONS,
    CaseAction,
    allowed_actions,
)
from routing.agents import Role

NOT_FOUND = "工单不存在"


def is_centre(me: Caller) -> bool:
    return me.has(Role.AGENT) or me.has(Role.SUPERVISOR)


def department_of(me: Caller) -> str | None:
    """The department whose portal the caller uses; None for the centre's staff."""
    if is_centre(me) or not me.has(Role.DEPARTMENT):
        return None
    return me.agent.department


def portal_department(me: Caller) -> str:
    """A department user's department; 403 when their account has none."""
    department = department_of(me)
    if not department:
        raise refusal(403, "no_department", "您的账号未关联承办单位，请联系管理员")
    return department


def may_see(me: Caller, case: Case) -> bool:
    if is_centre(me):
        return True
    department = department_of(me)
    return bool(department) and department in (case.department, *case.assisting)


def may_do(me: Caller, case: Case, action: CaseAction) -> bool:
    if action in DEPARTMENT_ACTIONS:
        return (
            me.has(Role.DEPARTMENT)
            and case.department is not None
            and me.agent.department == case.department
        )
    if action in SUPERVISOR_ACTIONS:
        return me.has(Role.SUPERVISOR)
    return is_centre(me)


def caller_actions(me: Caller, case: Case) -> list[CaseAction]:
    """What this caller may do to the case now (its state × their role × their department)."""
    return [a for a in allowed_actions(case) if may_do(me, case, a)]


async def visible_case(app: web.Application, me: Caller, number: str) -> Case:
    """The case, if the caller may see it; a 404 in Chinese otherwise (or if there is none)."""
    try:
        case = await app[CASES].get(number)
    except CaseNotFound:
        raise refusal(404, "not_found", NOT_FOUND) from None
    if not may_see(me, case):
        raise refusal(404, "not_found", NOT_FOUND)
    return case


def action_refusal(action: CaseAction) -> web.HTTPException:
    if action in DEPARTMENT_ACTIONS:
        return refusal(403, "forbidden", "该操作只能由承办单位办理")
    if action in SUPERVISOR_ACTIONS:
        return refusal(403, "forbidden", "该操作只能由值班长进行")
    return refusal(403, "forbidden", "该操作只能由热线中心进行")
