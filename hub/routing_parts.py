"""Builds the routing services from their parts: used by the app factory (which puts each
service under its own key) and by tests alike."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cases.desk import CaseDesk
from cases.status import CaseStatusDesk
from mongo.cases import MongoCaseRepository
from mongo.client import Database
from mongo.conversations import MongoConversationRepository
from mongo.customers import MongoCustomerRepository
from mongo.messages import MongoMessageRepository
from mongo.people import MongoAgentRepository
from mongo.presence_log import MongoPresenceLog
from primitives.clock import Clock
from routing.agent_desk import AgentDesk
from routing.assignment import Acd
from routing.bot import Bot
from routing.config import RoutingConfig
from routing.conversation_book import ConversationBook
from routing.events import InProcessEventBus
from routing.outbox import Outbox
from routing.pending_dialogs import PendingDialogs
from routing.position_watch import PositionWatch
from routing.presence import Presence
from routing.router import Router
from routing.timers import Scheduler


@dataclass
class RoutingParts:
    router: Router
    desk: AgentDesk
    acd: Acd
    outbox: Outbox
    bus: InProcessEventBus
    messages: MongoMessageRepository
    conversations: MongoConversationRepository
    customers: MongoCustomerRepository
    positions: PositionWatch


def build_routing(
    db: Database,
    *,
    bot: Bot,
    cases: CaseDesk,
    config: RoutingConfig,
    clock: Clock,
    scheduler: Scheduler,
    outbox_backoff_s: tuple[float, ...] = (1, 2, 5, 15, 60),
    rng: random.Random | None = None,
) -> RoutingParts:
    messages = MongoMessageRepository(db)
    conversations = MongoConversationRepository(db)
    customers = MongoCustomerRepository(db)
    bus = InProcessEventBus()
    outbox = Outbox(messages, clock, backoff_s=outbox_backoff_s)
    acd = Acd(config, Presence(), clock, scheduler, None, bus, rng)
    router = Router(
        config=config,
        customers=customers,
        book=ConversationBook(conversations, messages),
        messages=messages,
        bot=bot,
        acd=acd,
        outbox=outbox,
        bus=bus,
        clock=clock,
        scheduler=scheduler,
        dialogs=PendingDialogs(cases),
        case_status=CaseStatusDesk(MongoCaseRepository(db)),
    )
    desk = AgentDesk(router, MongoAgentRepository(db), MongoPresenceLog(db))
    positions = PositionWatch(acd, bus, clock, scheduler)
    return RoutingParts(
        router, desk, acd, outbox, bus, messages, conversations, customers, positions
    )
