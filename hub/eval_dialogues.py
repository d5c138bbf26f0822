"""`hub eval dialogues`: multi-turn dialogues through the real router, scored turn by turn.

Each dialogue is one REST-channel citizen (its own identity) talking to the full routing stack
(router, queues, case desk) with the production bot (NLU + knowledge base) on a database of
its own: the embedded server started for the run, or a fresh database on MONGO_URL, dropped
afterwards. The clock is fixed on a Tuesday morning in office hours and moves a few seconds a
turn, so the figures do not depend on when the command runs. No agent is signed in: a
conversation that escalates stays queued.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from cases.desk import CaseDesk
from cases.sla import DuePolicy, load_calendar
from cases.taxonomy import Taxonomy, load_taxonomy_file
from hub.progress import track
from hub.routing_parts import RoutingParts, build_routing
from hub.settings import Settings
from mongo.cases import MongoCaseRepository
from mongo.client import Database
from primitives.clock import FixedClock
from routing.bot import Bot, BotAnswer
from routing.config import load_routing_config
from routing.customers import Identity, IdentityKind
from routing.dialogue_scoring import (
    Dialogue,
    Observed,
    Scores,
    parse_dialogues,
    report,
    score_dialogue,
)
from routing.messages import InboundMessage
from routing.timers import ManualScheduler

# A Tuesday, 10:00 in Beijing: every queue is open.
START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TURN_GAP_S = 20


@dataclass
class RecordingBot:
    """The bot, remembering what it answered during the current turn."""

    inner: Bot
    answers: list[BotAnswer] = field(default_factory=list)
    elapsed_ms: list[float] = field(default_factory=list)  # per turn: time inside the bot

    async def answer(self, text: str) -> BotAnswer:
        started = time.perf_counter()
        found = await self.inner.answer(text)
        self.elapsed_ms[-1] += (time.perf_counter() - started) * 1000
        self.answers.append(found)
        return found

    def status(self) -> dict[str, object]:
        return self.inner.status()


def load_dialogues(path: Path) -> list[Dialogue]:
    with path.open(encoding="utf-8") as f:
        return parse_dialogues(yaml.safe_load(f))


async def run_dialogues(
    db: Database, bot: Bot, dialogues: list[Dialogue], settings: Settings
) -> dict[str, Any]:
    """Drive every dialogue through a routing stack on db; the scored report."""
    clock = FixedClock(START)
    taxonomy = Taxonomy(load_taxonomy_file(settings.taxonomy_data))
    calendar = load_calendar(settings.hub_routing_config)
    cases = MongoCaseRepository(db)
    desk = CaseDesk(cases, lambda: taxonomy, DuePolicy(calendar), clock)
    recording = RecordingBot(bot)
    stack = build_routing(
        db,
        bot=recording,
        cases=desk,
        config=load_routing_config(settings.hub_routing_config),
        clock=clock,
        scheduler=ManualScheduler(clock),
        outbox_backoff_s=(0,),
        rng=random.Random(1),
    )
    await stack.desk.restore()
    scores = Scores()
    run = uuid.uuid4().hex[:6]
    try:
        for dialogue in track(dialogues, "对话评测", "段"):  # a bar on a terminal only
            observed = [
                await _turn(stack, recording, cases, clock, f"eval-{run}-{dialogue.id}", t.user, n)
                for n, t in enumerate(dialogue.turns)
            ]
            score_dialogue(scores, dialogue, observed)
    finally:
        await stack.outbox.close()
    result = report(scores)
    bot_ms = sorted(recording.elapsed_ms)
    result["bot_ms"] = {
        "p50": round(statistics.median(bot_ms), 1) if bot_ms else None,
        "p95": round(bot_ms[int(0.95 * (len(bot_ms) - 1))], 1) if bot_ms else None,
    }
    return result


async def _turn(
    stack: RoutingParts,
    bot: RecordingBot,
    cases: MongoCaseRepository,
    clock: FixedClock,
    who: str,
    text: str,
    n: int,
) -> Observed:
    clock.advance(seconds=TURN_GAP_S)
    bot.answers.clear()
    bot.elapsed_ms.append(0.0)
    msg = InboundMessage(
        channel="rest",
        account="eval",
        provider_id=f"{who}-{n}",
        identity=Identity(IdentityKind.REST, who),
        text=text,
        received_at=clock.now(),
    )
    started = time.perf_counter()
    result = await stack.router.handle_inbound(msg)
    elapsed = (time.perf_counter() - started) * 1000
    conv = await stack.router.conversation(result.conversation_id)
    answer = bot.answers[-1] if bot.answers else None
    entities = dict(_slots(conv))
    if answer is not None:
        entities.update({k: v for k, v in answer.entities if k not in entities})
    found = await cases.find_for_customer(conv.customer_id)
    return Observed(
        state=conv.state.value,
        priority=conv.priority,
        intent=answer.intent if answer else None,
        kb_article_ids=tuple(r.kb_article_id for r in result.replies if r.kb_article_id),
        entities=entities,
        case_types=frozenset(c.type.value for c in found),
        replies=tuple(r.text for r in result.replies),
        elapsed_ms=elapsed,
    )


def _slots(conv: object) -> dict[str, str]:
    """The dialogue state's slots, when the conversation keeps one."""
    state = getattr(conv, "dialogue", None)
    return dict(getattr(state, "slots", {}) or {})


async def evaluate_file(path: Path, settings: Settings) -> dict[str, Any]:
    """Load the dialogues, bring up a database and the production bot, run and score."""
    from hub.bot import build_bot
    from hub.kb_store import seed_if_empty
    from hub.runtime import database
    from mongo.client import connect, wait_until_up
    from mongo.indexes import ensure_indexes
    from mongo.kb_articles import MongoArticleRepository

    dialogues = await asyncio.to_thread(load_dialogues, path)
    with tempfile.TemporaryDirectory(prefix="hub-eval-") as tmp:
        own = settings.model_copy(update={"hub_db_path": Path(tmp) / "eval.sqlite"})
        async with database(own) as (running, _kind):
            assert running.mongo_url is not None
            name = f"eval_dialogues_{uuid.uuid4().hex[:8]}"
            client, db = connect(running.mongo_url, name)
            try:
                await wait_until_up(client, timeout_s=30)
                await ensure_indexes(db)
                await seed_if_empty(db, settings.kb_data)
                bot = await build_bot(settings, MongoArticleRepository(db))
                result = await run_dialogues(db, bot, dialogues, settings)
            finally:
                await client.drop_database(name)
                client.close()
    result["file"] = str(path)
    return result
