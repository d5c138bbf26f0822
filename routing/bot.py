"""What the router needs from the bot (NLU + knowledge base), as one small seam."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class KbDecision(StrEnum):
    ANSWER = "answer"  # confident, clear margin
    CLARIFY = "clarify"  # offer the top choices
    NONE = "none"  # nothing fits: hand over


@dataclass(frozen=True, slots=True)
class RankedArticle:
    """One article as the knowledge base ranked it for a text (fused retrieval score)."""

    article_id: str
    question: str
    score: float
    category: str | None = None  # level-1 category: a follow-up's sibling shares the topic's


@dataclass(frozen=True, slots=True)
class BotAnswer:
    intent: str
    confidence: float
    decision: KbDecision
    text: str = ""  # the article's answer, or the clarify prompt
    kb_article_id: str | None = None
    kb_category: str | None = None  # level-1 category of the best article
    choices: tuple[str, ...] = ()  # clarify: the questions offered
    entities: tuple[tuple[str, str], ...] = field(default=())  # (entity, value)
    kb_question: str = ""  # the answered article's question
    # the best articles for this text, best first, whatever the decision: a follow-up is
    # settled with them (routing/dialogue_state.closer_to_the_turn)
    ranking: tuple[RankedArticle, ...] = ()
    # things the text names that no article mentions (车船税): a follow-up naming one is not
    # answered by repeating the last article
    novel_terms: tuple[str, ...] = ()
    # the things the text names (novel or not), and the words the answered article mentions:
    # a follow-up naming what the topic article never mentions (交强险 after car inspection)
    # is not answered with it again
    terms: tuple[str, ...] = ()
    kb_mentions: frozenset[str] = frozenset()
    # the parser's intents with their confidence, best first (a request split between two
    # case kinds is still a request: routing/intake.Intake.request_confidence)
    intents: tuple[tuple[str, float], ...] = ()

    def entity(self, name: str) -> str | None:
        return next((v for k, v in self.entities if k == name), None)


class Bot(Protocol):
    async def answer(self, text: str) -> BotAnswer: ...

    def status(self) -> dict[str, object]:
        """For /healthz: which backends answer (e.g. Rasa down, embedded in use)."""
        ...
