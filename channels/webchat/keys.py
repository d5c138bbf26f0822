"""Typed application keys of the web-chat channel."""

from __future__ import annotations

from aiohttp import web

from channels.webchat.tokens import VisitorTokens
from channels.webchat.uploads import UploadStore
from channels.webchat.visitors import VisitorSockets

SOCKETS = web.AppKey("webchat_sockets", VisitorSockets)
TOKENS = web.AppKey("webchat_tokens", VisitorTokens)
UPLOADS = web.AppKey("webchat_uploads", UploadStore)
