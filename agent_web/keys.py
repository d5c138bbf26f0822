"""Typed application keys for everything agent_web handlers read from the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.clock import Clock
from hub.settings import Settings
from mongo.client import Client, Database
from routing.cases import CaseDesk, CaseRepository
from routing.customers import CustomerRepository
from routing.messages import MessageRepository
from routing.taxonomy import Taxonomy

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
MONGO_CLIENT = web.AppKey("mongo_client", Client)
DB = web.AppKey("db", Database)
DB_KIND = web.AppKey("db_kind", str)  # "embedded" or "mongodb"
CUSTOMERS = web.AppKey("customers", CustomerRepository)
MESSAGES = web.AppKey("messages", MessageRepository)
CASES = web.AppKey("cases", CaseRepository)
CASE_DESK = web.AppKey("case_desk", CaseDesk)
TAXONOMY = web.AppKey("taxonomy", list[Taxonomy])  # one-element holder: replaced on edit
# name -> async probe returning a JSON-able status (nlu backend, channels …)
HEALTH_PROBES = web.AppKey("health_probes", dict[str, Callable[[], Awaitable[dict[str, object]]]])
