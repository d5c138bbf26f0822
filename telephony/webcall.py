"""The browser test call: a page streams the microphone (or a chosen WAV file) over a
WebSocket to the same IVR engine that serves Asterisk's calls, so a new user hears the IVR
and reaches an agent without a PBX.

Socket protocol (/api/v1/webcall/socket):
  client → hub  binary: slin 8 kHz mono audio (any length, usually 20 ms frames)
                text:   {"type": "dtmf", "digit": "1"} | {"type": "hangup"}
  hub → client  binary: slin 8 kHz audio to play
                text:   {"type": "call", "call_id"} first, then {"type": "caption", "text"}
                        for each prompt spoken and {"type": "ended"} at the end.

A web caller has no caller id: the call is anonymous (its own identity), so nobody can hear
another person's case progress by claiming their number. Only a demo hub (HUB_DEMO) lets the
page pick a caller number, to show the caller lookup.

There is no PBX to ring an agent's phone: WebCallControl "connects" the agent by telling the
caller and keeping the caller's audio while the agent is on, which becomes the recording."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from primitives.ids import new_id
from primitives.phone import PhoneNumber
from telephony.media import FRAME_BYTES, Audio, Dtmf, Hangup, InboundFrame
from telephony.recordings import slin_to_wav

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16_000  # one second of audio per message at most
_DIGITS = frozenset("0123456789*#")


@dataclass(frozen=True, slots=True)
class WebCallConfig:
    demo: bool = False  # the page may choose a caller number
    dialed: str = "12345"


class WebSocketTransport:
    """AudioTransport over the browser's WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, call_id: str) -> None:
        self._ws = ws
        self._call_id = call_id
        self._inbound: asyncio.Queue[InboundFrame] = asyncio.Queue(maxsize=500)
        self._closed = False
        self.recording: bytearray | None = None  # caller audio while an agent is on

    @property
    def call_id(self) -> str:
        return self._call_id

    async def receive(self) -> InboundFrame:
        if self._closed and self._inbound.empty():
            return Hangup()
        frame = await self._inbound.get()
        if isinstance(frame, Hangup):
            self._closed = True
            self._inbound.put_nowait(frame)  # every later receive() sees it too
        return frame

    async def send(self, pcm: bytes) -> None:
        if self._ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.send_bytes(pcm)

    async def caption(self, text: str) -> None:
        await self.notify({"type": "caption", "text": text})

    async def notify(self, body: dict[str, str]) -> None:
        if self._ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.send_str(json.dumps(body, ensure_ascii=False))

    async def close(self) -> None:
        await self.notify({"type": "ended"})
        self.hang_up("hub")
        await self._ws.close()

    # ------------------------------------------------ fed by the socket reader

    def heard_audio(self, pcm: bytes) -> None:
        pcm = pcm[: len(pcm) - len(pcm) % 2]
        if self.recording is not None:
            self.recording.extend(pcm)
        for i in range(0, len(pcm), FRAME_BYTES):
            self._put(Audio(pcm[i : i + FRAME_BYTES]))

    def heard_digit(self, digit: str) -> None:
        self._put(Dtmf(digit))

    def hang_up(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self._inbound.put_nowait(Hangup(reason))

    def _put(self, frame: InboundFrame) -> None:
        try:
            self._inbound.put_nowait(frame)
        except asyncio.QueueFull:  # the IVR fell behind: drop audio rather than memory
            log.debug("webcall.frame_dropped", extra={"call": self._call_id})


class WebCallControl:
    """CallControl for browser calls: no phone to ring, the agent works the call in the inbox."""

    def __init__(self) -> None:
        self._calls: dict[str, WebSocketTransport] = {}
        self._agents: dict[str, str] = {}  # call id -> agent login
        self.recording_ready: list = []  # callbacks (call_id, wav, agent)

    def add(self, transport: WebSocketTransport) -> None:
        self._calls[transport.call_id] = transport

    def remove(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    async def connect_agent(self, call_id: str, login: str, endpoint: str) -> bool:
        transport = self._calls.get(call_id)
        if transport is None:
            return False
        transport.recording = bytearray()
        self._agents[call_id] = login
        await transport.notify({"type": "agent", "agent": login})
        return True

    async def drop_agent(self, call_id: str) -> None:
        transport = self._calls.get(call_id)
        login = self._agents.pop(call_id, "")
        if transport is None or transport.recording is None:
            return
        audio, transport.recording = bytes(transport.recording), None
        for ready in self.recording_ready:
            await ready(call_id, slin_to_wav(audio), login)

    async def hold(self, call_id: str, on: bool) -> None:
        transport = self._calls.get(call_id)
        if transport is not None:
            await transport.notify({"type": "hold", "on": "1" if on else ""})

    async def hangup(self, call_id: str) -> None:
        transport = self._calls.get(call_id)
        if transport is not None:
            await transport.close()


def caller_number(request: web.Request, config: WebCallConfig) -> str:
    """The caller id of a web call: none, except on a demo hub that was given one."""
    if not config.demo:
        return ""
    try:
        return PhoneNumber.parse(request.query.get("caller", "")).e164
    except ValueError:
        return ""


async def read_socket(ws: web.WebSocketResponse, transport: WebSocketTransport) -> None:
    """Feed the transport from the browser until it hangs up; bad input ends the call politely."""
    try:
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                if len(msg.data) > MAX_FRAME_BYTES:
                    await _refuse(ws, "音频数据过大")
                    break
                transport.heard_audio(msg.data)
            elif msg.type is WSMsgType.TEXT:
                body = _decode(msg.data)
                kind = body.get("type") if body else None
                if kind == "dtmf" and body and str(body.get("digit")) in _DIGITS:
                    transport.heard_digit(str(body["digit"]))
                elif kind == "hangup":
                    break
                else:
                    await _refuse(ws, "无法识别的消息")
            else:
                break
    finally:
        transport.hang_up("caller")


async def _refuse(ws: web.WebSocketResponse, text: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(json.dumps({"type": "error", "text": text}, ensure_ascii=False))


def _decode(raw: str) -> dict | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def new_call_id() -> str:
    return f"web-{new_id()}"
