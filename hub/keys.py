"""Typed application keys only the composition root (and, for now, some channels) reads:
the settings and the database handles. agent_web never reads these."""

from __future__ import annotations

from aiohttp import web

from hub.settings import Settings
from mongo.client import Client, Database
from mongo.command_timing import CommandTimer

SETTINGS = web.AppKey("settings", Settings)
MONGO_CLIENT = web.AppKey("mongo_client", Client)
DB = web.AppKey("db", Database)
DB_TIMER = web.AppKey("db_timer", CommandTimer)  # the driver's command durations → /metrics
