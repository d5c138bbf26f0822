"""Fakes for routing tests: an assignment log in memory and a ready-made ACD rig."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from primitives.clock import FixedClock
from routing.acd import Strategy
from routing.agents import Agent, Role
from routing.assignment import Acd
from routing.config import QueueConfig, RoutingConfig
from routing.conversation_model import Media
from routing.events import Event, InProcessEventBus
from routing.presence import AgentStatus, Presence
from routing.timers import ManualScheduler
from routing.waiting import QueueEntry


@dataclass
class MemoryAssignmentLog:
    """Records like the conversations collection would: one owner per conversation."""

    owners: dict[str, str] = field(default_factory=dict)
    assignments: list[tuple[str, str]] = field(default_factory=list)
    requeues: list[tuple[str, str]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)  # conversations that stopped waiting

    async def assigned(self, entry: QueueEntry, agent: str) -> bool:
        if entry.conversation_id in self.gone:
            return False
        self.owners[entry.conversation_id] = agent
        self.assignments.append((entry.conversation_id, agent))
        return True

    async def requeued(self, entry: QueueEntry, reason: str) -> None:
        self.owners.pop(entry.conversation_id, None)
        self.requeues.append((entry.conversation_id, reason))


@dataclass
class AcdRig:
    acd: Acd
    clock: FixedClock
    timers: ManualScheduler
    record: MemoryAssignmentLog
    bus: InProcessEventBus
    events: list[Event]

    async def agent(
        self,
        login: str,
        skills: dict[str, int],
        max_chats: int = 2,
        status: AgentStatus = AgentStatus.READY,
    ) -> None:
        self.acd.register(Agent(login, login, frozenset({Role.AGENT}), skills, max_chats))
        await self.acd.set_status(login, status)

    async def wait(
        self, cid: str, queue: str = "general", priority: int = 0, media: Media = Media.CHAT
    ) -> QueueEntry:
        entry = QueueEntry(cid, queue, priority, self.clock.now(), media=media)
        await self.acd.enqueue(entry)
        return entry

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer due on the way, in order."""
        target = self.clock.now() + timedelta(seconds=seconds)
        while (due := self.timers.next_due()) is not None and due <= target:
            self.clock.set(max(due, self.clock.now()))
            await self.timers.run_due()
        self.clock.set(target)
        await self.timers.run_due()

    def owner(self, cid: str) -> str | None:
        return self.record.owners.get(cid)


def make_rig(queues: list[QueueConfig] | None = None, seed: int = 7, **timers: float) -> AcdRig:
    clock = FixedClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    scheduler = ManualScheduler(clock)
    record = MemoryAssignmentLog()
    bus = InProcessEventBus()
    events: list[Event] = []
    sub = bus.subscribe()
    sub.offer = events.append  # type: ignore[method-assign]  # collect synchronously
    qs = queues or [QueueConfig("general", "综合", Strategy.LEAST_RECENT)]
    config = RoutingConfig(queues={q.name: q for q in qs}, **timers)  # type: ignore[arg-type]
    acd = Acd(config, Presence(), clock, scheduler, record, bus, random.Random(seed))
    return AcdRig(acd, clock, scheduler, record, bus, events)
