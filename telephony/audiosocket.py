"""Asterisk AudioSocket: the frame codec, one call's transport and the TCP server Asterisk
dials (`AudioSocket(${UUID},host:port)` or an ARI externalMedia channel).

A frame is 1 byte kind, 2 bytes payload length (big-endian), then the payload. Asterisk sends
the call's UUID first, then audio (slin 8 kHz, 20 ms = 320 bytes), DTMF digits and a hang-up.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum

from primitives.errors import HubError
from primitives.tasks import BackgroundTasks
from telephony.media import FRAME_BYTES, Audio, Dtmf, Hangup, InboundFrame

log = logging.getLogger(__name__)

MAX_PAYLOAD = 0xFFFF
DTMF_DIGITS = frozenset("0123456789*#ABCD")

# Our own error codes in 0xff frames. Asterisk's codes are 0x01/0x02/0x04; ours stay clear of
# them. Asterisk ends the call on any 0xff frame it receives, which is what a refusal needs.
ERROR_BUSY = 0x81  # the connection limit is reached
ERROR_UNSUPPORTED_AUDIO = 0x82  # audio at a rate other than 8 kHz

_HEADER = struct.Struct(">BH")
_STOP_GRACE_S = 2.0  # how long stop() lets callbacks notice their Hangup before cancelling


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10  # slin 8 kHz, the only rate we take
    AUDIO_12K = 0x11  # 0x11-0x18: newer Asterisk, slin at higher rates
    AUDIO_16K = 0x12
    AUDIO_24K = 0x13
    AUDIO_32K = 0x14
    AUDIO_44K = 0x15
    AUDIO_48K = 0x16
    AUDIO_96K = 0x17
    AUDIO_192K = 0x18
    ERROR = 0xFF


HIGHER_RATE_AUDIO = frozenset(k for k in Kind if Kind.AUDIO < k < Kind.ERROR)
_PAYLOAD_SIZES: dict[Kind, frozenset[int]] = {
    Kind.HANGUP: frozenset({0}),
    Kind.UUID: frozenset({16}),
    Kind.DTMF: frozenset({1}),
    Kind.ERROR: frozenset({0, 1}),  # the error code is optional in the spec
}


class ProtocolError(HubError):
    """The peer sent bytes that are not a valid AudioSocket frame."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: Kind
    payload: bytes = b""


def encode_frame(kind: Kind, payload: bytes = b"") -> bytes:
    """The wire bytes of one frame. Raises ValueError for a payload over 65535 bytes."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return _HEADER.pack(kind, len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    """The next frame. Raises EOFError when the stream ends cleanly between frames,
    ProtocolError for an unknown kind, a bad payload size or a frame cut short, and OSError
    when the connection fails."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            raise EOFError("AudioSocket stream ended") from e
        raise ProtocolError("truncated frame header") from e
    raw_kind, length = _HEADER.unpack(header)
    kind = _kind_of(raw_kind)
    # Check the size before reading the payload: a bogus length must not make us wait for
    # bytes that will never come.
    _check_size(kind, length)
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as e:
        raise ProtocolError(f"truncated {kind.name} frame: {len(e.partial)} of {length}") from e
    if kind is Kind.DTMF and chr(payload[0]) not in DTMF_DIGITS:
        raise ProtocolError(f"invalid DTMF digit {payload!r}")
    return Frame(kind, payload)


def _kind_of(raw: int) -> Kind:
    try:
        return Kind(raw)
    except ValueError:
        raise ProtocolError(f"unknown frame kind {raw:#04x}") from None


def _check_size(kind: Kind, length: int) -> None:
    allowed = _PAYLOAD_SIZES.get(kind)
    if allowed is not None and length not in allowed:
        raise ProtocolError(f"{kind.name} frame with a {length}-byte payload")
    # Asterisk itself rejects empty audio frames.
    if allowed is None and length == 0:
        raise ProtocolError(f"empty {kind.name} frame")


def encode_audio(pcm: bytes) -> tuple[bytes, int]:
    """slin split into 20 ms audio frames, the last padded with silence: (bytes, frame count)."""
    short = -len(pcm) % FRAME_BYTES
    padded = pcm + bytes(short)
    frames = [
        encode_frame(Kind.AUDIO, padded[i : i + FRAME_BYTES])
        for i in range(0, len(padded), FRAME_BYTES)
    ]
    return b"".join(frames), len(frames)


class AudioSocketTransport:
    """One AudioSocket connection after its UUID frame: an AudioTransport.

    One task calls receive(); send() and close() may come from others. Audio sent after the
    call ended is dropped rather than raised: the IVR learns of the end from receive().
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        call_uuid: uuid.UUID,
        *,
        write_timeout_s: float = 5.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._call_id = str(call_uuid)
        self._write_timeout_s = write_timeout_s
        self._ended: Hangup | None = None
        self._peer_gone = False  # the peer hung up or vanished: a 0x00 would go nowhere
        self._closed = False
        self.frames_in = 1  # the UUID frame that opened the connection
        self.frames_out = 0

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def ended(self) -> Hangup | None:
        """Why the call ended, or None while it is live."""
        return self._ended

    async def receive(self) -> InboundFrame:
        """The caller's next Audio or Dtmf; Hangup once the call ended, and forever after."""
        while self._ended is None:
            try:
                frame = await read_frame(self._reader)
            except EOFError:
                self._peer_gone = True
                return self._end("disconnected")
            except ProtocolError as e:
                log.warning("audiosocket.protocol_error", extra=self._log(reason=str(e)))
                return self._end("protocol-error")
            except OSError as e:
                self._peer_gone = True
                log.info("audiosocket.connection_lost", extra=self._log(reason=repr(e)))
                return self._end("connection-error")
            self.frames_in += 1
            inbound = await self._interpret(frame)
            if inbound is not None:
                return inbound
        return self._ended

    async def send(self, pcm: bytes) -> None:
        """Write slin as 20 ms frames at once (the caller paces); dropped once the call ended."""
        if not pcm or self._ended is not None:
            return
        data, count = encode_audio(pcm)
        await self._write(data, count)

    async def close(self) -> None:
        """Send a hang-up frame and close the socket. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        self._end("closed")
        try:
            if not self._peer_gone:
                await self._write(encode_frame(Kind.HANGUP), 1)
        finally:
            await _close_writer(self._writer, self._write_timeout_s)

    async def _interpret(self, frame: Frame) -> InboundFrame | None:
        """What the frame means to the call; None for frames that carry nothing to report."""
        match frame.kind:
            case Kind.AUDIO:
                # A sample is two bytes: an odd trailing byte is half a sample, not audio.
                pcm = frame.payload[: len(frame.payload) & ~1]
                return Audio(pcm) if pcm else None
            case Kind.DTMF:
                return Dtmf(frame.payload.decode("ascii"))
            case Kind.HANGUP:
                self._peer_gone = True
                return self._end("hangup")
            case Kind.ERROR:
                code = str(frame.payload[0]) if frame.payload else "none"
                log.warning("audiosocket.peer_error", extra=self._log(code=code))
                return self._end(f"error:{code}")
            case kind if kind in HIGHER_RATE_AUDIO:
                log.warning("audiosocket.unsupported_audio", extra=self._log(kind=kind.name))
                await self._write(encode_frame(Kind.ERROR, bytes([ERROR_UNSUPPORTED_AUDIO])), 1)
                return self._end(f"unsupported:{kind:#04x}")
            case _:  # a second UUID frame
                log.warning("audiosocket.protocol_error", extra=self._log(reason="repeated UUID"))
                return self._end("protocol-error")

    def _end(self, reason: str) -> Hangup:
        if self._ended is None:
            self._ended = Hangup(reason=reason)
        return self._ended

    async def _write(self, data: bytes, frames: int) -> None:
        if self._writer.is_closing():
            return
        try:
            self._writer.write(data)
            # A peer that stops reading would otherwise block drain() for ever.
            async with asyncio.timeout(self._write_timeout_s):
                await self._writer.drain()
        except (OSError, TimeoutError) as e:
            self._peer_gone = True
            log.info("audiosocket.write_failed", extra=self._log(reason=repr(e)))
            self._end("connection-error")
            self._writer.transport.abort()
            return
        self.frames_out += frames

    def _log(self, **fields: str) -> dict[str, str]:
        return {"call": self._call_id, **fields}


CallHandler = Callable[[AudioSocketTransport], Awaitable[None]]


class AudioSocketServer:
    """Accepts Asterisk's AudioSocket connections and runs `on_call` for each, in a task of
    its own, once the UUID frame has arrived; the transport is closed when it returns."""

    def __init__(
        self,
        on_call: CallHandler,
        *,
        max_connections: int = 200,
        uuid_timeout_s: float = 5.0,
        write_timeout_s: float = 5.0,
    ) -> None:
        self._on_call = on_call
        self._max_connections = max_connections
        self._uuid_timeout_s = uuid_timeout_s
        self._write_timeout_s = write_timeout_s
        self._server: asyncio.Server | None = None
        self._tasks = BackgroundTasks()
        self._pending: set[asyncio.StreamWriter] = set()  # connected, UUID not yet read
        self._calls: set[AudioSocketTransport] = set()
        self._stopping = False
        self._ended_frames_in = 0
        self._ended_frames_out = 0
        self.port = 0

    @property
    def calls(self) -> frozenset[AudioSocketTransport]:
        """The live calls."""
        return frozenset(self._calls)

    @property
    def connection_count(self) -> int:
        """Open connections, those still waiting for their UUID included."""
        return len(self._pending) + len(self._calls)

    @property
    def frames_in(self) -> int:
        """Frames received over every call so far, ended ones included."""
        return self._ended_frames_in + sum(c.frames_in for c in self._calls)

    @property
    def frames_out(self) -> int:
        """Frames sent over every call so far, ended ones included."""
        return self._ended_frames_out + sum(c.frames_out for c in self._calls)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (port 0: the OS picks one; read it from `self.port`)."""
        if self._server is not None:
            raise RuntimeError("AudioSocket server already started")
        self._stopping = False
        self._server = await asyncio.start_server(self._accept, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("audiosocket.listening", extra={"host": host, "port": self.port})

    async def stop(self) -> None:
        """Stop listening, hang up every live call and wait for the callbacks to return."""
        if self._server is None:
            return
        server, self._server = self._server, None
        self._stopping = True
        server.close()
        for writer in list(self._pending):
            writer.close()
        await asyncio.gather(*(call.close() for call in list(self._calls)))
        try:
            async with asyncio.timeout(_STOP_GRACE_S):
                await self._tasks.drain()
        except TimeoutError:
            await self._tasks.cancel()
        await server.wait_closed()
        log.info("audiosocket.stopped", extra={"port": self.port})

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain function, so the connection's task is ours to track and cancel at stop().
        self._tasks.spawn(self._serve(reader, writer))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        try:
            if self._stopping or self.connection_count >= self._max_connections:
                await self._refuse(writer, peer)
                return
            self._pending.add(writer)
            try:
                call_uuid = await self._read_uuid(reader, peer)
            finally:
                self._pending.discard(writer)
            if call_uuid is None or self._stopping:
                await _close_writer(writer, self._write_timeout_s)
                return
            transport = AudioSocketTransport(
                reader, writer, call_uuid, write_timeout_s=self._write_timeout_s
            )
            await self._run_call(transport, peer)
        except Exception:
            log.exception("audiosocket.connection_failed", extra={"peer": peer})
            await _close_writer(writer, self._write_timeout_s)

    async def _read_uuid(self, reader: asyncio.StreamReader, peer: str) -> uuid.UUID | None:
        """The call's UUID from the first frame; None (logged) if it is anything else."""
        try:
            async with asyncio.timeout(self._uuid_timeout_s):
                frame = await read_frame(reader)
        except TimeoutError:
            log.warning("audiosocket.uuid_timeout", extra={"peer": peer})
            return None
        except (ProtocolError, EOFError, OSError) as e:
            log.warning("audiosocket.bad_first_frame", extra={"peer": peer, "reason": repr(e)})
            return None
        if frame.kind is not Kind.UUID:
            reason = f"{frame.kind.name} frame before the UUID"
            log.warning("audiosocket.bad_first_frame", extra={"peer": peer, "reason": reason})
            return None
        return uuid.UUID(bytes=frame.payload)

    async def _run_call(self, transport: AudioSocketTransport, peer: str) -> None:
        self._calls.add(transport)
        log.info("audiosocket.call_started", extra={"call": transport.call_id, "peer": peer})
        try:
            await self._on_call(transport)
        except Exception:
            log.exception("audiosocket.call_failed", extra={"call": transport.call_id})
        finally:
            await transport.close()
            self._calls.discard(transport)
            self._ended_frames_in += transport.frames_in
            self._ended_frames_out += transport.frames_out
        reason = transport.ended.reason if transport.ended else "closed"
        log.info("audiosocket.call_ended", extra={"call": transport.call_id, "reason": reason})

    async def _refuse(self, writer: asyncio.StreamWriter, peer: str) -> None:
        log.warning("audiosocket.refused", extra={"peer": peer, "limit": self._max_connections})
        try:
            writer.write(encode_frame(Kind.ERROR, bytes([ERROR_BUSY])))
            async with asyncio.timeout(self._write_timeout_s):
                await writer.drain()
        except (OSError, TimeoutError):
            pass  # the refusal is a courtesy; the close below is what counts
        await _close_writer(writer, self._write_timeout_s)


async def _close_writer(writer: asyncio.StreamWriter, timeout_s: float) -> None:
    """Close the socket, flushing what is buffered; abort if the peer won't take it."""
    writer.close()
    try:
        async with asyncio.timeout(timeout_s):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        writer.transport.abort()
