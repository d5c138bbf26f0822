"""Which routing events one staff member's socket receives, and their JSON.

An agent sees what concerns them: offers made to them, their assignments, messages of the
conversations they serve or watch, the queues they serve, their own status, alerts naming
them. Supervisors also see every assignment, status, queue change and alert (the board),
and the messages of the one conversation they monitor. accepts() runs inside publish(), on
the routing hot path, so it only reads memory.
"""

from __future__ import annotations

from typing import Any

from agent_web.views import iso
from routing.agents import Agent, Role
from routing.assignment import Acd
from routing.events import (
    AgentStatusChanged,
    CaseAlertRaised,
    ConversationAssigned,
    ConversationClosed,
    ConversationOffered,
    ConversationQueued,
    ConversationUnassigned,
    Event,
    MessageAdded,
    MessageNotDelivered,
    OfferWithdrawn,
    QueueChanged,
    SupervisorAlert,
)

BOT_ACTOR = "bot"  # cases the bot files (routing/pending_dialogs.py)


class EventFeed:
    def __init__(self, agent: Agent, acd: Acd) -> None:
        self.login = agent.login
        self.supervisor = agent.has_role(Role.SUPERVISOR)
        self.is_agent = agent.has_role(Role.AGENT)
        self.department = agent.department if Role.DEPARTMENT in agent.roles else None
        self.watching: str | None = None  # one conversation followed live (monitor, preview)
        self._acd = acd

    def accepts(self, event: Event) -> bool:
        me = self.login
        if isinstance(event, MessageAdded | MessageNotDelivered):
            return me in event.agents or event.conversation_id == self.watching
        if isinstance(event, ConversationOffered | OfferWithdrawn):
            return me in event.agents or self.supervisor
        if isinstance(event, ConversationAssigned | ConversationUnassigned | ConversationClosed):
            return event.agent == me or self.supervisor or event.conversation_id == self.watching
        if isinstance(event, AgentStatusChanged):
            return event.agent == me or self.supervisor
        if isinstance(event, SupervisorAlert):  # not an agent's own call for help
            return self.supervisor or (event.agent == me and event.kind != "help_requested")
        if isinstance(event, ConversationQueued | QueueChanged):
            return self.supervisor or self._acd.serves_queue(self.login, event.queue)
        if isinstance(event, CaseAlertRaised):
            if event.kind == "todo_due":  # a callback to make: the agent's own worklist
                if event.created_by == BOT_ACTOR:  # booked by the bot: every agent and supervisor
                    return self.is_agent or self.supervisor
                return event.created_by == me
            return (
                self.supervisor
                or event.created_by == me
                or (self.department is not None and event.department == self.department)
            )
        return False

    def to_json(self, event: Event) -> dict[str, Any]:
        me = self.login
        at = iso(event.at)
        if isinstance(event, MessageAdded):
            return {
                "type": "message",
                "at": at,
                "conversation_id": event.conversation_id,
                "message": {
                    "id": event.message_id,
                    "conversation_id": event.conversation_id,
                    "sender": event.sender,
                    "sender_id": "" if event.sender == "customer" else event.sender_id,
                    "text": event.text,
                    "internal": event.internal,
                    "created_at": at,
                },
            }
        if isinstance(event, MessageNotDelivered):
            return {
                "type": "delivery_failed",
                "at": at,
                "conversation_id": event.conversation_id,
                "message_id": event.message_id,
                "reason": event.reason,
            }
        if isinstance(event, ConversationOffered):
            ttl = max(0, round((event.expires_at - event.at).total_seconds()))
            return {
                "type": "offer",
                "at": at,
                "conversation_id": event.conversation_id,
                "queue": event.queue,
                "expires_at": iso(event.expires_at),
                "ttl_s": ttl,
                "mine": me in event.agents,
            }
        if isinstance(event, OfferWithdrawn):
            return {
                "type": "offer_withdrawn",
                "at": at,
                "conversation_id": event.conversation_id,
                "reason": event.reason,
                "mine": me in event.agents,
            }
        if isinstance(event, ConversationAssigned):
            return {
                "type": "assigned",
                "at": at,
                "conversation_id": event.conversation_id,
                "agent": event.agent,
                "queue": event.queue,
                "mine": event.agent == me,
            }
        if isinstance(event, ConversationUnassigned):
            return {
                "type": "unassigned",
                "at": at,
                "conversation_id": event.conversation_id,
                "agent": event.agent,
                "reason": event.reason,
                "mine": event.agent == me,
            }
        if isinstance(event, ConversationClosed):
            return {
                "type": "closed",
                "at": at,
                "conversation_id": event.conversation_id,
                "agent": event.agent,
                "mine": event.agent == me,
            }
        if isinstance(event, AgentStatusChanged):
            return {
                "type": "status",
                "at": at,
                "agent": event.agent,
                "status": event.status,
                "load": event.load,
                "mine": event.agent == me,
            }
        if isinstance(event, SupervisorAlert):
            return {
                "type": "alert",
                "at": at,
                "kind": event.kind,
                "conversation_id": event.conversation_id,
                "text": event.text,
                "agent": event.agent,
            }
        if isinstance(event, CaseAlertRaised):
            return {
                "type": "case_alert",
                "at": at,
                "kind": event.kind,
                "label": event.label,
                "case": event.case_number,
                "title": event.title,
            }
        if isinstance(event, ConversationQueued):
            return {
                "type": "queued",
                "at": at,
                "conversation_id": event.conversation_id,
                "queue": event.queue,
                "priority": event.priority,
                "reason": event.reason,
            }
        if isinstance(event, QueueChanged):
            return {"type": "queue", "at": at, "queue": event.queue, "waiting": event.waiting}
        raise ValueError(f"no JSON for {type(event).__name__}")
