"""GET /api/v1/cases/{number}/sms: the SMS sent for a case (notifications and revisit) with
their delivery state, for the staff who may see that case: supervisors and admins; an agent
for a case they opened or whose conversation they may read (agent_web.access); a department
user for a case dispatched to their department. Phone numbers are masked except for
supervisors and admins."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from agent_web.access import may_view
from agent_web.auth import Caller, refusal, requires
from agent_web.keys import ACD, CASES, ROUTER
from cases.model import Case
from channels.sms.keys import REPO
from channels.sms.records import SmsRecord
from primitives.phone import InvalidPhoneNumber, PhoneNumber, mask_digits
from routing.agents import Role
from routing.errors import ConversationNotFound


@requires(Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT, Role.ADMIN)
async def case_sms(request: web.Request, me: Caller) -> web.Response:
    case = await request.app[CASES].get(request.match_info["number"])  # CaseNotFound: 404
    if not await may_read(request.app, me, case):
        raise refusal(403, "forbidden", "您无权查看该工单的短信记录")
    records = await request.app[REPO].for_case(case.number)
    whole = me.has(Role.SUPERVISOR)  # admins hold every role
    return web.json_response({"sms": [_public(r, whole) for r in records]}, dumps=_dumps)


async def may_read(app: web.Application, caller: Caller, case: Case) -> bool:
    if caller.has(Role.SUPERVISOR):
        return True
    department = caller.agent.department
    if caller.has(Role.DEPARTMENT) and department and case.department == department:
        return True
    if not caller.has(Role.AGENT):
        return False
    opener = case.created_by or (case.events[0].actor if case.events else "")
    if opener == caller.login:
        return True  # the agent who opened it
    if case.conversation_id is None:
        return False
    try:
        conversation = await app[ROUTER].conversation(case.conversation_id)
    except ConversationNotFound:
        return False
    return await may_view(app[ROUTER], app[ACD], caller, conversation)


def _public(record: SmsRecord, whole_numbers: bool) -> dict[str, Any]:
    shown = asdict(record)
    shown.pop("receipts")
    if not whole_numbers:
        shown["to"] = _masked(record.to)
        shown["text"] = mask_digits(record.text)
    return shown


def _masked(number: str) -> str:
    try:
        return str(PhoneNumber.parse(number))
    except InvalidPhoneNumber:
        return mask_digits(number)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
