"""The bot/human decision for one customer turn. Pure: the router applies it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing import replies
from routing.bot import BotAnswer, KbDecision
from routing.config import EscalationPolicy
from routing.conversation_model import Priority
from routing.customers import Customer

SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
# Feedback on the service (给你点个赞, 建议你们…): acknowledged, never read as a question about
# the last topic, and not a turn the bot failed to understand
FEEDBACK = frozenset(replies.FEEDBACK)
_SERVICE_TYPE_QUEUE = "domestic_service"


class Action(StrEnum):
    REPLY = "reply"
    ESCALATE = "escalate"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str = ""
    queue: str | None = None
    priority: int = Priority.NORMAL
    unsure: bool = False  # this turn counts toward the low-confidence streak

    @property
    def emergency(self) -> bool:
        return self.priority >= Priority.EMERGENCY


def decide(
    answer: BotAnswer, customer: Customer, unsure_streak: int, policy: EscalationPolicy
) -> Decision:
    """Escalate on an escalation intent, an emergency, tagged customers, or the second unsure
    turn in a row; otherwise let the bot reply."""
    tagged = bool(policy.tags & customer.tags)
    base = Priority.ELDERLY_OR_VIP if tagged else Priority.NORMAL
    if answer.intent in policy.emergency_intents:
        return Decision(Action.ESCALATE, "emergency", policy.emergency_queue, Priority.EMERGENCY)
    trusted = answer.confidence >= policy.intent_confidence
    if answer.intent in policy.intents and trusted:
        return Decision(Action.ESCALATE, answer.intent, choose_queue(answer, policy), base)
    if tagged:
        reason = "elderly" if "elderly" in customer.tags else "vip"
        return Decision(Action.ESCALATE, reason, choose_queue(answer, policy), base)
    # A clarify offers the citizen choices: only "nothing fits" counts toward handing over;
    # and a request the bot is sure is out of scope (明天会不会下雨) is understood, not unsure:
    # a person cannot answer it better
    understood = trusted and (answer.intent == "out_of_scope" or answer.intent in FEEDBACK)
    unsure = (
        answer.decision is KbDecision.NONE and answer.intent not in SMALL_TALK and not understood
    )
    if unsure and unsure_streak + 1 >= policy.low_confidence_turns:
        return Decision(
            Action.ESCALATE, "bot_unsure", choose_queue(answer, policy), base, unsure=True
        )
    return Decision(Action.REPLY, unsure=unsure)


def choose_queue(answer: BotAnswer, policy: EscalationPolicy) -> str:
    """Intent first (complaint → complaint queue), then the KB category, then entities."""
    if answer.intent in policy.intent_queues:
        return policy.intent_queues[answer.intent]
    if answer.kb_category and answer.kb_category in policy.category_queues:
        return policy.category_queues[answer.kb_category]
    if answer.entity("service_type") and _SERVICE_TYPE_QUEUE in policy.intent_queues.values():
        return _SERVICE_TYPE_QUEUE
    return policy.default_queue
