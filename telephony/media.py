"""What every call's audio path offers, whatever carries it (Asterisk AudioSocket, a browser
WebSocket): caller audio, DTMF digits and hang-up in; audio to play out.

Audio is signed 16-bit little-endian linear PCM, 8 kHz, mono ("slin"), the format AudioSocket
carries; a frame is 20 ms (320 bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2  # bytes, signed 16-bit little-endian
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * SAMPLE_WIDTH * FRAME_MS // 1000  # 320


@dataclass(frozen=True, slots=True)
class Audio:
    """Caller audio: slin 8 kHz mono, usually one 20 ms frame."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str  # one of 0-9 * # A-D


@dataclass(frozen=True, slots=True)
class Hangup:
    """The caller hung up or the transport closed; every later receive() returns it too."""

    reason: str = "hangup"


InboundFrame = Audio | Dtmf | Hangup


class AudioTransport(Protocol):
    """One call's audio path. Implementations: AudioSocket (telephony/audiosocket.py) and the
    browser test call's WebSocket (telephony/webcall.py)."""

    @property
    def call_id(self) -> str:
        """AudioSocket's UUID, or the web call's id."""
        ...

    async def receive(self) -> InboundFrame:
        """The next frame from the caller; Hangup once the path closed (and forever after)."""
        ...

    async def send(self, pcm: bytes) -> None:
        """Play slin audio to the caller. Callers pace it in real time (one frame per 20 ms);
        the transport sends what it is given at once."""
        ...

    async def close(self) -> None:
        """Hang up our side (AudioSocket: a 0x00 frame, then close)."""
        ...
