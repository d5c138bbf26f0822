"""Typed application keys for everything agent_web handlers read from the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from agent_web.canned import CannedReplyRepository
from agent_web.case_files import CaseFileStore
from agent_web.config import InboxConfig
from agent_web.kb_panel import KbSearch
from agent_web.login_guard import LoginGuard
from agent_web.offer_book import OfferBook
from agent_web.sessions import SessionDesk
from agent_web.sockets import SocketRegistry
from cases.catalogue import CatalogueDesk
from cases.departments import DepartmentRepository
from cases.desk import CaseDesk, CaseRepository
from cases.search import CaseFinder
from cases.sla import SlaPolicy
from cases.taxonomy import Taxonomy
from kb.service import KnowledgeBase
from primitives.clock import Clock
from routing.agent_desk import AgentDesk
from routing.agents import AgentRepository
from routing.assignment import Acd
from routing.conversation_model import ConversationRepository
from routing.customers import CustomerRepository
from routing.events import EventBus
from routing.messages import MessageRepository
from routing.outbox import Outbox
from routing.position_watch import PositionWatch
from routing.router import Router

INBOX_CONFIG = web.AppKey("inbox_config", InboxConfig)  # what the inbox reads of the settings
CLOCK = web.AppKey("clock", Clock)
DB_KIND = web.AppKey("db_kind", str)  # "embedded" or "mongodb"
# Does the database answer (within a couple of seconds)? Set by the composition root.
DATABASE_UP = web.AppKey("database_up", Callable[[], Awaitable[bool]])
CUSTOMERS = web.AppKey("customers", CustomerRepository)
MESSAGES = web.AppKey("messages", MessageRepository)
CASES = web.AppKey("cases", CaseRepository)
CASE_DESK = web.AppKey("case_desk", CaseDesk)
TAXONOMY = web.AppKey("taxonomy", list[Taxonomy])  # one-element holder: replaced on edit
# The case workbench and department portal (set by the composition root: hub/case_wiring.py).
CASE_FINDER = web.AppKey("case_finder", CaseFinder)  # worklists, search, similar, wallboard
CATALOGUE = web.AppKey("catalogue", CatalogueDesk)  # 派单目录: suggestions, admin edits
DEPARTMENTS = web.AppKey("departments", DepartmentRepository)
SLA = web.AppKey("sla", SlaPolicy)  # the light of each case, on the holiday calendar
CASE_FILES = web.AppKey("case_files", CaseFileStore)  # files attached to cases
# name -> async probe returning a JSON-able status (nlu backend, channels …)
HEALTH_PROBES = web.AppKey("health_probes", dict[str, Callable[[], Awaitable[dict[str, object]]]])

# ---------------------------------------------------------------- the routing services
# Read by the inbox and by every channel (channels import these keys; agent_web imports no
# channel).
ROUTER = web.AppKey("router", Router)  # inbound messages, replies, the conversation book
AGENT_DESK = web.AppKey("agent_desk", AgentDesk)  # what agents do to conversations
ACD = web.AppKey("acd", Acd)  # queues, presence, offers
OUTBOX = web.AppKey("outbox", Outbox)  # every outbound message: store, send, retry
EVENTS = web.AppKey("events", EventBus)
CONVERSATIONS = web.AppKey("conversations", ConversationRepository)
POSITIONS = web.AppKey("positions", PositionWatch)  # queue positions told to waiting citizens

# ---------------------------------------------------------------- the agents' inbox
SESSIONS = web.AppKey("sessions", SessionDesk)
LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)
AGENTS = web.AppKey("agents", AgentRepository)  # the record; the desk keeps agents in memory
CANNED_REPLIES = web.AppKey("canned_replies", CannedReplyRepository)
OFFERS = web.AppKey("offers", OfferBook)  # offer deadlines, as the bus announced them
SOCKETS = web.AppKey("agent_sockets", SocketRegistry)
# Optional: set by the composition root once the knowledge base exists (issue #5).
# Absent: the inbox's KB panel says 知识库未加载.
KB_SEARCH = web.AppKey("kb_search", KbSearch)
# The editable knowledge base (admin article CRUD); absent when a test injects its own bot.
KNOWLEDGE_BASE = web.AppKey("knowledge_base", KnowledgeBase)
