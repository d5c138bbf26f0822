"""Per-queue figures the ACD keeps: answers within service level, handle time, wait estimates."""

from __future__ import annotations

import math
from datetime import datetime

from routing.config import RoutingConfig
from routing.conversation_model import Media
from routing.presence import AgentStatus, Presence
from routing.waiting import QueueEntry


class QueueStats:
    def __init__(self, config: RoutingConfig, presence: Presence) -> None:
        self._config = config
        self._presence = presence
        self.handle_time = {name: config.default_handle_time_s for name in config.queues}
        self.assigned = 0
        self.answered: dict[str, int] = {}
        self.answered_within_sl: dict[str, int] = {}
        self.longest_answered_wait_s = 0.0

    def count_answer(self, entry: QueueEntry, now: datetime) -> None:
        waited = (now - entry.queued_at).total_seconds()
        q = entry.queue
        self.assigned += 1
        self.answered[q] = self.answered.get(q, 0) + 1
        if waited <= self._config.queues[q].service_level_s:
            self.answered_within_sl[q] = self.answered_within_sl.get(q, 0) + 1
        self.longest_answered_wait_s = max(self.longest_answered_wait_s, waited)

    def service_level(self, queue: str) -> float | None:
        """Share of answered conversations answered within the queue's service level."""
        answered = self.answered.get(queue, 0)
        return self.answered_within_sl.get(queue, 0) / answered if answered else None

    def learn_handle_time(self, queue: str, seconds: float) -> None:
        """Exponential average of handle time per queue (as app_queue's holdtime)."""
        if queue in self.handle_time:
            self.handle_time[queue] = 0.8 * self.handle_time[queue] + 0.2 * seconds

    def wait_estimate(self, queue: str, position: int, media: Media) -> int:
        """Seconds until a conversation at position is served: rounds of the slots that the
        signed-in agents of the queue offer, times the average handle time."""
        slots = sum(
            (1 if media is Media.VOICE else s.max_chats)
            for s in self._presence.with_skill(queue)
            if s.status is not AgentStatus.OFFLINE
        )
        rounds = math.ceil(position / max(1, slots))
        return int(rounds * self.handle_time[queue])
