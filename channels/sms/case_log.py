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
from agent_web.keys import CASES
from cases.model import Case
from channels.keys import ROUTING
from channels.sms.keys import REPO
from hub.routing_stack import RoutingStack
from mongo.sms import SmsRecord
from primitives.phone import InvalidPhoneNumber, PhoneNumber, mask_digits
from routing.agents import Role
from routing.errors import ConversationNotFound


@requires(Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT, Role.ADMIN)
async def case_sms(request: web.Request, me: Caller) -> web.Response:
    case = await request.app[CASES].get(request.match_info["number"])  # CaseNotFound: 404
    if not await may_read(request.app[ROUTING], me, case):
        raise refusal(403, "forbidden", f"{me.login} may not read case {case.number}")
    records = await request.app[REPO].for_case(case.number)
    whole = me.has(Role.SUPERVISOR)  # admins hold every role
    return web.json_response({"sms": [_public(r, whole) for r in records]}, dumps=_dumps)


async def may_read(stack: RoutingStack, caller: Caller, case: Case) -> bool:
    if caller.has(Role.SUPERVISOR):
        return True
    department = caller.agent.department
    if caller.has(Role.DEPARTMENT) and department and case.department == department:
        return True
    if not caller.has(Role.AGENT):
        return False
    if case.events and case.events[0].actor == caller.login:
        return True  # the agent who opened it
    if case.conversation_id is None:
        return False
    try:
        conversation = await stack.router.book.get(case.conversation_id)
    except ConversationNotFound:
        return False
    return await may_view(stack, caller, conversation)


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
