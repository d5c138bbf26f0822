"""A case (work order) from a conversation, prefilled from what the bot understood.

GET  /api/v1/agent/taxonomy                            the active categories (4 levels)
GET  /api/v1/agent/conversations/{cid}/case-draft      type, title, phone, address … to prefill
POST /api/v1/agent/conversations/{cid}/cases           {"type","title","description","category",
                                                        "contact_phone","address"} → 201 {"case"}
"""

from __future__ import annotations

from aiohttp import web

from agent_web.access import viewable
from agent_web.auth import Caller, refusal, requires
from agent_web.inbox_api import SERVING
from agent_web.json_input import read_json, string_list, text
from agent_web.keys import CASE_DESK, TAXONOMY
from agent_web.views import case_json, entities
from cases.model import CaseType, NewCase
from channels.keys import ROUTING
from hub.routing_stack import RoutingStack
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from routing.agents import Role
from routing.conversation_model import Conversation
from routing.customers import IdentityKind
from routing.messages import Direction, SenderKind

# Types an agent files from a chat; todo cases need a reminder time and come from elsewhere.
FROM_CHAT = tuple(t for t in CaseType if t is not CaseType.TODO)
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
    stack = request.app[ROUTING]
    conv = await viewable(stack, me, request.match_info["cid"])
    messages = await stack.messages.list_for_conversation(conv.id, limit=500)
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
    case_type = next(
        (_TYPE_BY_INTENT[i] for i in reversed(intents) if i in _TYPE_BY_INTENT), CaseType.CONSULT
    )
    service = found.get("service_type", "")
    first = said[0] if said else ""
    draft = {
        "type": case_type.value,
        "title": (service + "：" if service else "") + first[:60],
        "description": "\n".join(said)[:2000],
        "contact_phone": await _phone(stack, conv, found.get("phone") or typed),
        "address": _address(found),
        "service_type": service,
        "time": found.get("time", ""),
        "entities": found,
    }
    return web.json_response({"draft": draft})


@requires(*SERVING)
async def open_case(request: web.Request, me: Caller) -> web.Response:
    stack = request.app[ROUTING]
    conv = await viewable(stack, me, request.match_info["cid"])
    serving = conv.agent == me.login or me.login in conv.participants
    if not serving and not me.has(Role.SUPERVISOR):
        raise refusal(403, "forbidden", "only the serving agent files a case from a conversation")
    body = await read_json(request)
    kind = text(body, "type", max_len=32)
    if kind not in {t.value for t in FROM_CHAT}:
        raise refusal(
            400, "bad_request", "type must be one of " + ", ".join(t.value for t in FROM_CHAT)
        )
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
    )
    case = await request.app[CASE_DESK].open(new, me.login)
    await stack.desk.note(me.login, conv.id, f"已创建工单 {case.number}")
    label = request.app[TAXONOMY][0].label(case.category[-1]) if case.category else ""
    return web.json_response({"case": case_json(case, label)}, status=201)


async def _phone(stack: RoutingStack, conv: Conversation, said: str | None) -> str:
    """The number the customer gave, else the one they called or texted from (national form)."""
    if said:
        try:
            return PhoneNumber.parse(said).national
        except InvalidPhoneNumber:
            pass
    customer = await stack.customers.get(conv.customer_id)
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
