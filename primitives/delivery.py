"""The one mechanism behind every outbox: an item is stored (pending) before anything is
sent, then sent in the background, retried with backoff while the failure may pass, and
marked sent or failed with the reason; at start, everything a previous run left pending is
sent.

The queue knows neither the item nor where it is stored: a DeliveryStore lists what is
pending and records the outcome, a send callable makes one attempt (raising DeliveryFailed).
The routing outbox (conversation replies), the SMS outbound and the mail outbox each keep
their own store and the parts of their channel (rate limits, receipts, SMTP) around it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from primitives.tasks import BackgroundTasks

log = logging.getLogger(__name__)

# The retries after the first attempt, in seconds (HUB_OUTBOX_BACKOFF_S).
DEFAULT_BACKOFF_S: tuple[float, ...] = (1, 2, 5, 15, 60)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


class DeliveryFailed(Exception):
    """A send that did not go through. retryable=False: retrying cannot help (e.g. WeChat's
    48-hour window has closed, a 5xx from the SMTP server); the item is marked failed at
    once."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class DeliveryStore(Protocol[ItemT, ResultT]):
    """Where the items of one outbox are kept."""

    async def pending(self) -> Sequence[ItemT]:
        """Every item stored but neither sent nor failed, oldest first."""
        ...

    async def mark_sent(self, item: ItemT, result: ResultT, attempts: int) -> None:
        """Record that attempt number `attempts` (from 1) went through; result is what the
        send callable returned."""
        ...

    async def mark_failed(self, item: ItemT, reason: str, attempts: int) -> None:
        """Record that the item was given up after `attempts` attempts; reason is the last
        attempt's (DeliveryFailed's reason, or the name and text of another exception)."""
        ...


Send = Callable[[ItemT, int], Awaitable[ResultT]]  # (item, attempt from 1) -> result


class DeliveryQueue(Generic[ItemT, ResultT]):
    """Sends items in the background: the first attempt at once, then one retry after each
    delay of backoff_s while the failure is retryable. An item is in flight at most once:
    submitting it again (a resume while it is under way) does nothing.

    name prefixes the log events (`<name>.retry`, `<name>.failed`); key names an item (its
    stored id) for the logs and the in-flight check."""

    def __init__(
        self,
        store: DeliveryStore[ItemT, ResultT],
        send: Send[ItemT, ResultT],
        *,
        key: Callable[[ItemT], str],
        name: str,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
    ) -> None:
        self._store = store
        self._send = send
        self._key = key
        self._name = name
        self._backoff = tuple(backoff_s)
        self._in_flight: set[str] = set()
        self._tasks = BackgroundTasks()

    def submit(self, item: ItemT) -> bool:
        """Deliver an item already stored as pending, in the background. False if it is
        in flight already."""
        key = self._key(item)
        if key in self._in_flight:
            return False
        self._in_flight.add(key)
        self._tasks.spawn(self._deliver(key, item))
        return True

    async def resume(self) -> int:
        """Deliver everything the store holds as pending (at start: what a previous run
        stored but did not send). Returns how many were submitted."""
        return sum(self.submit(item) for item in await self._store.pending())

    async def drain(self) -> None:
        """Wait until every delivery under way is sent or given up (tests, shutdown)."""
        await self._tasks.drain()

    async def close(self) -> None:
        """Stop every delivery under way; what was not sent stays pending in the store."""
        await self._tasks.cancel()

    async def _deliver(self, key: str, item: ItemT) -> None:
        try:
            await self._attempts(key, item)
        finally:
            self._in_flight.discard(key)

    async def _attempts(self, key: str, item: ItemT) -> None:
        reason = ""
        attempt = 0
        for attempt, delay in enumerate((0.0, *self._backoff), start=1):
            if delay:
                await asyncio.sleep(delay)
            try:
                result = await self._send(item, attempt)
            except DeliveryFailed as e:
                reason = e.reason
                log.info(
                    f"{self._name}.retry",
                    extra={"item": key, "attempt": attempt, "reason": reason},
                )
                if not e.retryable:
                    break
                continue
            except Exception as e:  # a sender bug must not lose the item silently
                reason = f"{type(e).__name__}: {e}"
                log.exception(f"{self._name}.send_error", extra={"item": key, "attempt": attempt})
                continue
            await self._store.mark_sent(item, result, attempt)
            return
        log.warning(f"{self._name}.failed", extra={"item": key, "reason": reason})
        await self._store.mark_failed(item, reason, attempt)
