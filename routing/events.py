"""Events the routing layer publishes (for the inbox, supervisors, channels) and the bus.

The bus is an interface: this in-process implementation fans events out to subscriber
queues; a multi-instance deployment can back the same interface with Redis pub/sub or
MongoDB change streams without touching publishers or subscribers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime


@dataclass(frozen=True, slots=True)
class ConversationQueued(Event):
    conversation_id: str
    queue: str
    priority: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConversationOffered(Event):
    conversation_id: str
    queue: str
    agents: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OfferWithdrawn(Event):
    conversation_id: str
    agents: tuple[str, ...]
    reason: str  # accepted_by_other, timeout, declined, customer_left


@dataclass(frozen=True, slots=True)
class ConversationAssigned(Event):
    conversation_id: str
    agent: str
    queue: str


@dataclass(frozen=True, slots=True)
class ConversationUnassigned(Event):
    conversation_id: str
    agent: str
    reason: str  # transferred, disconnected, no_reply, handed_to_bot, taken_over


@dataclass(frozen=True, slots=True)
class ConversationClosed(Event):
    conversation_id: str
    agent: str | None


@dataclass(frozen=True, slots=True)
class MessageAdded(Event):
    conversation_id: str
    message_id: str
    sender: str  # customer, bot, agent, system
    sender_id: str
    text: str
    internal: bool = False  # notes and whispers: agents only
    agents: tuple[str, ...] = ()  # who should see it live (assigned agent, participants)


@dataclass(frozen=True, slots=True)
class MessageNotDelivered(Event):
    """A message to the citizen failed for good; reason is for the agent (zh-CN)."""

    conversation_id: str
    message_id: str
    reason: str
    agents: tuple[str, ...] = ()  # who should see it live (assigned agent, participants)


@dataclass(frozen=True, slots=True)
class QueuePosition(Event):
    conversation_id: str
    position: int
    wait_estimate_s: int


@dataclass(frozen=True, slots=True)
class AgentStatusChanged(Event):
    agent: str
    status: str
    load: int


@dataclass(frozen=True, slots=True)
class SupervisorAlert(Event):
    kind: str  # emergency, help_requested, sla_breach
    conversation_id: str
    text: str
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class CaseAlertRaised(Event):
    """A case deadline near or gone (cases/reminders.py): for supervisors, the agent who filed
    it and the staff of its department."""

    kind: str  # due_soon, overdue, sign_off_late, supervise_due, todo_due
    label: str  # zh-CN
    case_number: str
    title: str
    created_by: str = ""
    department: str | None = None


@dataclass(frozen=True, slots=True)
class QueueChanged(Event):
    queue: str
    waiting: int


class EventBus(Protocol):
    def publish(self, event: Event) -> None: ...

    def subscribe(self, accept: Callable[[Event], bool] | None = None) -> Subscription: ...


@dataclass(eq=False)
class Subscription:
    """An async iterator of events; close() (or leaving `async with`) unsubscribes."""

    bus: InProcessEventBus
    accept: Callable[[Event], bool] | None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))
    dropped: int = 0

    def offer(self, event: Event) -> None:
        if self.accept is not None and not self.accept(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1  # a stuck subscriber must not block routing

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self.bus._subscribers.discard(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class InProcessEventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def publish(self, event: Event) -> None:
        for sub in list(self._subscribers):
            sub.offer(event)

    def subscribe(self, accept: Callable[[Event], bool] | None = None) -> Subscription:
        sub = Subscription(self, accept)
        self._subscribers.add(sub)
        return sub
