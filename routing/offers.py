"""Offers: a conversation put to one agent (or to several, ring-all) to accept in time.

Mixed into Acd; it uses the ACD's queues, seats, timers and bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from routing.events import AgentStatusChanged, ConversationOffered, OfferWithdrawn
from routing.presence import AgentSeat, AgentStatus
from routing.waiting import QueueEntry

if TYPE_CHECKING:
    from routing.assignment import Acd


@dataclass(slots=True, eq=False)
class Offer:
    entry: QueueEntry
    agents: set[str]
    expires_at: datetime


class OfferDesk:
    async def accept(self: Acd, login: str, conversation_id: str) -> bool:
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

    async def decline(self: Acd, login: str, conversation_id: str) -> None:
        await self._drop_offer_for(login, conversation_id, "declined")

    async def pick(self: Acd, login: str, conversation_id: str) -> bool:
        """Manual selection from the shared list: the agent takes a waiting conversation."""
        seat = self._seat(login)
        entry = self.waiting_entry(conversation_id)
        if entry is None or conversation_id in self._offers:
            return False
        if not any(entry.accepts_skill(s) for s in seat.skills) or not seat.can_take(entry.media):
            return False
        self.queues[entry.queue].remove(conversation_id)
        self._timers.cancel(f"overflow:{conversation_id}")
        seat.offers[conversation_id] = entry.media
        ok = await self._commit(entry, seat)
        self._publish_queue(entry.queue)
        return ok

    async def _drop_offer_for(self: Acd, login: str, conversation_id: str, reason: str) -> None:
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
            self.queues[offer.entry.queue].add(offer.entry)
            await self.dispatch()

    async def _offer_expired(self: Acd, conversation_id: str) -> None:
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
            if seat.consecutive_missed >= self.config.autopause_after_missed:
                seat.status = AgentStatus.AWAY  # app_queue autopause: stop ringing an absent agent
                self._bus.publish(AgentStatusChanged(now, login, seat.status.value, seat.load))
        self._bus.publish(
            OfferWithdrawn(now, conversation_id, tuple(sorted(offer.agents)), "timeout")
        )
        self.queues[offer.entry.queue].add(offer.entry)
        await self.dispatch()

    def _withdraw_offer(self: Acd, offer: Offer, reason: str) -> None:
        self._timers.cancel(f"offer:{offer.entry.conversation_id}")
        for login in offer.agents:
            self._seat(login).offers.pop(offer.entry.conversation_id, None)
        self._bus.publish(
            OfferWithdrawn(
                self._clock.now(), offer.entry.conversation_id, tuple(sorted(offer.agents)), reason
            )
        )

    async def _start(self: Acd, entry: QueueEntry, seats: list[AgentSeat]) -> None:
        cfg = self.config.queues[entry.queue]
        self._timers.cancel(f"overflow:{entry.conversation_id}")
        if cfg.auto_accept and len(seats) == 1:
            await self._commit(entry, seats[0])
            self._publish_queue(entry.queue)
            return
        expires = self._clock.now() + timedelta(seconds=cfg.offer_timeout_s)
        offer = Offer(entry, {s.login for s in seats}, expires)
        self._offers[entry.conversation_id] = offer
        self._timers.call_at(
            expires,
            f"offer:{entry.conversation_id}",
            lambda: self._offer_expired(entry.conversation_id),
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
        self._publish_queue(entry.queue)
