"""The composition root: builds every concrete class and wires it into one aiohttp app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial

from aiohttp import web

from agent_web import health
from agent_web import routes as inbox
from agent_web.config import InboxConfig
from agent_web.errors import translate_errors
from agent_web.keys import (
    ACD,
    AGENT_DESK,
    CASE_DESK,
    CASES,
    CLOCK,
    CONVERSATIONS,
    CUSTOMERS,
    DATABASE_UP,
    DB_KIND,
    EVENTS,
    HEALTH_PROBES,
    INBOX_CONFIG,
    KB_SEARCH,
    KNOWLEDGE_BASE,
    MESSAGES,
    OUTBOX,
    POSITIONS,
    ROUTER,
    TAXONOMY,
)
from agent_web.metrics import METRICS, METRICS_TOKEN, TimedBot, open_metrics
from cases.taxonomy import Taxonomy, load_taxonomy_file
from channels import rest
from hub import case_wiring, channel_wiring, sms_mail_wiring, voice_wiring
from hub.bot import build_bot
from hub.case_jobs import open_case_jobs
from hub.kb_store import seed_if_empty
from hub.keys import DB, DB_TIMER, MONGO_CLIENT, SETTINGS
from hub.routing_parts import build_routing
from hub.settings import Settings
from mongo.canned_replies import MongoCannedReplyRepository
from mongo.cases import MongoCaseRepository
from mongo.client import Database, connect, ping, wait_until_up
from mongo.command_timing import CommandTimer
from mongo.customers import MongoCustomerRepository
from mongo.indexes import ensure_indexes
from mongo.kb_articles import MongoArticleRepository
from mongo.messages import MongoMessageRepository
from mongo.people import MongoAgentRepository
from mongo.sessions import MongoSessionRepository
from mongo.taxonomy import MongoTaxonomyRepository
from primitives.clock import Clock, SystemClock
from routing.bot import Bot
from routing.config import load_routing_config
from routing.timers import AsyncioScheduler

log = logging.getLogger(__name__)

RESUME_WINDOW = timedelta(minutes=30)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db_kind: str = "mongodb",
    bot: Bot | None = None,
) -> web.Application:
    """The hub's web application. settings.mongo_url must point at a running server.

    bot overrides the NLU + knowledge-base bot (tests inject a fake)."""
    if settings.mongo_url is None:
        raise ValueError("create_app needs settings.mongo_url (start the embedded database first)")
    app = web.Application(middlewares=[translate_errors], client_max_size=10 * 1024 * 1024)
    app[SETTINGS] = settings
    app[INBOX_CONFIG] = InboxConfig(
        public_url=settings.hub_public_url, proxy_hops=settings.hub_proxy_hops
    )
    app[CLOCK] = clock or SystemClock()
    app[DB_KIND] = db_kind
    app[HEALTH_PROBES] = {}
    app.cleanup_ctx.append(open_mongo)
    app.cleanup_ctx.append(partial(open_routing, bot=bot))
    app.cleanup_ctx.append(open_metrics)
    app.cleanup_ctx.append(_time_db_commands)
    app.cleanup_ctx.append(open_inbox)
    app.cleanup_ctx.append(open_case_jobs)
    # After every channel registered its sender, before the first request: finish what a
    # crash interrupted.
    app.on_startup.append(_finish_interrupted_work)
    # Before any socket closes: agents disconnected by the shutdown keep their work.
    app.on_shutdown.append(_stop_routing)
    health.add_routes(app)
    token = settings.hub_metrics_token
    app[METRICS_TOKEN] = token.get_secret_value() if token is not None else ""
    channel_wiring.add_rest(app, settings)
    inbox.add_routes(app)
    channel_wiring.install_webchat(app, settings)
    channel_wiring.install_wechat(app, settings)
    sms_mail_wiring.install_sms(app, settings)
    channel_wiring.install_telegram(app, settings)
    sms_mail_wiring.install_mail(app, settings)
    voice_wiring.install_voice(app, settings)
    return app


async def _time_db_commands(app: web.Application) -> AsyncIterator[None]:
    """The driver's command durations into /metrics (hub_db_command_seconds)."""
    app[DB_TIMER].observe = app[METRICS].observe_db_command
    yield


async def open_mongo(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.mongo_url is not None
    timeout_ms = int(settings.mongo_selection_timeout_s * 1000)
    timer = CommandTimer()  # every command's duration; /metrics listens once it exists
    client, db = connect(
        settings.mongo_url, settings.mongo_db, timeout_ms=timeout_ms, listeners=[timer]
    )
    app[DB_TIMER] = timer
    await wait_until_up(client, timeout_s=30)
    await ensure_indexes(db)
    app[MONGO_CLIENT] = client
    app[DB] = db
    app[DATABASE_UP] = partial(ping, client, timeout_s=2.0)  # read by GET /healthz
    app[CUSTOMERS] = MongoCustomerRepository(db)
    app[MESSAGES] = MongoMessageRepository(db)
    cases = MongoCaseRepository(db)
    app[CASES] = cases
    app[TAXONOMY] = [await load_taxonomy(db, settings)]
    await case_wiring.open_cases(app, settings, db, cases)  # desk, catalogue, SLA, files
    log.info("mongo.ready", extra={"db": settings.mongo_db})
    yield
    client.close()


async def open_routing(app: web.Application, bot: Bot | None) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    clock = app[CLOCK]
    config = await asyncio.to_thread(load_routing_config, settings.hub_routing_config)
    if bot is None:
        await seed_if_empty(app[DB], settings.kb_data)
        built = await build_bot(settings, MongoArticleRepository(app[DB]))
        app[KB_SEARCH] = built.kb
        app[KNOWLEDGE_BASE] = built.kb
        bot = built
    the_bot = TimedBot(bot, app[METRICS]) if METRICS in app else bot
    scheduler = AsyncioScheduler(clock)
    stack = build_routing(
        app[DB],
        bot=the_bot,
        cases=app[CASE_DESK],
        config=config,
        clock=clock,
        scheduler=scheduler,
        outbox_backoff_s=settings.hub_outbox_backoff_s,
    )
    stack.outbox.register(rest.CHANNEL, rest.RestPollingSender())
    await stack.desk.restore()
    app[ROUTER], app[AGENT_DESK], app[ACD] = stack.router, stack.desk, stack.acd
    app[OUTBOX], app[EVENTS], app[POSITIONS] = stack.outbox, stack.bus, stack.positions
    app[CONVERSATIONS] = stack.conversations
    app[HEALTH_PROBES]["bot"] = _bot_probe(the_bot)
    yield
    await scheduler.close()
    await stack.outbox.close()


async def _finish_interrupted_work(app: web.Application) -> None:
    """Deliver replies stored but never sent, and answer messages stored but never answered
    within RESUME_WINDOW (older ones are left to the agents' history)."""
    await app[OUTBOX].resume(app[ROUTER].book)
    since = app[CLOCK].now() - RESUME_WINDOW
    await app[ROUTER].answer_unanswered(since)


async def _stop_routing(app: web.Application) -> None:
    if AGENT_DESK in app:
        app[AGENT_DESK].stop()


def open_inbox(app: web.Application) -> AsyncIterator[None]:
    """The agents' inbox: sessions, agents, canned replies (after routing)."""
    db = app[DB]
    return inbox.open_inbox(
        app,
        sessions=MongoSessionRepository(db),
        agents=MongoAgentRepository(db),
        canned=MongoCannedReplyRepository(db),
    )


def _bot_probe(bot: Bot) -> Callable[[], Awaitable[dict[str, object]]]:
    async def probe() -> dict[str, object]:
        return bot.status()

    return probe


async def load_taxonomy(db: Database, settings: Settings) -> Taxonomy:
    """The stored taxonomy; seeded from the shipped file the first time."""
    repo = MongoTaxonomyRepository(db)
    categories = await repo.all()
    if not categories:
        categories = load_taxonomy_file(settings.taxonomy_data)
        await repo.replace_all(categories)
        log.info("taxonomy.seeded", extra={"categories": len(categories)})
    return Taxonomy(categories)
