"""Typed application keys of the web-chat channel."""

from __future__ import annotations

from aiohttp import web

from channels.webchat.config import WebchatConfig
from channels.webchat.records import (
    RatingRepository,
    TranscriptRequestRepository,
    UploadRepository,
    VerificationRepository,
)
from channels.webchat.tokens import VisitorTokens
from channels.webchat.transcripts import SendTranscript
from channels.webchat.uploads import UploadStore
from channels.webchat.verification import ContactVerifier
from channels.webchat.visitors import VisitorSockets

CONFIG = web.AppKey("webchat_config", WebchatConfig)
SOCKETS = web.AppKey("webchat_sockets", VisitorSockets)
TOKENS = web.AppKey("webchat_tokens", VisitorTokens)
UPLOADS = web.AppKey("webchat_uploads", UploadStore)
VERIFIER = web.AppKey("webchat_verifier", ContactVerifier)
TRANSCRIPTS = web.AppKey("webchat_transcripts", SendTranscript)

# The channel's repositories: set by the hub before the channel starts.
UPLOAD_RECORDS = web.AppKey("webchat_upload_records", UploadRepository)
VERIFICATIONS = web.AppKey("webchat_verifications", VerificationRepository)
TRANSCRIPT_REQUESTS = web.AppKey("webchat_transcript_requests", TranscriptRequestRepository)
RATINGS = web.AppKey("webchat_ratings", RatingRepository)
