"""Offers: a conversation put to one agent (or to several, ring-all) to accept in time.

The ACD makes offers through the OfferDesk it owns. The desk keeps the open offers, their
deadlines and the offered agents' seats in step; it knows nothing else of the ACD: it hands
an accepted offer's entry to `commit` (record the assignment) and a lapsed one's to
`back_in_line` (the entry waits in its queue again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from primitives.clock import Clock
from routing.config import RoutingConfig
from routing.events import AgentStatusChanged, ConversationOffered, EventBus, OfferWithdrawn
from routing.presence import AgentSeat, AgentStatus, Presence
from routing.timers import Scheduler
from routing.waiting import QueueEntry

# The agent accepted: record the assignment; False when it lost a race.
Commit = Callable[[QueueEntry, AgentSeat], Awaitable[bool]]
# Nobody took the offer: the entry waits in its queue again (and dispatching runs).
BackInLine = Callable[[QueueEntry], Awaitable[None]]


@dataclass(slots=True, eq=False)
class Offer:
    entry: QueueEntry
    agents: set[str]
    expires_at: datetime


class OfferDesk:
    def __init__(
        self,
        config: RoutingConfig,
        presence: Presence,
        clock: Clock,
        scheduler: Scheduler,
        bus: EventBus,
        *,
        commit: Commit,
        back_in_line: BackInLine,
    ) -> None:
        self._config = config
        self._presence = presence
        self._clock = clock
        self._timers = scheduler
        self._bus = bus
        self._commit = commit
        self._back_in_line = back_in_line
        self._offers: dict[str, Offer] = {}

    # ---------------------------------------------------------------- reads

    def get(self, conversation_id: str) -> Offer | None:
        return self._offers.get(conversation_id)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._offers

    def open(self) -> dict[str, Offer]:
        """Every open offer by conversation (a copy)."""
        return dict(self._offers)

    def offered_to(self, login: str) -> list[str]:
        """The conversations currently offered to login."""
        return [c for c, o in self._offers.items() if login in o.agents]

    # ---------------------------------------------------------------- changes

    def make(self, entry: QueueEntry, seats: list[AgentSeat], timeout_s: float) -> None:
        """Offer entry to seats (already reserved by the dispatch plan) until timeout_s."""
        expires = self._clock.now() + timedelta(seconds=timeout_s)
        offer = Offer(entry, {s.login for s in seats}, expires)
        self._offers[entry.conversation_id] = offer
        self._timers.call_at(
            expires,
            f"offer:{entry.conversation_id}",
            lambda: self._expired(entry.conversation_id),
        )
        self._bus.publish(
            ConversationOffered(
                self._clock.now(),
                entry.conversation_id,
                entry.queue,
                tuple(sorted(offer.agents)),
                expires,
            )
        )

    async def accept(self, login: str, conversation_id: str) -> bool:
        """An agent accepts an offer. False if it is gone (taken by another, timed out)."""
        offer = self._offers.get(conversation_id)
        if offer is None or login not in offer.agents:
            return False
        del self._offers[conversation_id]
        self._timers.cancel(f"offer:{conversation_id}")
        others = tuple(sorted(offer.agents - {login}))
        for other in others:
            self._seat(other).offers.pop(conversation_id, None)
        if others:
            self._bus.publish(
                OfferWithdrawn(self._clock.now(), conversation_id, others, "accepted_by_other")
            )
        return await self._commit(offer.entry, self._seat(login))

    async def drop_for(self, login: str, conversation_id: str, reason: str) -> None:
        """login no longer gets this offer (declined, away, disconnected)."""
        offer = self._offers.get(conversation_id)
        if offer is None or login not in offer.agents:
            return
        offer.agents.discard(login)
        self._seat(login).offers.pop(conversation_id, None)
        offer.entry.excluded.add(login)
        self._bus.publish(OfferWithdrawn(self._clock.now(), conversation_id, (login,), reason))
        if not offer.agents:
            del self._offers[conversation_id]
            self._timers.cancel(f"offer:{conversation_id}")
            await self._back_in_line(offer.entry)

    def withdraw(self, conversation_id: str, reason: str) -> Offer | None:
        """Take the offer back from every agent (the conversation left the line)."""
        offer = self._offers.pop(conversation_id, None)
        if offer is None:
            return None
        self._timers.cancel(f"offer:{offer.entry.conversation_id}")
        for login in offer.agents:
            self._seat(login).offers.pop(offer.entry.conversation_id, None)
        self._bus.publish(
            OfferWithdrawn(
                self._clock.now(), offer.entry.conversation_id, tuple(sorted(offer.agents)), reason
            )
        )
        return offer

    async def _expired(self, conversation_id: str) -> None:
        offer = self._offers.pop(conversation_id, None)
        if offer is None:
            return
        now = self._clock.now()
        for login in sorted(offer.agents):
            seat = self._seat(login)
            seat.offers.pop(conversation_id, None)
            seat.missed_offers += 1
            seat.consecutive_missed += 1
            offer.entry.excluded.add(login)
            if seat.consecutive_missed >= self._config.autopause_after_missed:
                seat.status = AgentStatus.AWAY  # app_queue autopause: stop ringing an absent agent
                self._bus.publish(AgentStatusChanged(now, login, seat.status.value, seat.load))
        self._bus.publish(
            OfferWithdrawn(now, conversation_id, tuple(sorted(offer.agents)), "timeout")
        )
        await self._back_in_line(offer.entry)

    def _seat(self, login: str) -> AgentSeat:
        return self._presence.registered(login)
