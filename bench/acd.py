"""ACD benchmark: decision latency, assignments per second with persistence, and a large
simulation (double assignments, longest wait, fairness of the spread across agents).

Run: .venv/bin/python -m bench.acd [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.results import markdown_table, percentile_ms, update_section
from primitives.clock import FixedClock
from routing.acd import Strategy
from routing.agents import Agent, Role
from routing.assignment import Acd
from routing.config import QueueConfig, RoutingConfig
from routing.conversation_model import Media
from routing.events import InProcessEventBus
from routing.presence import AgentStatus, Presence
from routing.timers import ManualScheduler
from routing.waiting import QueueEntry

QUEUES = [
    "general",
    "complaint",
    "water",
    "transport",
    "domestic_service",
    "elderly_care",
    "emergency",
]
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@dataclass
class CountingLog:
    """In-memory assignment record that detects double assignment."""

    owner: dict[str, str] = field(default_factory=dict)
    doubles: int = 0
    fresh: list[tuple[str, str]] = field(default_factory=list)  # assignments not yet seen

    async def assigned(self, entry: QueueEntry, agent: str) -> bool:
        if entry.conversation_id in self.owner:
            self.doubles += 1
        self.owner[entry.conversation_id] = agent
        self.fresh.append((entry.conversation_id, agent))
        return True

    async def requeued(self, entry: QueueEntry, reason: str) -> None:
        self.owner.pop(entry.conversation_id, None)


def _config(strategy: Strategy) -> RoutingConfig:
    return RoutingConfig(queues={q: QueueConfig(q, q, strategy) for q in QUEUES})


def _acd(strategy: Strategy, seed: int) -> tuple[Acd, FixedClock, ManualScheduler, CountingLog]:
    clock = FixedClock(T0)
    timers = ManualScheduler(clock)
    log = CountingLog()
    acd = Acd(
        _config(strategy), Presence(), clock, timers, log, InProcessEventBus(), random.Random(seed)
    )
    return acd, clock, timers, log


def _agents(n: int, rng: random.Random) -> list[Agent]:
    agents = []
    for i in range(n):
        skills = {"general": rng.randint(3, 9)}
        for q in rng.sample(QUEUES[1:], rng.randint(0, 3)):
            skills[q] = rng.randint(1, 10)
        agents.append(
            Agent(f"agent{i:04d}", f"agent{i}", frozenset({Role.AGENT}), skills, rng.randint(1, 4))
        )
    return agents


LOAD = 0.9  # offered load as a share of total chat capacity
# Arrival mix per queue, in proportion to the capacity the profiles below bring to each.
_DEMAND = [150, 30, 30, 30, 10, 10, 5]
_PROFILES = [  # (name, share, skills, max chats)
    ("generalist", 0.5, {"general": 6}, 3),
    ("complaints", 0.15, {"complaint": 8, "general": 4}, 2),
    ("water", 0.1, {"water": 8, "general": 4}, 3),
    ("transport", 0.1, {"transport": 8, "general": 4}, 3),
    ("care", 0.1, {"elderly_care": 8, "domestic_service": 7, "general": 3}, 2),
    ("emergency", 0.05, {"emergency": 9, "general": 5}, 1),
]


def _profiled_agents(n: int) -> list[Agent]:
    agents: list[Agent] = []
    for name, share, skills, chats in _PROFILES:
        for i in range(max(1, round(n * share))):
            agents.append(Agent(f"{name}{i:04d}", name, frozenset({Role.AGENT}), skills, chats))
    return agents


async def decision_latency(n_agents: int, n_waiting: int, samples: int) -> list[object]:
    """All agents busy, n_waiting in line; one agent frees a slot: time to assign the next."""
    rng = random.Random(1)
    acd, clock, _, log = _acd(Strategy.LEAST_RECENT, 1)
    agents = _agents(n_agents, rng)
    for agent in agents:
        acd.register(agent)
    # enough that n_waiting are still in line once every agent is full
    for i in range(n_waiting + sum(a.max_chats for a in agents)):
        q = rng.choice(QUEUES[:-1])
        clock.advance(milliseconds=10)
        acd.queues[q].add(QueueEntry(f"c{i}", q, rng.choice([0, 0, 0, 50]), clock.now()))
    for login in list(acd.presence.seats):
        await acd.set_status(login, AgentStatus.READY)  # fills every agent to capacity
    waiting_before = sum(len(q) for q in acd.queues.values())
    times: list[float] = []
    serving = [(s.login, c) for s in acd.presence.seats.values() for c in s.chats]
    rng.shuffle(serving)
    for login, cid in serving[:samples]:
        clock.advance(seconds=1)
        t = time.perf_counter()
        await acd.release(login, cid)  # frees a slot → dispatch → the next conversation
        times.append(time.perf_counter() - t)
    assigned = len(log.owner)
    return [
        f"{n_agents} agents, {waiting_before} waiting",
        len(times),
        percentile_ms(times, 50),
        percentile_ms(times, 99),
        assigned,
        log.doubles,
    ]


async def simulate(n_agents: int, n_conv: int, strategy: Strategy, seed: int = 5) -> list[object]:
    """Discrete-event simulation on a virtual clock: Poisson arrivals, exponential handling."""
    rng = random.Random(seed)
    acd, clock, timers, log = _acd(strategy, seed)
    agents = _profiled_agents(n_agents)
    for agent in agents:
        acd.register(agent)
        await acd.set_status(agent.login, AgentStatus.READY)
    capacity = sum(a.max_chats for a in agents)
    mean_handle = 240.0
    rate = LOAD * capacity / mean_handle  # arrivals per second
    arrival = clock.now()
    events: list[tuple[datetime, int, str, str]] = []  # (time, seq, kind, id)
    seq = 0
    for i in range(n_conv):
        arrival += timedelta(seconds=rng.expovariate(rate))
        events.append((arrival, seq, "arrive", f"c{i}"))
        seq += 1
    queued_at: dict[str, datetime] = {}
    waits: list[float] = []
    per_agent: dict[str, int] = {a.login: 0 for a in agents}
    import heapq

    heapq.heapify(events)
    seen_owner: dict[str, str] = {}
    t_start = time.perf_counter()
    while events:
        when, _, kind, cid = heapq.heappop(events)
        clock.set(when)
        await timers.run_due()
        if kind == "arrive":
            q = rng.choices(QUEUES, weights=_DEMAND)[0]
            queued_at[cid] = when
            await acd.enqueue(
                QueueEntry(
                    cid,
                    q,
                    1000 if q == "emergency" else rng.choice([0, 0, 0, 50]),
                    when,
                    media=Media.CHAT,
                )
            )
        else:
            await acd.release(log.owner[cid], cid)
        fresh, log.fresh = log.fresh, []
        for conv, agent in fresh:
            if conv not in seen_owner:
                seen_owner[conv] = agent
                waits.append((clock.now() - queued_at[conv]).total_seconds())
                per_agent[agent] += 1
                seq += 1
                heapq.heappush(
                    events,
                    (
                        clock.now() + timedelta(seconds=rng.expovariate(1 / mean_handle)),
                        seq,
                        "finish",
                        conv,
                    ),
                )
    wall = time.perf_counter() - t_start
    counts = list(per_agent.values())
    # Fairness among agents with the same capacity: coefficient of variation of their counts.
    by_cap: dict[int, list[int]] = {}
    for a in agents:
        by_cap.setdefault(a.max_chats, []).append(per_agent[a.login])
    cvs = [
        statistics.pstdev(v) / statistics.mean(v)
        for v in by_cap.values()
        if len(v) > 1 and statistics.mean(v)
    ]
    return [
        strategy.value,
        f"{n_agents}/{n_conv}",
        len(seen_owner),
        log.doubles,
        round(max(waits), 1),
        round(statistics.mean(waits), 1),
        f"{min(counts)}–{max(counts)}",
        round(max(cvs), 3) if cvs else 0.0,
        round(wall, 1),
    ]


async def persisted_rate(n: int) -> list[object]:
    """End to end with the database: n conversations escalate, then agents come ready; each
    assignment is a conditional update of the conversation plus the stored customer notice."""
    from cases.desk import CaseDesk
    from cases.sla import DuePolicy
    from cases.taxonomy import Taxonomy, load_taxonomy_file
    from hub.embedded_db import EmbeddedDatabase
    from hub.routing_parts import build_routing
    from hub.settings import DATA_DIR, REPO_DIR
    from mongo.cases import MongoCaseRepository
    from mongo.client import connect
    from mongo.indexes import ensure_indexes
    from mongo.people import MongoAgentRepository
    from routing.bot import BotAnswer, KbDecision
    from routing.config import load_routing_config
    from routing.customers import Identity, IdentityKind
    from routing.messages import InboundMessage

    class AskHuman:
        async def answer(self, text: str) -> BotAnswer:
            return BotAnswer("ask_human", 0.99, KbDecision.NONE)

        def status(self) -> dict[str, object]:
            return {}

    rows: list[object] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedDatabase(
            REPO_DIR / ".venv-db" / "bin" / "python", Path(tmp) / "acd.sqlite"
        )
        url = await server.start()
        client, db = connect(url, "bench_acd")
        try:
            await ensure_indexes(db)
            clock = FixedClock(datetime.now(UTC))
            tax = Taxonomy(load_taxonomy_file(DATA_DIR / "taxonomy.yaml"))
            config = load_routing_config(DATA_DIR / "routing.yaml")
            stack = build_routing(
                db,
                bot=AskHuman(),
                cases=CaseDesk(MongoCaseRepository(db), lambda: tax, DuePolicy(), clock),
                config=config,
                clock=clock,
                scheduler=ManualScheduler(clock),
            )
            from channels.rest import RestPollingSender

            stack.outbox.register("rest", RestPollingSender())
            for i in range(n):
                msg = InboundMessage(
                    "rest",
                    "bench",
                    f"m{i}",
                    Identity(IdentityKind.REST, f"u{i}"),
                    "转人工",
                    clock.now(),
                )
                await stack.router.handle_inbound(msg)
            agents = MongoAgentRepository(db)
            for i in range(max(1, n // 10)):
                await agents.upsert(
                    Agent(f"a{i}", f"a{i}", frozenset({Role.AGENT}), {"general": 5}, 10)
                )
            await stack.desk.load_agents()
            t = time.perf_counter()
            for i in range(max(1, n // 10)):
                await stack.acd.set_status(f"a{i}", AgentStatus.READY)
            elapsed = time.perf_counter() - t
            await stack.outbox.drain()
            assigned = await db["conversations"].count_documents({"state": "assigned"})
            rows = ["embedded (mongoeco/SQLite)", n, assigned, round(assigned / elapsed, 1)]
            await stack.outbox.close()
        finally:
            await client.drop_database("bench_acd")
            client.close()
            await server.stop()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    args = parser.parse_args()
    q = args.quick
    latency = [
        await decision_latency(100 if q else 1000, 1000 if q else 10_000, 200 if q else 2000)
    ]
    t1 = markdown_table(
        ["setup", "decisions", "p50 ms", "p99 ms", "assigned", "double assignments"], latency
    )
    sims = [
        await simulate(100 if q else 1000, 2000 if q else 50_000, s)
        for s in (Strategy.LEAST_RECENT, Strategy.FEWEST, Strategy.ROUND_ROBIN)
    ]
    t2 = markdown_table(
        [
            "strategy",
            "agents/conversations",
            "served",
            "double assignments",
            "max wait s",
            "mean wait s",
            "conversations per agent",
            "spread CV in a profile (max)",
            "wall s",
        ],
        sims,
    )
    persisted = [await persisted_rate(50 if q else 300)]
    t3 = markdown_table(["database", "conversations", "assigned", "assignments/s"], persisted)
    text = "\n\n".join(
        [
            "**Decision latency** (release a slot → dispatch pass → next conversation assigned, in memory):",
            t1,
            "**Simulation** (virtual clock, 90 % load, mean handle time 240 s, 7 queues, 6 agent profiles; "
            "the spread CV compares interchangeable agents of one profile, 0 = perfectly even):",
            t2,
            "**With persistence** (conditional update + customer notice per assignment):",
            t3,
        ]
    )
    print(text)
    update_section("acd", "ACD (bench/acd.py)", text)


if __name__ == "__main__":
    asyncio.run(main())
