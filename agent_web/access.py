"""Which conversations a staff member may read (roles decide what they may do: auth.py)."""

from __future__ import annotations

from agent_web.auth import Caller, refusal
from hub.routing_stack import RoutingStack
from routing.acd import Strategy
from routing.agents import Role
from routing.conversation_model import WAITING, Conversation


async def may_view(stack: RoutingStack, caller: Caller, conv: Conversation) -> bool:
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
    seat = stack.acd.presence.seat(login)
    if seat is None:
        return False
    if conv.id in seat.offers:
        return True
    if conv.state in WAITING and conv.queue and serves_queue(stack, login, conv.queue):
        return True
    for cid in seat.chats | seat.calls | set(seat.offers):
        served = await stack.router.book.get(cid)
        if served.customer_id == conv.customer_id:
            return True
    return False


async def viewable(stack: RoutingStack, caller: Caller, conversation_id: str) -> Conversation:
    """The conversation, if caller may read it; 403 otherwise (404 if it does not exist)."""
    conv = await stack.router.book.get(conversation_id)  # ConversationNotFound -> 404
    if not await may_view(stack, caller, conv):
        raise refusal(403, "forbidden", f"{caller.login} may not read this conversation")
    return conv


def serves_queue(stack: RoutingStack, login: str, queue: str) -> bool:
    """The agent holds the queue's skill, or one it was widened to."""
    seat = stack.acd.presence.seat(login)
    cfg = stack.acd.config.queues.get(queue)
    if seat is None or cfg is None:
        return False
    return queue in seat.skills or any(s in seat.skills for s in cfg.widen_skills)


def is_manual(stack: RoutingStack, queue: str) -> bool:
    cfg = stack.acd.config.queues.get(queue)
    return cfg is not None and cfg.strategy is Strategy.MANUAL
