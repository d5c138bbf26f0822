"""A case (work order) from a conversation, prefilled from what the bot understood.

GET  /api/v1/agent/taxonomy                            the active categories (4 levels)
GET  /api/v1/agent/conversations/{cid}/case-draft      type, title, phone, address … to prefill
POST /api/v1/agent/conversations/{cid}/cases           {"type","title","description","category",
                                                        "contact_phone","address"} → 201 {"case"}
    The case is accepted (受理) at once unless "accept": false; "close_now": true with "reply"
    closes a consultation, praise, suggestion or public-affairs case on the spot (直接办结).
    "merge_into": "<number>" records the report on that open case instead (并单) → 200
    {"case", "merged": true}. Files the citizen sent in the conversation go on the case.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_web.access import viewable
from agent_web.auth import Caller, refusal, requires
from agent_web.case_access import visible_case
from agent_web.case_views import case_context, case_detail, case_row
from agent_web.case_workbench_api import apply
from agent_web.inbox_api import SERVING
from agent_web.json_input import read_json, string_list, text
from agent_web.keys import ACD, AGENT_DESK, CASE_DESK, CUSTOMERS, MESSAGES, ROUTER, TAXONOMY
from agent_web.views import case_json, entities
from cases.model import CaseType, NewCase
from cases.workflow import DIRECT_CLOSE_TYPES, CaseAction, CaseCommand
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from routing.agents import Role
from routing.conversation_model import Conversation
from routing.customers import CustomerRepository, IdentityKind
from routing.messages import Direction, SenderKind

_DRAFT_SLOTS = ("phone", "address", "district", "time", "service_type")
# Types an agent files from a chat; todo cases need a reminder time and come from elsewhere.
FROM_CHAT = tuple(t for t in CaseType if t is not CaseType.TODO)
# Types an agent may close on the spot (直接办结) with the answer given.
CLOSE_NOW = tuple(t for t in FROM_CHAT if t in DIRECT_CLOSE_TYPES)
# Where the web chat serves a citizen's file: its id follows (channels/webchat/routes.py).
_CHAT_FILE = "/webchat/files/"
_TYPE_BY_INTENT = {
    "complaint": CaseType.COMPLAINT,
    "suggestion": CaseType.SUGGESTION,
    "praise": CaseType.PRAISE,
    "order_domestic_service": CaseType.DOMESTIC_SERVICE_ORDER,
    "report_repair": CaseType.REPAIR,
    "emergency_help": CaseType.EMERGENCY,
}


@requires(Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT)
async def taxonomy(request: web.Request, me: Caller) -> web.Response:
    tree = request.app[TAXONOMY][0]
    categories = [
        {"code": c.code, "name": c.name, "parent": c.parent, "level": c.level}
        for c in tree
        if c.active
    ]
    return web.json_response({"categories": categories})


@requires(*SERVING)
async def case_draft(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    messages = await request.app[MESSAGES].list_for_conversation(conv.id, limit=500)
    found: dict[str, str] = {}
    intents: list[str] = []
    typed = ""  # a number the citizen typed in a channel's form (web chat): a contact detail
    for m in messages:
        meta = dict(m.meta)
        if m.sender is SenderKind.BOT and "intent" in meta:
            found.update(entities(meta))
            intents.append(meta["intent"])
        elif m.direction is Direction.INBOUND and "contact_phone" in meta:
            typed = meta["contact_phone"]
    said = [m.text for m in messages if m.direction is Direction.INBOUND and m.text]
    # What the bot gathered over the whole conversation (routing/dialogue_state.py) wins over
    # any one turn: the intent that first asked for a person or a case, the slots filled.
    slots = {k: v for k, v in conv.dialogue.slots if v}
    found.update({k: v for k, v in slots.items() if k in _DRAFT_SLOTS})
    case_type = _TYPE_BY_INTENT.get(conv.dialogue.main_intent) or next(
        (_TYPE_BY_INTENT[i] for i in reversed(intents) if i in _TYPE_BY_INTENT), CaseType.CONSULT
    )
    service = found.get("service_type", "")
    first = slots.get("what") or (said[0] if said else "")
    draft = {
        "type": case_type.value,
        "title": (service + "：" if service else "") + first[:60],
        "description": "\n".join(said)[:2000],
        "contact_phone": await _phone(request.app[CUSTOMERS], conv, found.get("phone") or typed),
        "address": _address(found),
        "service_type": service,
        "time": found.get("time", ""),
        "entities": found,
    }
    return web.json_response({"draft": draft})


@requires(*SERVING)
async def open_case(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    serving = conv.agent == me.login or me.login in conv.participants
    if not serving and not me.has(Role.SUPERVISOR):
        raise refusal(403, "forbidden", "only the serving agent files a case from a conversation")
    body = await read_json(request)
    if body.get("merge_into") is not None:
        return await _merge(request, me, conv, body)
    kind = text(body, "type", max_len=32)
    if kind not in {t.value for t in FROM_CHAT}:
        raise refusal(
            400, "bad_request", "type must be one of " + ", ".join(t.value for t in FROM_CHAT)
        )
    accept, close_now = _flag(body, "accept", True), _flag(body, "close_now", False)
    answer = text(body, "reply", max_len=5000, default="").strip()
    if close_now and CaseType(kind) not in CLOSE_NOW:
        raise refusal(400, "bad_request", "只有咨询、表扬、建议、公共事务类工单可以直接办结")
    if close_now and not answer:
        raise refusal(400, "bad_request", "直接办结请填写答复内容（reply）")
    new = NewCase(
        type=CaseType(kind),
        title=text(body, "title", max_len=200),
        description=text(body, "description", max_len=5000, default=""),
        category=tuple(string_list(body, "category", max_items=4)),
        customer_id=conv.customer_id,
        conversation_id=conv.id,
        channel=conv.last_channel or conv.channel,
        contact_phone=text(body, "contact_phone", max_len=32, default="").strip() or None,
        address=text(body, "address", max_len=300, default=""),
        attachments=await _citizen_files(request, conv.id),
    )
    desk = request.app[CASE_DESK]
    case = await desk.open(new, me.login)
    await request.app[AGENT_DESK].note(me.login, conv.id, f"已创建工单 {case.number}")
    if accept or close_now:  # 受理: the citizen is told the number (the channels' notices)
        case = await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, me.login))
    if close_now:
        close = CaseCommand(CaseAction.CLOSE, me.login, comment="直接办结", reply=answer)
        case = await desk.act(case.number, close)
    label = request.app[TAXONOMY][0].label(case.category[-1]) if case.category else ""
    row = case_row(case, await case_context(request.app))
    return web.json_response({"case": row | case_json(case, label)}, status=201)


async def _merge(
    request: web.Request, me: Caller, conv: Conversation, body: dict[str, Any]
) -> web.Response:
    """并单: the report goes onto an open case as a MERGE event instead of a new case."""
    number = body["merge_into"]
    if not isinstance(number, str) or not 0 < len(number) <= 32:
        raise refusal(400, "bad_request", "merge_into 须为工单号")
    case = await visible_case(request.app, me, number.strip())
    title = text(body, "title", max_len=200, default="").strip()
    description = text(body, "description", max_len=5000, default="").strip()
    comment = "\n".join(p for p in (title, description) if p) or "同一事项再次来电"
    merge = CaseCommand(
        CaseAction.MERGE,
        me.login,
        comment=comment,
        conversation_id=conv.id,
        attachments=await _citizen_files(request, conv.id),
    )
    after = await apply(request.app[CASE_DESK], case.number, merge, None)
    await request.app[AGENT_DESK].note(me.login, conv.id, f"已并入工单 {case.number}")
    detail = await case_detail(request.app, me, after)
    return web.json_response({"case": detail["case"], "merged": True})


async def _citizen_files(request: web.Request, conversation_id: str) -> tuple[str, ...]:
    """Ids of the files the citizen sent in the conversation (photos of the matter)."""
    messages = await request.app[MESSAGES].list_for_conversation(conversation_id, limit=500)
    ids = [
        a.url.removeprefix(_CHAT_FILE)
        for m in messages
        if m.direction is Direction.INBOUND
        for a in m.attachments
        if a.url.startswith(_CHAT_FILE)
    ]
    return tuple(dict.fromkeys(i for i in ids if i and "/" not in i and "?" not in i))


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise refusal(400, "bad_request", f"字段 {name} 须为 true 或 false")
    return value


async def _phone(customers: CustomerRepository, conv: Conversation, said: str | None) -> str:
    """The number the customer gave, else the one they called or texted from (national form)."""
    if said:
        try:
            return PhoneNumber.parse(said).national
        except InvalidPhoneNumber:
            pass
    customer = await customers.get(conv.customer_id)
    identity = customer.identity(IdentityKind.PHONE)
    if identity is None:
        return ""
    try:
        return PhoneNumber.parse(identity.value).national
    except InvalidPhoneNumber:
        return ""


def _address(found: dict[str, str]) -> str:
    address, district = found.get("address", ""), found.get("district", "")
    if district and district not in address:
        return district + address
    return address


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/taxonomy", taxonomy)
    app.router.add_get("/api/v1/agent/conversations/{cid}/case-draft", case_draft)
    app.router.add_post("/api/v1/agent/conversations/{cid}/cases", open_case)
