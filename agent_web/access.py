"""Which conversations a staff member may read (roles decide what they may do: auth.py)."""

from __future__ import annotations

from agent_web.auth import Caller, refusal
from routing.agents import Role
from routing.assignment import Acd
from routing.conversation_model import WAITING, Conversation
from routing.router import Router


async def may_view(router: Router, acd: Acd, caller: Caller, conv: Conversation) -> bool:
    """Supervisors read everything. An agent reads what they serve or were invited to, what
    is offered to them or waits in a queue they serve, and the earlier conversations of a
    customer they are serving now (the screen pop's history)."""
    if caller.has(Role.SUPERVISOR):
        return True
    if not caller.has(Role.AGENT):
        return False
    login = caller.login
    if conv.agent == login or login in conv.participants:
        return True
    seat = acd.seat(login)
    if seat is None:
        return False
    if conv.id in seat.offers:
        return True
    if conv.state in WAITING and conv.queue and acd.serves_queue(login, conv.queue):
        return True
    for cid in seat.chats | seat.calls | set(seat.offers):
        served = await router.conversation(cid)
        if served.customer_id == conv.customer_id:
            return True
    return False


async def viewable(router: Router, acd: Acd, caller: Caller, conversation_id: str) -> Conversation:
    """The conversation, if caller may read it; 403 otherwise (404 if it does not exist)."""
    conv = await router.conversation(conversation_id)  # ConversationNotFound -> 404
    if not await may_view(router, acd, caller, conv):
        raise refusal(403, "forbidden", f"{caller.login} may not read this conversation")
    return conv
