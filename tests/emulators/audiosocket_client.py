"""Asterisk's side of an AudioSocket connection, for tests.

It frames bytes itself (not with telephony.audiosocket) so that a codec bug cannot hide behind
the same bug on both ends. Like Asterisk's res_audiosocket it sends the UUID first, then audio,
DTMF and a hang-up; it reads the server's audio and treats a hang-up frame, a closed socket or
any other frame (an 0xff error, an empty audio frame) as the end of the call.

Speech for tests is rendered with espeak-ng and converted to slin 8 kHz with sox.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import struct
import subprocess
import tempfile
import uuid
from pathlib import Path

FRAME_BYTES = 320  # 20 ms of slin 8 kHz mono
SLIN_BYTES_PER_MS = 16
_HANGUP, _UUID, _DTMF, _AUDIO, _ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
_HEADER = struct.Struct(">BH")


def _frame(kind: int, payload: bytes = b"") -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


class AudioSocketClient:
    """One call as Asterisk places it. Use `await AudioSocketClient.connect(...)`."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, call_uuid: uuid.UUID
    ) -> None:
        self.call_uuid = call_uuid
        self.closed = asyncio.Event()  # the server ended the call (or the socket closed)
        self.hangup_received = False
        self.error_codes: list[int | None] = []  # from 0xff frames (None: no code)
        self.unexpected_kinds: list[int] = []  # frames Asterisk would refuse
        self._reader = reader
        self._writer = writer
        self._audio = bytearray()
        self._progress = asyncio.Event()  # set on new audio or on close
        self._reading = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(
        cls, host: str, port: int, call_uuid: uuid.UUID | None = None
    ) -> AudioSocketClient:
        """Connect and send the UUID frame (a random UUID unless one is given)."""
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer, call_uuid or uuid.uuid4())
        await client.send_raw(_frame(_UUID, client.call_uuid.bytes))
        return client

    async def __aenter__(self) -> AudioSocketClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop()

    async def send_audio(self, pcm: bytes, *, realtime: bool = False) -> None:
        """Send slin in 20 ms frames (the last one carries the remainder as is); with
        `realtime`, one frame per 20 ms as Asterisk does."""
        for i in range(0, len(pcm), FRAME_BYTES):
            if realtime and i:
                await asyncio.sleep(0.02)
            await self.send_raw(_frame(_AUDIO, pcm[i : i + FRAME_BYTES]))

    async def send_dtmf(self, digit: str) -> None:
        await self.send_raw(_frame(_DTMF, digit.encode("ascii")))

    async def hangup(self) -> None:
        """Send the hang-up frame and close, as Asterisk does when the caller hangs up."""
        with contextlib.suppress(OSError):
            await self.send_raw(_frame(_HANGUP))
        await self.drop()

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are: for malformed frames."""
        self._writer.write(data)
        await self._writer.drain()

    async def drop(self) -> None:
        """Close the socket without a hang-up frame (a network cut, a crashed Asterisk)."""
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        self._reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reading
        self._mark_closed()

    def received_audio(self) -> bytes:
        """All audio payload bytes the server sent so far."""
        return bytes(self._audio)

    async def wait_for_audio(self, min_bytes: int, timeout_s: float = 5.0) -> bytes:
        """The audio received once at least `min_bytes` arrived. Raises TimeoutError, or
        ConnectionError if the call ended first."""
        async with asyncio.timeout(timeout_s):
            while len(self._audio) < min_bytes:
                if self.closed.is_set():
                    raise ConnectionError(f"call ended after {len(self._audio)} audio bytes")
                self._progress.clear()
                await self._progress.wait()
        return self.received_audio()

    async def wait_closed(self, timeout_s: float = 5.0) -> None:
        """Until the server ends the call. Raises TimeoutError."""
        async with asyncio.timeout(timeout_s):
            await self.closed.wait()

    async def _read_loop(self) -> None:
        try:
            while await self._read_one():
                pass
        except (asyncio.IncompleteReadError, OSError):
            pass  # the server closed the socket: that ends the call too
        finally:
            self._writer.close()
            self._mark_closed()

    async def _read_one(self) -> bool:
        """Handle one frame from the server; False when the call is over."""
        kind, length = _HEADER.unpack(await self._reader.readexactly(_HEADER.size))
        # Asterisk reads no payload after a hang-up header; everything else has one.
        if kind == _HANGUP:
            self.hangup_received = True
            return False
        payload = await self._reader.readexactly(length) if length else b""
        if kind == _AUDIO and payload:
            self._audio += payload
            self._progress.set()
            return True
        if kind == _ERROR:
            self.error_codes.append(payload[0] if payload else None)
        else:
            self.unexpected_kinds.append(kind)
        return False

    def _mark_closed(self) -> None:
        self.closed.set()
        self._progress.set()


def silence(ms: int) -> bytes:
    """`ms` milliseconds of slin silence."""
    return bytes(ms * SLIN_BYTES_PER_MS)


@functools.cache
def speech_pcm(text: str, voice: str = "cmn") -> bytes:
    """`text` spoken by espeak-ng, as slin 8 kHz 16-bit mono. Blocking (runs two programs)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav, raw = Path(tmp) / "speech.wav", Path(tmp) / "speech.raw"
        subprocess.run(
            ["/usr/bin/espeak-ng", "-v", voice, "-w", str(wav), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        subprocess.run(
            [
                *("/usr/bin/sox", str(wav), "-r", "8000", "-c", "1", "-b", "16"),
                *("-e", "signed-integer", "-t", "raw", str(raw)),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return raw.read_bytes()
