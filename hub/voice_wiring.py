"""The voice side wired into the hub: call records and recordings (MongoDB, disk), the IVR
flows, speech (Vosk when VOSK_MODEL is set) and synthesis (espeak-ng), the browser test call,
and, with ARI_URL set, Asterisk through ARI plus the AudioSocket server its calls stream to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from agent_web.keys import AGENT_DESK, AGENTS, CASE_DESK, HEALTH_PROBES, OUTBOX, ROUTER
from cases.status import CaseStatusDesk
from hub.keys import DB, SETTINGS
from hub.settings import Settings
from mongo.calls import MongoCallRecordRepository
from telephony import routes
from telephony.ari.client import AriClient
from telephony.ari_calls import AriCalls
from telephony.audiosocket import AudioSocketServer
from telephony.ivr.flow import load_flows
from telephony.keys import CALL_RECORDS, RECORDINGS, VOICE, WEBCALL_CONFIG
from telephony.recordings import RecordingStore
from telephony.runtime import VoiceNotices, VoiceRuntime
from telephony.speech.espeak_tts import EspeakSynthesizer, tts_available
from telephony.speech.vosk_asr import load_speech
from telephony.voice_calls import CHANNEL, VoiceCalls
from telephony.webcall import WebCallConfig, WebCallControl

log = logging.getLogger(__name__)


def install_voice(app: web.Application, settings: Settings) -> None:
    routes.add_routes(app)
    app[WEBCALL_CONFIG] = WebCallConfig(demo=settings.hub_demo, dialed=settings.voice_dialed)
    app.cleanup_ctx.append(open_voice)


async def open_voice(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    flows = await asyncio.to_thread(load_flows, settings.ivr_flows)  # FlowError names the step
    speech = await asyncio.to_thread(load_speech, settings.vosk_model)
    if not tts_available():
        raise RuntimeError(
            "espeak-ng is not installed: the IVR cannot speak (apt install espeak-ng)"
        )
    tts = EspeakSynthesizer(settings.hub_var_dir / "tts-cache", rate_wpm=settings.voice_tts_rate)
    router = app[ROUTER]
    records = MongoCallRecordRepository(app[DB])
    recordings = RecordingStore(settings.hub_var_dir / "recordings")
    calls = VoiceCalls(
        router=router,
        desk=app[AGENT_DESK],
        agents=app[AGENTS],
        cases=app[CASE_DESK],
        case_status=router.case_status or CaseStatusDesk(app[CASE_DESK].cases),
        records=records,
        recordings=recordings,
        dialed=settings.voice_dialed,
    )
    runtime = VoiceRuntime(calls=calls, flows=flows, speech=speech, tts=tts)
    web_calls = WebCallControl()
    web_calls.recording_ready.append(calls.recording_ready)
    calls.add_control("webcall", web_calls)
    runtime.web_calls = web_calls
    app[VOICE], app[CALL_RECORDS], app[RECORDINGS] = runtime, records, recordings
    app[OUTBOX].register(CHANNEL, VoiceNotices(runtime))
    tasks = [asyncio.create_task(calls.relay(), name="voice-relay")]
    server: AudioSocketServer | None = None
    ari: AriClient | None = None
    ari_calls: AriCalls | None = None
    if settings.ari_url:
        server = AudioSocketServer(runtime.audiosocket_call)
        await server.start(settings.audiosocket_host, settings.audiosocket_port)
        media_host = settings.voice_media_host or f"{settings.audiosocket_host}:{server.port}"
        password = settings.ari_password.get_secret_value() if settings.ari_password else ""
        ari = AriClient(settings.ari_url, settings.ari_user, password, settings.ari_app)
        ari_calls = AriCalls(
            ari,
            media_host,
            caller_arrived=runtime.caller_arrived,
            caller_gone=runtime.caller_gone,
            agent_left=calls.agent_left,
            recording_ready=calls.recording_ready,
        )
        calls.add_control("audiosocket", ari_calls)
        runtime.ari = ari_calls
        tasks.append(asyncio.create_task(ari_calls.run(), name="ari-events"))
        log.info(
            "voice.asterisk",
            extra={"ari": settings.ari_url, "audiosocket": server.port, "media_host": media_host},
        )
    app[HEALTH_PROBES]["voice"] = _probe(runtime, ari_calls, configured=bool(settings.ari_url))
    log.info("voice.ready", extra={"flows": sorted(flows), "speech": speech is not None})
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if server is not None:
        await server.stop()
    if ari is not None:
        await ari.close()


def _probe(
    runtime: VoiceRuntime, ari: AriCalls | None, *, configured: bool
) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def probe() -> dict[str, Any]:
        body: dict[str, Any] = {
            "speech": "on" if runtime.speech_on else "off (VOSK_MODEL unset: DTMF only)",
            "active_calls": runtime.calls.active,
            "asterisk": "not configured" if not configured else "connected",
        }
        if ari is not None and not ari.connected:
            body["asterisk"] = "disconnected"
            body["degraded"] = True
        return body

    return probe
