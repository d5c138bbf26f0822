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
    keyword = is_keyword_query(retrieval, profile)
    margin = retrieval.signals.get("margin", 1.0)
    return Verdict(decide_from(p, margin, len(retrieval.hits), keyword, profile), p)


def decide_from(
    p: float, margin: float, n_hits: int, keyword: bool, profile: Profile
) -> KbDecision:
    """The decision from the abstainer's probability and the fused margin between the top two
    articles (kb/calibration.py chooses the thresholds with this same function).

    Confident and clearly ahead: answer. Confident but a runner-up within clarify_margin, or
    plausible (clarify_at ≤ p), or a bare topic: offer the top choices. Otherwise none."""
    if p >= profile.answer_at:
        if n_hits >= 2 and margin < profile.clarify_margin:
            return KbDecision.CLARIFY
        return KbDecision.ANSWER
    if n_hits >= 2 and (p >= profile.clarify_at or keyword):
        return KbDecision.CLARIFY
    return KbDecision.NONE


def is_keyword_query(retrieval: Retrieval, profile: Profile) -> bool:
    """A bare topic ("身份证", "公积金"): every word is KB vocabulary and the best articles
    match it by word and by sound. Too vague to answer, too clear to hand over: offer the
    top choices. (Clarify counts as abstaining, so this never costs an out-of-KB answer.)"""
    s = retrieval.signals
    return (
        s["unknown_words"] == 0.0
        and s["lexical"] >= profile.keyword_lexical
        and s["pinyin"] >= profile.keyword_pinyin
    )
