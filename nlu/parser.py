"""The NLU seam: what every backend returns, and the one protocol the router calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entity:
    """One extracted entity. `value` is canonical (synonyms mapped); `text` is the span."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class ParseResult:
    text: str
    intent: str
    confidence: float
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()

    def entity(self, name: str) -> str | None:
        """The value of the first entity called `name`, or None."""
        return next((e.value for e in self.entities if e.entity == name), None)


class Parser(Protocol):
    async def parse(self, text: str) -> ParseResult: ...
