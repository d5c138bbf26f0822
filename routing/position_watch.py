"""Waiting customers hear their new place in line when it changes.

Queue changes arrive in bursts (an agent frees up, several arrive at once), so changes are
coalesced per queue for debounce_s, then positions are recomputed once and a QueuePosition
event is published for each conversation whose place changed. Channels that can push
(web chat, the voice IVR) turn those events into updates; nothing is written to the database.
"""

from __future__ import annotations

from datetime import timedelta

from primitives.clock import Clock
from routing.assignment import Acd
from routing.events import EventBus, QueuePosition
from routing.timers import Scheduler


class PositionWatch:
    def __init__(
        self, acd: Acd, bus: EventBus, clock: Clock, timers: Scheduler, debounce_s: float = 2.0
    ) -> None:
        self._acd = acd
        self._bus = bus
        self._clock = clock
        self._timers = timers
        self._debounce = timedelta(seconds=debounce_s)
        self._last: dict[str, dict[str, int]] = {}  # queue -> conversation -> position told
        acd.queue_listeners.append(self.queue_changed)

    def queue_changed(self, queue: str) -> None:
        key = f"positions:{queue}"
        if not self._timers.pending(key):
            self._timers.call_at(
                self._clock.now() + self._debounce, key, lambda: self.refresh(queue)
            )

    async def refresh(self, queue: str) -> None:
        now = self._clock.now()
        told = self._last.setdefault(queue, {})
        current: dict[str, int] = {}
        for index, entry in enumerate(self._acd.queues[queue].ordered(now)):
            position = index + 1
            current[entry.conversation_id] = position
            if told.get(entry.conversation_id) != position:
                _, wait_s = self._acd.position(entry.conversation_id)
                self._bus.publish(QueuePosition(now, entry.conversation_id, position, wait_s))
        self._last[queue] = current
