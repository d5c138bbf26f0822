"""The production bot: NLU (Rasa or embedded) + the knowledge base, behind routing's Bot seam.

The parser says what the citizen wants (intent, entities); the knowledge base says whether
an article answers it. The router's policy decides what to do with both (routing/policy.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from functools import partial

from hub.settings import Settings
from kb.articles import Article, ArticleRepository
from kb.decision import KbDecision as KbVerdict
from kb.service import KbResult, KnowledgeBase
from nlu.parser import Parser, ParseResult
from routing.bot import BotAnswer, KbDecision, RankedArticle

log = logging.getLogger(__name__)

SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
# A short, confidently classified pleasantry ("你好", "谢谢") is small talk even when some
# article happens to look close; a longer message is a question first.
SMALL_TALK_CONFIDENCE = 0.8
SMALL_TALK_MAX_CHARS = 8
# articles ranked per answer: enough to find the follow-up's own score of each of the
# topic-combined query's close articles
RANKED = 10
_DECISIONS = {
    KbVerdict.ANSWER: KbDecision.ANSWER,
    KbVerdict.CLARIFY: KbDecision.CLARIFY,
    KbVerdict.NONE: KbDecision.NONE,
}


@dataclass
class NluKbBot:
    parser: Parser
    kb: KnowledgeBase

    async def answer(self, text: str) -> BotAnswer:
        parsed, found = await asyncio.gather(
            self.parser.parse(text), self.kb.query(text, limit=RANKED)
        )
        entities = tuple((e.entity, e.value) for e in parsed.entities)
        if _is_small_talk(parsed, text):
            return BotAnswer(parsed.intent, parsed.confidence, KbDecision.NONE, entities=entities)
        return combine(parsed, found, entities)

    def status(self) -> dict[str, object]:
        probe = getattr(self.parser, "status", None)
        nlu = probe() if callable(probe) else {"backend": type(self.parser).__name__}
        return {
            "nlu": nlu,
            "kb": {"articles": len(self.kb), "embedder": self.kb.embedder.name},
            "degraded": nlu.get("using", nlu.get("backend")) != nlu.get("backend"),
        }


def combine(
    parsed: ParseResult, found: KbResult, entities: tuple[tuple[str, str], ...]
) -> BotAnswer:
    decision = _DECISIONS[found.decision]
    best: Article | None = found.best.article if found.best else None
    category = best.category[0] if best and best.category else None
    ranking = tuple(
        RankedArticle(
            h.article_id,
            h.article.question,
            h.score,
            h.article.category[0] if h.article.category else None,
        )
        for h in found.hits
    )
    # what every decision carries; an answer or a clarify adds the article or the choices
    none = BotAnswer(
        parsed.intent,
        parsed.confidence,
        KbDecision.NONE,
        entities=entities,
        ranking=ranking,
        novel_terms=found.novel_terms,
        terms=found.terms,
        intents=tuple((s.name, s.confidence) for s in parsed.ranking),
    )
    if decision is KbDecision.ANSWER and best is not None:
        return replace(
            none,
            decision=decision,
            text=found.answer_text,
            kb_article_id=best.id,
            kb_category=category,
            kb_question=best.question,
            kb_mentions=found.best_mentions,
        )
    if decision is KbDecision.CLARIFY:
        return replace(
            none,
            decision=decision,
            text=found.clarify_text,
            kb_category=category,
            choices=found.choices,
        )
    return none


def _is_small_talk(parsed: ParseResult, text: str) -> bool:
    return (
        parsed.intent in SMALL_TALK
        and parsed.confidence >= SMALL_TALK_CONFIDENCE
        and len(text.strip()) <= SMALL_TALK_MAX_CHARS
    )


async def build_parser(settings: Settings) -> Parser:
    """The embedded parser, trained from the configured NLU data; with RASA_URL set, Rasa
    first and the embedded parser whenever Rasa does not answer. Either way, the one emergency
    decision (nlu/emergency_decision.py) runs on what the answering backend returned."""
    from nlu.emergency_decision import EmergencyGuardedParser

    return EmergencyGuardedParser(await _backend_parser(settings))


async def _backend_parser(settings: Settings) -> Parser:
    from nlu.embedded import EmbeddedParser

    embedded = await asyncio.to_thread(
        partial(
            EmbeddedParser.from_file,
            settings.nlu_data,
            cache_dir=settings.hub_var_dir / "nlu-cache",
        )
    )
    if not settings.rasa_url:
        return embedded
    from nlu.fallback import FallbackParser
    from nlu.rasa_http import RasaHttpConfig, RasaHttpParser

    return FallbackParser(RasaHttpParser(RasaHttpConfig(settings.rasa_url)), embedded)


async def build_knowledge_base(settings: Settings, repo: ArticleRepository) -> KnowledgeBase:
    """The knowledge base over the stored articles; edits through it are stored first."""
    from hub.progress import ProgressEmbedder
    from kb.embedder import make_embedder
    from kb.thresholds import load_profile

    embedder = ProgressEmbedder(await asyncio.to_thread(make_embedder, settings.kb_embedder))
    profile = load_profile(settings.kb_thresholds, embedder.name)
    kb = KnowledgeBase(embedder, profile, cache_root=settings.hub_var_dir / "kb-cache")
    await kb.load(repo)
    return kb


async def build_bot(settings: Settings, repo: ArticleRepository) -> NluKbBot:
    """Train the parser and index the articles side by side (both are CPU-bound threads)."""
    parser, kb = await asyncio.gather(build_parser(settings), build_knowledge_base(settings, repo))
    log.info("bot.ready", extra={"articles": len(kb), "rasa": bool(settings.rasa_url)})
    return NluKbBot(parser, kb)
