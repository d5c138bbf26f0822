"""GET /metrics: the hub in Prometheus text format.

Live figures are read from the services at scrape time (queue lengths and the longest wait
per queue, agents by status, a database ping); counters follow the event bus (messages by
channel and sender, conversations queued and assigned per queue, replies not delivered); the
bot's answer time is measured by TimedBot around the bot.

Protected: a request from a loopback address (after HUB_PROXY_HOPS proxies) is served; any
other needs `Authorization: Bearer HUB_METRICS_TOKEN`, and without a token set it is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from agent_web.auth import refusal
from agent_web.client_address import client_address
from agent_web.keys import ACD, DATABASE_UP, EVENTS, INBOX_CONFIG, ROUTER
from routing.bot import Bot, BotAnswer
from routing.events import (
    ConversationAssigned,
    ConversationQueued,
    Event,
    MessageAdded,
    MessageNotDelivered,
)
from routing.presence import AgentStatus

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CHANNEL_CACHE = 10_000  # conversation -> channel, most recent


class HubMetrics:
    """The hub's metrics in their own registry (one per app: tests run several apps)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.messages = Counter(
            "hub_messages",
            "Messages stored, by channel and sender",
            ["channel", "sender"],
            registry=r,
        )
        self.queued = Counter(
            "hub_conversations_queued", "Conversations put in a queue", ["queue"], registry=r
        )
        self.assignments = Counter(
            "hub_assignments", "Conversations assigned to an agent", ["queue"], registry=r
        )
        self.delivery_failures = Counter(
            "hub_delivery_failures", "Replies a channel refused or could not deliver", registry=r
        )
        self.bot_latency = Histogram(
            "hub_bot_latency_seconds",
            "Time the bot takes to answer one message",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.db_latency = Histogram(
            "hub_db_latency_seconds",
            "Database ping round trip, measured at each scrape",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.db_up = Gauge("hub_db_up", "1 when the database answered the last ping", registry=r)
        self.db_commands = Histogram(
            "hub_db_command_seconds",
            "Every database command's duration as the driver saw it, by command",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.waiting = Gauge(
            "hub_queue_waiting", "Conversations waiting now, by queue", ["queue"], registry=r
        )
        self.longest_wait = Gauge(
            "hub_queue_longest_wait_seconds",
            "Longest current wait, by queue",
            ["queue"],
            registry=r,
        )
        self.agents = Gauge("hub_agents", "Agents by status", ["status"], registry=r)
        self._channels: OrderedDict[str, str] = OrderedDict()

    async def watch(self, app: web.Application) -> None:
        """Count what the event bus reports, until cancelled."""
        async with app[EVENTS].subscribe(
            lambda e: isinstance(
                e, MessageAdded | ConversationQueued | ConversationAssigned | MessageNotDelivered
            )
        ) as events:
            async for event in events:
                try:
                    await self._count(app, event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("metrics.count_failed")

    async def _count(self, app: web.Application, event: Event) -> None:
        if isinstance(event, MessageAdded):
            if not event.internal:
                channel = await self._channel_of(app, event.conversation_id)
                self.messages.labels(channel, event.sender).inc()
        elif isinstance(event, ConversationQueued):
            self.queued.labels(event.queue).inc()
        elif isinstance(event, ConversationAssigned):
            self.assignments.labels(event.queue).inc()
        elif isinstance(event, MessageNotDelivered):
            self.delivery_failures.inc()

    async def _channel_of(self, app: web.Application, conversation_id: str) -> str:
        channel = self._channels.get(conversation_id)
        if channel is None:
            try:
                channel = (await app[ROUTER].conversation(conversation_id)).channel
            except Exception:  # gone, or the database is down: still count the message
                channel = "unknown"
            self._channels[conversation_id] = channel
            if len(self._channels) > _CHANNEL_CACHE:
                self._channels.popitem(last=False)
        else:
            self._channels.move_to_end(conversation_id)
        return channel

    async def collect_live(self, app: web.Application) -> None:
        """The figures read at scrape time."""
        if ACD in app:
            acd = app[ACD]
            now = time.time()
            for name in acd.queue_configs():
                entries = acd.waiting_entries(name)
                self.waiting.labels(name).set(len(entries))
                oldest = min((e.queued_at.timestamp() for e in entries), default=now)
                self.longest_wait.labels(name).set(max(0.0, now - oldest))
            counts = dict.fromkeys((s.value for s in AgentStatus), 0)
            for seat in acd.seats():
                counts[seat.status.value] += 1
            for status, n in counts.items():
                self.agents.labels(status).set(n)
        if DATABASE_UP in app:
            started = time.perf_counter()
            up = await app[DATABASE_UP]()
            self.db_latency.observe(time.perf_counter() - started)
            self.db_up.set(1 if up else 0)

    def observe_db_command(self, command: str, seconds: float) -> None:
        """Called from the driver's threads (prometheus_client is thread-safe)."""
        self.db_commands.labels(command).observe(seconds)


class TimedBot:
    """A Bot that records each answer's duration in hub_bot_latency_seconds."""

    def __init__(self, bot: Bot, metrics: HubMetrics) -> None:
        self._bot = bot
        self._metrics = metrics

    async def answer(self, text: str) -> BotAnswer:
        started = time.perf_counter()
        try:
            return await self._bot.answer(text)
        finally:
            self._metrics.bot_latency.observe(time.perf_counter() - started)

    def status(self) -> dict[str, object]:
        return self._bot.status()

    def __getattr__(self, name: str) -> object:  # e.g. the built bot's kb
        return getattr(self._bot, name)


METRICS = web.AppKey("metrics", HubMetrics)
METRICS_TOKEN = web.AppKey("metrics_token", str)  # "": loopback only


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _allowed(request: web.Request) -> bool:
    token = request.app.get(METRICS_TOKEN, "")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    config = request.app.get(INBOX_CONFIG)
    hops = config.proxy_hops if config is not None else 0
    return _loopback(client_address(request, hops))


async def metrics(request: web.Request) -> web.Response:
    if not _allowed(request):
        raise refusal(403, "forbidden", "metrics: loopback only, or Authorization: Bearer token")
    hub = request.app[METRICS]
    await hub.collect_live(request.app)
    body = generate_latest(hub.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def open_metrics(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context (after routing): count the event bus while the app runs."""
    task = asyncio.create_task(app[METRICS].watch(app)) if EVENTS in app else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_routes(app: web.Application) -> None:
    app.setdefault(METRICS, HubMetrics())
    app.router.add_get("/metrics", metrics)
