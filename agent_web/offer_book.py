"""When each open offer expires, for agents who reload the inbox mid-countdown.

The ACD keeps its offers private and announces them on the bus; this book keeps what the
announcements say. It must see every event in publishing order, without a task that could
lag behind an HTTP request, so it watches through the subscription's accept hook, which the
bus calls synchronously in publish(), and keeps nothing queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.events import (
    ConversationAssigned,
    ConversationClosed,
    ConversationOffered,
    Event,
    EventBus,
    OfferWithdrawn,
    Subscription,
)


@dataclass(slots=True)
class OpenOffer:
    conversation_id: str
    queue: str
    agents: set[str]
    expires_at: datetime


class OfferBook:
    def __init__(self) -> None:
        self._offers: dict[str, OpenOffer] = {}
        self._subscription: Subscription | None = None

    def watch(self, bus: EventBus) -> None:
        self._subscription = bus.subscribe(self._see)

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    def get(self, conversation_id: str) -> OpenOffer | None:
        return self._offers.get(conversation_id)

    def count_in_queue(self, queue: str) -> int:
        return sum(1 for o in self._offers.values() if o.queue == queue)

    def _see(self, event: Event) -> bool:
        if isinstance(event, ConversationOffered):
            self._offers[event.conversation_id] = OpenOffer(
                event.conversation_id, event.queue, set(event.agents), event.expires_at
            )
        elif isinstance(event, OfferWithdrawn):
            offer = self._offers.get(event.conversation_id)
            if offer is not None:
                offer.agents.difference_update(event.agents)
                if not offer.agents:
                    del self._offers[event.conversation_id]
        elif isinstance(event, ConversationAssigned | ConversationClosed):
            self._offers.pop(event.conversation_id, None)
        return False  # nothing to queue: this subscriber only watches
