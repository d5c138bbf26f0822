"""Typed application keys for what channel handlers read from the app."""

from __future__ import annotations

from aiohttp import web

from hub.routing_stack import RoutingStack

ROUTING = web.AppKey("routing", RoutingStack)
REST_TOKEN = web.AppKey("rest_token", str)  # empty: no token (open only on a loopback HUB_HOST)
