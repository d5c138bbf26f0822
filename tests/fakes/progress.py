"""A progress hook (the shape the hub's terminal bars have) that records what went through it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


class Counting:
    """Called once per evaluation with the items; hands them back one by one, noting each."""

    def __init__(self) -> None:
        self.calls = 0
        self.seen: list[object] = []

    def __call__(self, items: Sequence[T]) -> Iterator[T]:
        self.calls += 1
        return self._each(items)

    def _each(self, items: Sequence[T]) -> Iterator[T]:
        for item in items:
            self.seen.append(item)
            yield item
