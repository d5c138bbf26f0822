"""Conversations: one customer's exchange with the hub, from the bot to an agent and closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Protocol

from routing.dialogue_state import DialogueState


class ConversationState(StrEnum):
    BOT = "bot"  # the bot is answering
    QUEUED = "queued"  # waiting in a skills queue
    OFFERED = "offered"  # offered to an agent, waiting for accept
    ASSIGNED = "assigned"  # an agent is serving
    WRAP_UP = "wrap_up"  # the agent finished talking and is writing notes
    CLOSED = "closed"


WAITING = frozenset({ConversationState.QUEUED, ConversationState.OFFERED})
WITH_AGENT = frozenset({ConversationState.ASSIGNED, ConversationState.WRAP_UP})


class Media(StrEnum):
    CHAT = "chat"
    VOICE = "voice"


class Priority(IntEnum):
    NORMAL = 0
    ELDERLY_OR_VIP = 50
    EMERGENCY = 1000


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    customer_id: str
    channel: str  # the channel it started on
    media: Media
    state: ConversationState
    created_at: datetime
    updated_at: datetime
    version: int = 1
    queue: str | None = None
    priority: int = Priority.NORMAL
    queued_at: datetime | None = None  # first time it queued: keeps its place on requeue
    agent: str | None = None
    participants: tuple[str, ...] = ()  # invited experts (three-way)
    escalation_reason: str = ""
    closed_at: datetime | None = None
    wrap_up_code: str = ""
    last_channel: str = ""
    account: str = ""  # channel account to answer through (official account, short code …)
    reply_to: str = ""  # channel address of the customer (openid, phone, chat id, visitor id)
    rating: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    pending: str = ""  # a small dialog the bot is in: after_hours, leave_message, callback_phone
    dialogue: DialogueState = field(default_factory=DialogueState)  # topic, slots, intake

    @property
    def is_open(self) -> bool:
        return self.state is not ConversationState.CLOSED


class ConversationRepository(Protocol):
    async def add(self, conversation: Conversation) -> None: ...

    async def get(self, conversation_id: str) -> Conversation:
        """Raises ConversationNotFound."""
        ...

    async def latest_for_customer(self, customer_id: str) -> Conversation | None: ...

    async def for_customer(self, customer_id: str, *, limit: int = 20) -> list[Conversation]: ...

    async def save(self, conversation: Conversation) -> None: ...

    async def assign_if_waiting(
        self, conversation_id: str, agent: str, at: datetime
    ) -> Conversation | None:
        """Atomically assign a waiting conversation; None if it is no longer waiting."""
        ...

    async def in_states(self, states: frozenset[ConversationState]) -> list[Conversation]: ...
