"""What the bot does with a retrieval: answer, clarify (offer the top 3) or none (hand the
conversation to the router's escalation). Thresholds are fixed numbers from the calibrated
profile (kb/thresholds.py), never computed at run time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kb.retriever import Retrieval
from kb.thresholds import Profile

CLARIFY_CHOICES = 3


class KbDecision(StrEnum):
    ANSWER = "answer"  # confident, with a clear margin over the runner-up
    CLARIFY = "clarify"  # plausible but unsure: offer the top choices
    NONE = "none"  # nothing fits: escalate


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: KbDecision
    confidence: float  # the abstainer's P(best article is right)


def decide(retrieval: Retrieval, profile: Profile) -> Verdict:
    if not retrieval.hits:
        return Verdict(KbDecision.NONE, 0.0)
    p = profile.abstainer.probability(retrieval.signals)
    if p >= profile.answer_at:
        return Verdict(KbDecision.ANSWER, p)
    if p >= profile.clarify_at and len(retrieval.hits) >= 2:
        return Verdict(KbDecision.CLARIFY, p)
    return Verdict(KbDecision.NONE, p)
