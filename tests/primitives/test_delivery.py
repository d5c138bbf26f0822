"""The delivery queue behind every outbox: the first attempt at once, one retry per backoff
delay while the failure may pass, a permanent failure given up at once, everything pending
resumed once, and an item never in flight twice."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from primitives.delivery import DeliveryFailed, DeliveryQueue


@dataclass
class MemoryStore:
    """The DeliveryStore protocol over a dict: item -> state."""

    states: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, tuple[str, int]] = field(default_factory=dict)  # item -> (how, attempts)

    async def pending(self) -> list[str]:
        return sorted(k for k, state in self.states.items() if state == "pending")

    async def mark_sent(self, item: str, result: str, attempts: int) -> None:
        self.states[item] = "sent"
        self.outcomes[item] = (result, attempts)

    async def mark_failed(self, item: str, reason: str, attempts: int) -> None:
        self.states[item] = "failed"
        self.outcomes[item] = (reason, attempts)


@dataclass
class Provider:
    """Fails each item's first `failures[item]` attempts with `error`."""

    failures: dict[str, int] = field(default_factory=dict)
    error: Exception = field(default_factory=lambda: DeliveryFailed("暂时不可用"))
    sent: list[str] = field(default_factory=list)
    attempts: list[tuple[str, int]] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def send(self, item: str, attempt: int) -> str:
        self.attempts.append((item, attempt))
        if self.gate is not None:
            await self.gate.wait()
        if self.failures.get(item, 0) >= attempt:
            raise self.error
        self.sent.append(item)
        return f"ok-{item}"


def _queue(store: MemoryStore, provider: Provider, backoff: tuple[float, ...] = (0, 0)):
    return DeliveryQueue(store, provider.send, key=str, name="test", backoff_s=backoff)


async def test_a_send_that_fails_then_passes_is_marked_sent_with_its_attempts():
    store, provider = MemoryStore({"a": "pending"}), Provider({"a": 2})
    queue = _queue(store, provider)
    queue.submit("a")
    await queue.drain()
    assert provider.sent == ["a"]
    assert store.outcomes["a"] == ("ok-a", 3)


async def test_a_send_that_keeps_failing_is_marked_failed_after_every_retry():
    store, provider = MemoryStore({"a": "pending"}), Provider({"a": 99})
    queue = _queue(store, provider, backoff=(0, 0, 0))
    queue.submit("a")
    await queue.drain()
    assert [n for _, n in provider.attempts] == [1, 2, 3, 4]
    assert store.outcomes["a"] == ("暂时不可用", 4)


async def test_a_permanent_failure_is_not_retried():
    error = DeliveryFailed("号码不存在", retryable=False)
    store, provider = MemoryStore({"a": "pending"}), Provider({"a": 99}, error)
    queue = _queue(store, provider)
    queue.submit("a")
    await queue.drain()
    assert store.outcomes["a"] == ("号码不存在", 1)


async def test_an_unexpected_error_is_retried_and_named_in_the_reason():
    store, provider = MemoryStore({"a": "pending"}), Provider({"a": 99}, ValueError("bug"))
    queue = _queue(store, provider, backoff=(0,))
    queue.submit("a")
    await queue.drain()
    assert store.outcomes["a"] == ("ValueError: bug", 2)


async def test_resume_sends_everything_pending_once():
    store = MemoryStore({"a": "pending", "b": "sent", "c": "pending", "d": "failed"})
    provider = Provider()
    queue = _queue(store, provider)
    assert await queue.resume() == 2
    await queue.drain()
    assert sorted(provider.sent) == ["a", "c"]
    assert await queue.resume() == 0


async def test_an_item_in_flight_is_not_sent_twice():
    store, provider = MemoryStore({"a": "pending"}), Provider(gate=asyncio.Event())
    queue = _queue(store, provider)
    assert queue.submit("a")
    await asyncio.sleep(0)
    assert not queue.submit("a")
    assert await queue.resume() == 0  # "a" is still pending in the store, but under way
    provider.gate.set()
    await queue.drain()
    assert provider.sent == ["a"]


async def test_close_leaves_what_was_not_sent_pending():
    store, provider = MemoryStore({"a": "pending"}), Provider({"a": 99})
    queue = _queue(store, provider, backoff=(60,))
    queue.submit("a")
    await asyncio.sleep(0.01)
    await queue.close()
    assert store.states["a"] == "pending"
    assert provider.attempts == [("a", 1)]
