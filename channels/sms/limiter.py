"""Per-number send rate: at most `limit` SMS to one number within `window_s`. A send over the
limit waits for its turn (a notification is delayed, never dropped)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable


class PerNumberLimiter:
    def __init__(
        self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window_s
        self._clock = clock
        self._sent: defaultdict[str, deque[float]] = defaultdict(deque)
        self.waits = 0  # how many sends had to wait, for tests and metrics

    def delay(self, number: str) -> float:
        """Seconds until number may get another SMS (0: now)."""
        now = self._clock()
        sent = self._sent[number]
        while sent and sent[0] <= now - self._window:
            sent.popleft()
        if len(sent) < self._limit:
            return 0.0
        return sent[0] + self._window - now

    async def acquire(self, number: str) -> None:
        waited = False
        while (wait := self.delay(number)) > 0:
            waited = True
            await asyncio.sleep(wait)
        self.waits += waited
        self._sent[number].append(self._clock())
