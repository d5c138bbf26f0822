"""Typed application keys of the web-chat channel."""

from __future__ import annotations

from aiohttp import web

from channels.webchat.tokens import VisitorTokens
from channels.webchat.transcripts import SendTranscript
from channels.webchat.uploads import UploadStore
from channels.webchat.verification import ContactVerifier
from channels.webchat.visitors import VisitorSockets
from mongo.ratings import MongoRatingRepository

SOCKETS = web.AppKey("webchat_sockets", VisitorSockets)
TOKENS = web.AppKey("webchat_tokens", VisitorTokens)
UPLOADS = web.AppKey("webchat_uploads", UploadStore)
VERIFIER = web.AppKey("webchat_verifier", ContactVerifier)
TRANSCRIPTS = web.AppKey("webchat_transcripts", SendTranscript)
RATINGS = web.AppKey("webchat_ratings", MongoRatingRepository)
