"""Timers driven by the injected Clock: asyncio in production, stepped by hand in tests.

Offer timeouts, wrap-up, reply deadlines, disconnect grace and overflow all go through a
Scheduler, keyed so a timer can be replaced or cancelled (e.g. "offer:<conversation>").
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from primitives.clock import Clock
from primitives.tasks import BackgroundTasks

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]


class Scheduler(Protocol):
    def call_at(self, when: datetime, key: str, callback: Callback) -> None:
        """Run callback at when; a timer already under key is replaced."""
        ...

    def cancel(self, key: str) -> None: ...

    def pending(self, key: str) -> bool: ...


class AsyncioScheduler:
    """Real timers on the running loop. Owns its tasks: close() cancels them all."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._tasks = BackgroundTasks()

    def call_at(self, when: datetime, key: str, callback: Callback) -> None:
        self.cancel(key)
        delay = max(0.0, (when - self._clock.now()).total_seconds())
        loop = asyncio.get_running_loop()
        self._handles[key] = loop.call_later(delay, self._fire, key, callback)

    def _fire(self, key: str, callback: Callback) -> None:
        self._handles.pop(key, None)
        self._tasks.spawn(_run(key, callback))

    def cancel(self, key: str) -> None:
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.cancel()

    def pending(self, key: str) -> bool:
        return key in self._handles

    async def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        await self._tasks.cancel()


class ManualScheduler:
    """Timers that fire only when run_due() is awaited (tests, simulations)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[tuple[datetime, int, str]] = []
        self._live: dict[str, tuple[int, Callback]] = {}
        self._ids = itertools.count()

    def call_at(self, when: datetime, key: str, callback: Callback) -> None:
        ident = next(self._ids)
        self._live[key] = (ident, callback)
        heapq.heappush(self._heap, (when, ident, key))

    def cancel(self, key: str) -> None:
        self._live.pop(key, None)

    def pending(self, key: str) -> bool:
        return key in self._live

    def next_due(self) -> datetime | None:
        while self._heap and self._live.get(self._heap[0][2], (None,))[0] != self._heap[0][1]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    async def run_due(self) -> int:
        """Fire every timer due at the clock's now (including ones they schedule). Count fired."""
        fired = 0
        while (when := self.next_due()) is not None and when <= self._clock.now():
            _, _, key = heapq.heappop(self._heap)
            _, callback = self._live.pop(key)
            await _run(key, callback)
            fired += 1
        return fired


async def _run(key: str, callback: Callback) -> None:
    try:
        await callback()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("timer.failed", extra={"timer": key})
