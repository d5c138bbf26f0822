"""The voice side at run time: every call, whatever carries it (an Asterisk AudioSocket
connection, a browser test call), runs the same IVR flow on the same services.

Asterisk calls arrive twice: ARI says a caller entered the app (caller id, dialed number) and
Asterisk then connects to the AudioSocket server with the call's UUID. The call starts when
both are there; an AudioSocket connection with an unknown UUID (a dialplan that runs
AudioSocket() without Stasis) is served as a call without a caller id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from routing.outbox import OutboundMessage
from telephony.ari_calls import AriCalls
from telephony.ivr.call_media import CallMedia
from telephony.ivr.engine import IvrEngine
from telephony.ivr.flow import Flow
from telephony.ivr.services import CallInfo
from telephony.media import AudioTransport
from telephony.speech.interfaces import SpeechRecognition, Synthesizer
from telephony.voice_calls import VoiceCalls
from telephony.webcall import WebCallControl

log = logging.getLogger(__name__)

ARRIVAL_WAIT_S = 5.0  # how long an AudioSocket connection waits for ARI's word on its call


@dataclass(frozen=True, slots=True)
class Arrival:
    caller: str
    dialed: str


class VoiceNotices:
    """The outbox's sender for channel "voice": a caller is on the phone with the agent, so a
    typed message is not read out; a browser test caller sees it on the page."""

    def __init__(self, runtime: VoiceRuntime) -> None:
        self._runtime = runtime

    async def send(self, message: OutboundMessage) -> None:
        call = self._runtime.calls.call_for_conversation(message.conversation_id)
        transport = self._runtime.transport(call.info.call_id) if call else None
        caption = getattr(transport, "caption", None)
        if caption is not None:
            await caption(message.text)


class CaptionedSynthesizer:
    """The synthesizer of one web call: each prompt's text is also shown on the page."""

    def __init__(self, inner: Synthesizer, transport: AudioTransport) -> None:
        self._inner = inner
        self._transport = transport

    async def render(self, text: str) -> bytes:
        caption = getattr(self._transport, "caption", None)
        if caption is not None and text:
            await caption(text)
        return await self._inner.render(text)


class VoiceRuntime:
    def __init__(
        self,
        *,
        calls: VoiceCalls,
        flows: Mapping[str, Flow],
        speech: SpeechRecognition | None,
        tts: Synthesizer,
        flow_name: str = "hotline",
    ) -> None:
        self.calls = calls
        self.flows = dict(flows)
        self.speech = speech
        self.tts = tts
        self.flow_name = flow_name
        self.engine = IvrEngine(self.flows, calls)
        self.web_calls: WebCallControl | None = None  # the browser test call's control
        self.ari: AriCalls | None = None  # Asterisk, when ARI_URL is set
        self._arrivals: dict[str, asyncio.Future[Arrival]] = {}
        self._transports: dict[str, AudioTransport] = {}

    def transport(self, call_id: str) -> AudioTransport | None:
        return self._transports.get(call_id)

    @property
    def speech_on(self) -> bool:
        return self.speech is not None

    async def run_call(
        self, transport: AudioTransport, *, caller: str, dialed: str, kind: str
    ) -> None:
        """Serve one call until it ends (never raises: a failing call is logged and hung up)."""
        info = CallInfo(transport.call_id, caller, dialed)
        self._transports[info.call_id] = transport
        tts: Synthesizer = CaptionedSynthesizer(self.tts, transport)
        try:
            await self.calls.begin(info, kind)
            async with CallMedia(transport, self.speech, tts) as media:
                await self.engine.run(info, media, self.flow_name)
        except Exception:
            log.exception("voice.call_failed", extra={"call": info.call_id})
            await self.calls.ended(info, "error")
        finally:
            self._transports.pop(info.call_id, None)
            await transport.close()

    # ------------------------------------------------ Asterisk: ARI + AudioSocket

    def _arrival(self, call_id: str) -> asyncio.Future[Arrival]:
        future = self._arrivals.get(call_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._arrivals[call_id] = future
        return future

    async def caller_arrived(self, call_id: str, caller: str, dialed: str) -> None:
        """ARI: a caller entered the app; its AudioSocket connection follows."""
        future = self._arrival(call_id)
        if not future.done():
            future.set_result(Arrival(caller, dialed))

    async def caller_gone(self, call_id: str) -> None:
        """ARI: the caller hung up; end the IVR side even if the media channel lingers."""
        self._arrivals.pop(call_id, None)
        transport = self._transports.get(call_id)
        if transport is not None:
            await transport.close()

    async def audiosocket_call(self, transport: AudioTransport) -> None:
        """The AudioSocket server's callback for each connection. Keys arrive on the socket
        too (0x03 frames, checked on Asterisk 22), so ARI's DTMF events are not needed."""
        future = self._arrival(transport.call_id)
        try:
            arrival = await asyncio.wait_for(asyncio.shield(future), ARRIVAL_WAIT_S)
        except TimeoutError:
            arrival = Arrival("", "")
        finally:
            self._arrivals.pop(transport.call_id, None)
        await self.run_call(
            transport, caller=arrival.caller, dialed=arrival.dialed, kind="audiosocket"
        )
