"""A full routing stack on the test database, with a fake bot, a recording channel sender,
a fixed clock and hand-stepped timers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from cases.desk import CaseDesk
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from hub.routing_parts import RoutingParts, build_routing
from hub.settings import DATA_DIR
from mongo.cases import MongoCaseRepository
from mongo.client import Database
from mongo.people import MongoAgentRepository
from primitives.clock import FixedClock
from routing.agents import Agent, Role
from routing.config import RoutingConfig, load_routing_config
from routing.customers import Identity, IdentityKind
from routing.messages import InboundMessage
from routing.presence import AgentStatus
from routing.timers import ManualScheduler
from routing.turns import InboundResult
from tests.fakes.bot import FakeBot
from tests.fakes.channels import RecordingSender

TAXONOMY = Taxonomy(load_taxonomy_file(DATA_DIR / "taxonomy.yaml"))
# A Tuesday, 10:00 in Beijing: inside office hours.
TUESDAY_10 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@dataclass
class Hub:
    stack: RoutingParts
    clock: FixedClock
    timers: ManualScheduler
    sender: RecordingSender
    bot: FakeBot
    db: Database
    seq: int = 0

    async def say(
        self, who: str, text: str, channel: str = "rest", msg_id: str | None = None
    ) -> InboundResult:
        self.seq += 1
        msg = InboundMessage(
            channel=channel,
            account="test",
            provider_id=msg_id or f"m{self.seq}",
            identity=Identity(IdentityKind.REST, who),
            text=text,
            received_at=self.clock.now(),
        )
        return await self.stack.router.handle_inbound(msg)

    async def agent(
        self,
        login: str,
        skills: dict[str, int],
        *,
        roles: frozenset[Role] = frozenset({Role.AGENT}),
        max_chats: int = 3,
        ready: bool = True,
    ) -> None:
        await MongoAgentRepository(self.db).upsert(
            Agent(login, f"客服{login}", roles, skills, max_chats)
        )
        await self.stack.desk.refresh_agent(login)
        if ready:
            await self.stack.desk.set_status(login, AgentStatus.READY)

    async def advance(self, seconds: float) -> None:
        target = self.clock.now() + timedelta(seconds=seconds)
        while (due := self.timers.next_due()) is not None and due <= target:
            self.clock.set(max(due, self.clock.now()))
            await self.timers.run_due()
        self.clock.set(target)
        await self.timers.run_due()

    async def delivered(self) -> list[str]:
        await self.stack.outbox.drain()
        return self.sender.texts()


def routing_config(**overrides: object) -> RoutingConfig:
    config = load_routing_config(DATA_DIR / "routing.yaml")
    return replace(config, **overrides)  # type: ignore[arg-type]


async def make_hub(db: Database, config: RoutingConfig | None = None) -> Hub:
    clock = FixedClock(TUESDAY_10)
    timers = ManualScheduler(clock)
    bot = FakeBot()
    cases = CaseDesk(MongoCaseRepository(db), lambda: TAXONOMY, DuePolicy(), clock)
    stack = build_routing(
        db,
        bot=bot,
        cases=cases,
        config=config or routing_config(),
        clock=clock,
        scheduler=timers,
        outbox_backoff_s=(0, 0, 0),
        rng=random.Random(1),
    )
    sender = RecordingSender()
    stack.outbox.register("rest", sender)
    stack.outbox.register("wechat", sender)
    await stack.desk.restore()
    return Hub(stack, clock, timers, sender, bot, db)


@pytest_asyncio.fixture(loop_scope="session")
async def hub(db: Database) -> AsyncIterator[Hub]:
    h = await make_hub(db)
    yield h
    await h.stack.outbox.close()
