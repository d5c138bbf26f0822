"""The ACD engine: puts waiting conversations in front of agents.

Decisions are made synchronously on in-memory state (queues, seats), so two decisions can
never pick the same conversation or overfill an agent: a conversation leaves its queue and
the agent's capacity is reserved before anything is awaited. The assignment is then recorded
through AssignmentLog (a version-checked database write); if that write loses a race, the
reservation is released. Dispatching is event-driven: it runs whenever a conversation
queues or an agent frees capacity, so waiting conversations are assigned at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Protocol

from primitives.clock import Clock
from routing.acd import Strategy
from routing.agents import Agent
from routing.config import QueueConfig, RoutingConfig
from routing.conversation_model import Media
from routing.dispatch_plan import plan_pass
from routing.events import (
    AgentStatusChanged,
    ConversationAssigned,
    ConversationUnassigned,
    EventBus,
    QueueChanged,
)
from routing.offers import OfferDesk
from routing.presence import AgentSeat, AgentStatus, Presence
from routing.queue_stats import QueueStats
from routing.timers import Scheduler
from routing.waiting import QueueEntry, WaitingQueue

log = logging.getLogger(__name__)


class AssignmentLog(Protocol):
    """Where assignment decisions are recorded (the conversations collection)."""

    async def assigned(self, entry: QueueEntry, agent: str) -> bool:
        """Record entry's conversation as assigned to agent. False if it stopped waiting."""
        ...

    async def requeued(self, entry: QueueEntry, reason: str) -> None:
        """Record that the conversation waits again (queue, priority, queued_at)."""
        ...


class Acd:
    def __init__(
        self,
        config: RoutingConfig,
        presence: Presence,
        clock: Clock,
        scheduler: Scheduler,
        record: AssignmentLog | None,
        bus: EventBus,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.presence = presence
        self.queues = {name: WaitingQueue(name, config.ageing_step_s) for name in config.queues}
        self.stats = QueueStats(config, presence)
        self._clock = clock
        self._timers = scheduler
        self._record: AssignmentLog = record or _Unbound()
        self._bus = bus
        self._rng = rng or random.Random()
        self.offers = OfferDesk(
            config,
            presence,
            clock,
            scheduler,
            bus,
            commit=self._commit,
            back_in_line=self._back_in_line,
        )
        self._serving: dict[str, QueueEntry] = {}
        self.queue_listeners: list[
            Callable[[str], None]
        ] = []  # called with a queue's name  # assigned conversations, to requeue them
        self._last_pick: dict[str, str] = {}
        self._dispatching = False
        self._again = False
        # Set when the hub shuts down: sockets closing then are a restart, not agents leaving.
        self.stopping = False
        self.signed_out_listeners: list[Callable[[str], Awaitable[None]]] = []

    def bind(self, record: AssignmentLog) -> None:
        """Where assignments are recorded (set once the router's desk exists)."""
        self._record: AssignmentLog = record or _Unbound()

    # ---------------------------------------------------------------- conversations

    async def enqueue(self, entry: QueueEntry, *, at_head: bool = False) -> None:
        """Put a conversation (already recorded as queued) in line and try to serve it."""
        self.queues[entry.queue].add(entry, at_head=at_head)
        self._schedule_overflow(entry)
        self._publish_queue(entry.queue)
        await self.dispatch()

    def restore(self, entries: list[QueueEntry]) -> None:
        """After a restart: put back waiting conversations (no dispatch until agents return)."""
        for entry in sorted(entries, key=lambda e: (e.queued_at, e.conversation_id)):
            self.queues[entry.queue].add(entry)
            self._schedule_overflow(entry)

    def withdraw(self, conversation_id: str, reason: str = "customer_left") -> QueueEntry | None:
        """Take a conversation out of line (closed, back to the bot, transferred away)."""
        self._timers.cancel(f"overflow:{conversation_id}")
        offer = self.offers.withdraw(conversation_id, reason)
        if offer is not None:
            return offer.entry
        for queue in self.queues.values():
            entry = queue.remove(conversation_id)
            if entry is not None:
                self._publish_queue(queue.name)
                return entry
        return None

    def waiting_entry(self, conversation_id: str) -> QueueEntry | None:
        offer = self.offers.get(conversation_id)
        if offer is not None:
            return offer.entry
        return next(
            (q.get(conversation_id) for q in self.queues.values() if conversation_id in q), None
        )

    def position(self, conversation_id: str) -> tuple[int, int]:
        """(1-based position, estimated wait in seconds); (0, 0) when offered or not waiting."""
        now = self._clock.now()
        for queue in self.queues.values():
            pos = queue.position(conversation_id, now)
            if pos:
                entry = queue.get(conversation_id)
                assert entry is not None
                return pos, self.stats.wait_estimate(queue.name, pos, entry.media)
        return 0, 0

    # ---------------------------------------------------------------- agents

    def register(self, agent: Agent) -> AgentSeat:
        return self.presence.register(agent)

    async def set_status(self, login: str, status: AgentStatus) -> AgentSeat:
        seat = self._seat(login)
        now = self._clock.now()
        if seat.status is AgentStatus.OFFLINE and status is not AgentStatus.OFFLINE:
            seat.signed_in_at = now
            seat.idle_since = seat.idle_since or now
            seat.connected = True
        seat.status = status
        if status is AgentStatus.READY:
            seat.consecutive_missed = 0
        else:
            self._timers.cancel(f"wrapup:{login}")
            for cid in self.offers.offered_to(login):
                await self.offers.drop_for(login, cid, "declined")
        self._bus.publish(AgentStatusChanged(now, login, status.value, seat.load))
        await self.dispatch()
        return seat

    async def connection_lost(self, login: str) -> None:
        """No new work now; after the grace period their conversations go back to the queue
        (not while the hub shuts down: the restart gives everyone a new grace period)."""
        seat = self._seat(login)
        seat.connected = False
        if self.stopping:
            return
        for cid in self.offers.offered_to(login):
            await self.offers.drop_for(login, cid, "declined")
        when = self._clock.now() + timedelta(seconds=self.config.disconnect_grace_s)
        self._timers.call_at(when, f"disconnect:{login}", lambda: self._disconnected(login))

    async def connection_restored(self, login: str) -> None:
        seat = self._seat(login)
        seat.connected = True
        self._timers.cancel(f"disconnect:{login}")
        await self.dispatch()

    async def _disconnected(self, login: str) -> None:
        seat = self._seat(login)
        if seat.connected:
            return
        for cid in sorted(seat.chats | seat.calls):
            await self.reclaim(login, cid, "disconnected")
        seat.status = AgentStatus.OFFLINE
        self._bus.publish(
            AgentStatusChanged(self._clock.now(), login, seat.status.value, seat.load)
        )
        for listener in self.signed_out_listeners:
            await listener(login)

    async def resume_status(self, login: str, status: AgentStatus) -> None:
        """After a restart: the agent's status from before it, not yet connected; they keep
        it (and their conversations) if they reconnect within the grace period."""
        seat = self._seat(login)
        now = self._clock.now()
        seat.status = status
        seat.signed_in_at = seat.signed_in_at or now
        seat.idle_since = seat.idle_since or now
        await self.connection_lost(login)

    def attach(self, login: str, entry: QueueEntry) -> None:
        """Count a conversation on an agent without dispatching (restore, take-over)."""
        seat = self._seat(login)
        (seat.calls if entry.media is Media.VOICE else seat.chats).add(entry.conversation_id)
        self._serving[entry.conversation_id] = entry

    async def release(
        self, login: str, conversation_id: str, *, handled_s: float | None = None
    ) -> None:
        """The conversation left the agent (closed or moved on): free the capacity."""
        seat = self.presence.seat(login)
        if seat is None or not seat.serves(conversation_id):
            return
        was_call = conversation_id in seat.calls
        self._serving.pop(conversation_id, None)
        seat.chats.discard(conversation_id)
        seat.calls.discard(conversation_id)
        now = self._clock.now()
        seat.idle_since = now
        if was_call and self.config.wrap_up_s > 0 and seat.status is AgentStatus.READY:
            seat.status = AgentStatus.WRAP_UP
            when = now + timedelta(seconds=self.config.wrap_up_s)
            self._timers.call_at(when, f"wrapup:{login}", lambda: self._end_wrap_up(login))
            self._bus.publish(AgentStatusChanged(now, login, seat.status.value, seat.load))
        await self.dispatch()

    async def _end_wrap_up(self, login: str) -> None:
        seat = self._seat(login)
        if seat.status is AgentStatus.WRAP_UP:
            await self.set_status(login, AgentStatus.READY)

    async def reclaim(self, login: str, conversation_id: str, reason: str) -> QueueEntry | None:
        """Take a conversation back from an agent and put it at the head of its queue."""
        seat = self._seat(login)
        entry = self._serving.pop(conversation_id, None)
        if entry is None or not seat.serves(conversation_id):
            return None
        seat.chats.discard(conversation_id)
        seat.calls.discard(conversation_id)
        entry.excluded.add(login)
        self._bus.publish(ConversationUnassigned(self._clock.now(), conversation_id, login, reason))
        await self._record.requeued(entry, reason)
        await self.enqueue(entry, at_head=True)
        return entry

    def serving_entry(self, conversation_id: str) -> QueueEntry | None:
        return self._serving.get(conversation_id)

    def detach(self, login: str, conversation_id: str) -> QueueEntry | None:
        """Stop counting a conversation on an agent without dispatching (transfer, take-over)."""
        seat = self._seat(login)
        seat.chats.discard(conversation_id)
        seat.calls.discard(conversation_id)
        return self._serving.pop(conversation_id, None)

    # ---------------------------------------------------------------- offers

    async def accept(self, login: str, conversation_id: str) -> bool:
        """An agent accepts an offer. False if it is gone (taken by another, timed out)."""
        return await self.offers.accept(login, conversation_id)

    async def decline(self, login: str, conversation_id: str) -> None:
        await self.offers.drop_for(login, conversation_id, "declined")

    async def pick(self, login: str, conversation_id: str) -> bool:
        """Manual selection from the shared list: the agent takes a waiting conversation."""
        seat = self._seat(login)
        entry = self.waiting_entry(conversation_id)
        if entry is None or conversation_id in self.offers:
            return False
        if not any(entry.accepts_skill(s) for s in seat.skills) or not seat.can_take(entry.media):
            return False
        self.queues[entry.queue].remove(conversation_id)
        self._timers.cancel(f"overflow:{conversation_id}")
        seat.offers[conversation_id] = entry.media
        ok = await self._commit(entry, seat)
        self._publish_queue(entry.queue)
        return ok

    async def _start(self, entry: QueueEntry, seats: list[AgentSeat]) -> None:
        cfg = self.config.queues[entry.queue]
        self._timers.cancel(f"overflow:{entry.conversation_id}")
        if cfg.auto_accept and len(seats) == 1:
            await self._commit(entry, seats[0])
            self._publish_queue(entry.queue)
            return
        self.offers.make(entry, seats, cfg.offer_timeout_s)
        self._publish_queue(entry.queue)

    async def _back_in_line(self, entry: QueueEntry) -> None:
        """An offer lapsed (declined by all, timed out): the entry waits again."""
        self.queues[entry.queue].add(entry)
        await self.dispatch()

    # ---------------------------------------------------------------- dispatch

    async def dispatch(self) -> None:
        """Assign every waiting conversation that has an eligible agent, best first."""
        if self._dispatching:
            self._again = True  # the running pass will loop once more
            return
        self._dispatching = True
        try:
            self._again = True
            while self._again:
                self._again = False
                plan = plan_pass(
                    self.queues,
                    self.config.queues,
                    self.presence,
                    self._clock.now(),
                    self._last_pick,
                    self._rng,
                )
                for planned in plan:
                    self.queues[planned.entry.queue].remove(planned.entry.conversation_id)
                for planned in plan:
                    await self._start(planned.entry, list(planned.seats))
        finally:
            self._dispatching = False

    async def _commit(self, entry: QueueEntry, seat: AgentSeat) -> bool:
        """Record the assignment; on success the reservation becomes a served conversation."""
        try:
            ok = await self._record.assigned(entry, seat.login)
        except Exception:
            seat.offers.pop(entry.conversation_id, None)
            self.queues[entry.queue].add(entry)
            raise
        seat.offers.pop(entry.conversation_id, None)
        if not ok:
            log.info(
                "acd.assign_lost",
                extra={"conversation": entry.conversation_id, "agent": seat.login},
            )
            return False
        (seat.calls if entry.media is Media.VOICE else seat.chats).add(entry.conversation_id)
        self._serving[entry.conversation_id] = entry
        seat.assigned_total += 1
        seat.consecutive_missed = 0
        self.stats.count_answer(entry, self._clock.now())
        self._bus.publish(
            ConversationAssigned(self._clock.now(), entry.conversation_id, seat.login, entry.queue)
        )
        return True

    # ---------------------------------------------------------------- overflow, stats

    def _schedule_overflow(self, entry: QueueEntry) -> None:
        cfg = self.config.queues[entry.queue]
        if cfg.overflow_after_s is None or (not cfg.overflow_queue and not cfg.widen_skills):
            return
        when = entry.queued_at + timedelta(seconds=cfg.overflow_after_s)
        when = max(when, self._clock.now())
        self._timers.call_at(
            when, f"overflow:{entry.conversation_id}", lambda: self._overflow(entry)
        )

    async def _overflow(self, entry: QueueEntry) -> None:
        queue = self.queues[entry.queue]
        if entry.conversation_id not in queue:
            return
        cfg = self.config.queues[entry.queue]
        if cfg.overflow_queue:
            queue.remove(entry.conversation_id)
            entry.queue = cfg.overflow_queue
            await self._record.requeued(entry, "overflow")
            self.queues[entry.queue].add(entry)
            self._schedule_overflow(entry)
            self._publish_queue(cfg.name)
            self._publish_queue(entry.queue)
        else:
            entry.skills = tuple(dict.fromkeys((*entry.skills, *cfg.widen_skills)))
        log.info(
            "acd.overflow", extra={"conversation": entry.conversation_id, "queue": entry.queue}
        )
        await self.dispatch()

    def learn_handle_time(self, queue: str, seconds: float) -> None:
        self.stats.learn_handle_time(queue, seconds)

    def _publish_queue(self, name: str) -> None:
        self._bus.publish(QueueChanged(self._clock.now(), name, len(self.queues[name])))
        for listener in self.queue_listeners:
            listener(name)

    # ------------------------------------------------------------ read by handlers
    def seat(self, login: str) -> AgentSeat | None:
        """The agent's seat (status, skills, conversations); None when not signed in."""
        return self.presence.seat(login)

    def seats(self) -> list[AgentSeat]:
        """Every seat, by login."""
        return sorted(self.presence.seats.values(), key=lambda s: s.login)

    def seats_with_skill(self, skill: str) -> list[AgentSeat]:
        return list(self.presence.with_skill(skill))

    def agents_online(self, queue: str) -> int:
        """Signed-in agents (any status but offline) who could serve queue: its own skill or
        one it widens to. Zero: no wait can honestly be promised."""
        cfg = self.config.queues.get(queue)
        skills = {queue, *(cfg.widen_skills if cfg else ())}
        return len(
            {
                s.login
                for skill in skills
                for s in self.presence.with_skill(skill)
                if s.status is not AgentStatus.OFFLINE
            }
        )

    def queue_config(self, name: str) -> QueueConfig | None:
        return self.config.queues.get(name)

    def queue_configs(self) -> dict[str, QueueConfig]:
        return dict(self.config.queues)

    def serves_queue(self, login: str, queue: str) -> bool:
        """The agent holds the queue's skill, or one it was widened to."""
        seat = self.presence.seat(login)
        cfg = self.config.queues.get(queue)
        if seat is None or cfg is None:
            return False
        return queue in seat.skills or any(s in seat.skills for s in cfg.widen_skills)

    def is_manual(self, queue: str) -> bool:
        """Agents pick the queue's conversations from the shared list (no offers)."""
        cfg = self.config.queues.get(queue)
        return cfg is not None and cfg.strategy is Strategy.MANUAL

    def waiting_in_order(self, queue: str, now: datetime) -> Iterator[QueueEntry]:
        """The queue's waiting entries in service order at now (lazily: do not await between
        steps if the order must hold)."""
        return self.queues[queue].ordered(now)

    def waiting_entries(self, queue: str) -> list[QueueEntry]:
        """The queue's waiting entries (offered ones excluded), in no particular order."""
        return list(self.queues[queue])

    def waiting_count(self, queue: str) -> int:
        return len(self.queues[queue])

    def answered_count(self, queue: str) -> int:
        """Conversations of the queue answered since the start."""
        return self.stats.answered.get(queue, 0)

    def service_level(self, queue: str) -> float | None:
        """Share answered within the queue's service level; None before the first answer."""
        return self.stats.service_level(queue)

    def longest_answered_wait_s(self) -> float:
        """The longest any answered conversation waited, every queue, since the start."""
        return self.stats.longest_answered_wait_s

    def _seat(self, login: str) -> AgentSeat:
        return self.presence.registered(login)


class _Unbound:
    async def assigned(self, entry: QueueEntry, agent: str) -> bool:
        raise RuntimeError("Acd.bind() was not called")

    async def requeued(self, entry: QueueEntry, reason: str) -> None:
        raise RuntimeError("Acd.bind() was not called")
