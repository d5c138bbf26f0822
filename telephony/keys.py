"""The voice side's AppKeys (set by hub/voice_wiring.py)."""

from __future__ import annotations

from aiohttp import web

from telephony.call_records import CallRecordRepository
from telephony.recordings import RecordingStore
from telephony.runtime import VoiceRuntime
from telephony.webcall import WebCallConfig

VOICE = web.AppKey("voice", VoiceRuntime)
CALL_RECORDS = web.AppKey("call_records", CallRecordRepository)
RECORDINGS = web.AppKey("recordings", RecordingStore)
WEBCALL_CONFIG = web.AppKey("webcall_config", WebCallConfig)
