"""The screen pop: who the customer is, before the agent says a word.

GET /api/v1/agent/conversations/{cid}/context
  → {"customer", "conversations" (earlier, every channel), "cases", "understood", "can_edit_tags"}
"understood" lists what the bot made of each customer message (intent, confidence, entities),
newest last, and "entities" merges them (later values win).
"""

from __future__ import annotations

from aiohttp import web

from agent_web.access import viewable
from agent_web.auth import Caller, requires
from agent_web.inbox_api import SERVING
from agent_web.keys import ACD, CASES, CONVERSATIONS, CUSTOMERS, MESSAGES, ROUTER, TAXONOMY
from agent_web.views import case_json, conversation_json, customer_json, transcript_json
from cases.errors import UnknownCategory
from cases.model import Case
from cases.taxonomy import Taxonomy
from routing.agents import Role
from routing.errors import CustomerNotFound

HISTORY = 20


@requires(*SERVING)
async def context(request: web.Request, me: Caller) -> web.Response:
    conv = await viewable(request.app[ROUTER], request.app[ACD], me, request.match_info["cid"])
    try:
        customer = customer_json(await request.app[CUSTOMERS].get(conv.customer_id))
    except CustomerNotFound:
        customer = {"id": conv.customer_id, "name": "", "tags": [], "identities": []}
    earlier = [
        conversation_json(c)
        for c in await request.app[CONVERSATIONS].for_customer(conv.customer_id, limit=HISTORY + 1)
        if c.id != conv.id
    ][:HISTORY]
    taxonomy = request.app[TAXONOMY][0]
    cases = await request.app[CASES].find_for_customer(conv.customer_id, limit=HISTORY)
    messages = await request.app[MESSAGES].list_for_conversation(conv.id, limit=500)
    transcript = transcript_json(messages)
    understood = [
        {"message_id": m["id"], "text": m["text"][:200], **m["nlu"]}
        for m in transcript
        if "nlu" in m
    ]
    merged: dict[str, str] = {}
    for turn in understood:
        merged.update(turn["entities"])
    return web.json_response(
        {
            "conversation_id": conv.id,
            "escalation_reason": conv.escalation_reason,
            "customer": customer,
            "conversations": earlier,
            "cases": [case_json(c, _label(taxonomy, c)) for c in cases],
            "understood": understood,
            "entities": merged,
            "can_edit_tags": me.has(Role.SUPERVISOR),
        }
    )


def _label(taxonomy: Taxonomy, case: Case) -> str:
    if not case.category:
        return ""
    try:
        return taxonomy.label(case.category[-1])
    except UnknownCategory:  # the taxonomy was edited since
        return "/".join(case.category)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/conversations/{cid}/context", context)
