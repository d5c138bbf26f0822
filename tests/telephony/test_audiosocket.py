"""AudioSocket codec, transport and server, driven over real TCP by the Asterisk-side emulator."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from telephony.audiosocket import (
    ERROR_BUSY,
    ERROR_UNSUPPORTED_AUDIO,
    AudioSocketServer,
    AudioSocketTransport,
    Frame,
    Kind,
    ProtocolError,
    encode_frame,
    read_frame,
)
from telephony.media import FRAME_BYTES, Audio, Dtmf, Hangup, InboundFrame
from tests.emulators.audiosocket_client import AudioSocketClient, silence, speech_pcm

HOST = "127.0.0.1"
CALL_UUID = uuid.UUID("6f1c2a5e-1d2b-4c3d-9e8f-0a1b2c3d4e5f")
TIMEOUT = 5.0


class Calls:
    """on_call fake: hands every call to the test. Held calls wait for `release`; listened
    calls are read to their Hangup by the callback itself, which then returns."""

    def __init__(self, *, listen: bool = False) -> None:
        self.listen = listen
        self.release = asyncio.Event()
        self.started: asyncio.Queue[AudioSocketTransport] = asyncio.Queue()
        self.ended: asyncio.Queue[tuple[str, list[InboundFrame]]] = asyncio.Queue()

    async def __call__(self, transport: AudioSocketTransport) -> None:
        self.started.put_nowait(transport)
        if not self.listen:
            await self.release.wait()
            return
        frames = [await transport.receive()]
        while not isinstance(frames[-1], Hangup):
            frames.append(await transport.receive())
        self.ended.put_nowait((transport.call_id, frames))

    async def next_call(self) -> AudioSocketTransport:
        return await asyncio.wait_for(self.started.get(), TIMEOUT)

    async def next_ended(self) -> tuple[str, list[InboundFrame]]:
        return await asyncio.wait_for(self.ended.get(), TIMEOUT)


@asynccontextmanager
async def running(calls: Any, **kwargs: Any) -> AsyncIterator[AudioSocketServer]:
    server = AudioSocketServer(calls, **kwargs)
    await server.start(HOST, 0)
    try:
        yield server
    finally:
        if isinstance(calls, Calls):
            calls.release.set()
        await server.stop()


async def receive(transport: AudioSocketTransport) -> InboundFrame:
    return await asyncio.wait_for(transport.receive(), TIMEOUT)


def audio_of(frames: list[InboundFrame]) -> bytes:
    return b"".join(f.pcm for f in frames if isinstance(f, Audio))


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def tone(n_bytes: int) -> bytes:
    """Non-silent slin, so that padding and reordering would show."""
    return bytes((i * 7 + 3) % 256 for i in range(n_bytes))


# --- codec ---------------------------------------------------------------------------------


def test_encode_frame_writes_kind_big_endian_length_and_payload() -> None:
    """A frame is kind, 16-bit big-endian length, payload."""
    assert encode_frame(Kind.DTMF, b"5") == b"\x03\x00\x015"
    assert encode_frame(Kind.HANGUP) == b"\x00\x00\x00"
    assert encode_frame(Kind.AUDIO, bytes(320))[:3] == b"\x10\x01\x40"


def test_encode_frame_refuses_payload_over_65535_bytes() -> None:
    """The length field has 16 bits; a bigger payload cannot be framed."""
    with pytest.raises(ValueError, match="exceeds 65535"):
        encode_frame(Kind.AUDIO, bytes(65536))


async def test_read_frame_decodes_consecutive_frames_then_eof() -> None:
    """read_frame returns each frame in turn and EOFError at a clean end of stream."""
    data = encode_frame(Kind.UUID, CALL_UUID.bytes) + encode_frame(Kind.AUDIO, b"\x01\x02")
    reader = reader_of(data)
    assert await read_frame(reader) == Frame(Kind.UUID, CALL_UUID.bytes)
    assert await read_frame(reader) == Frame(Kind.AUDIO, b"\x01\x02")
    with pytest.raises(EOFError):
        await read_frame(reader)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x42\x00\x00", "unknown frame kind 0x42"),
        (b"\x01\x00\x04abcd", "UUID frame with a 4-byte payload"),
        (b"\x03\x00\x0212", "DTMF frame with a 2-byte payload"),
        (b"\x03\x00\x01x", "invalid DTMF digit"),
        (b"\x00\x00\x01\x00", "HANGUP frame with a 1-byte payload"),
        (b"\x10\x00\x00", "empty AUDIO frame"),
        (b"\x10\x01", "truncated frame header"),
        (b"\x10\x01\x40" + bytes(100), "truncated AUDIO frame: 100 of 320"),
    ],
)
async def test_read_frame_rejects_malformed_frames(data: bytes, message: str) -> None:
    """Unknown kinds, wrong payload sizes and cut-short frames raise ProtocolError."""
    with pytest.raises(ProtocolError, match=message):
        await read_frame(reader_of(data))


# --- transport over TCP --------------------------------------------------------------------


async def test_call_id_is_the_uuid_of_the_first_frame() -> None:
    """on_call receives a transport named by the call's UUID in canonical form."""
    calls = Calls()
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port, CALL_UUID),
    ):
        transport = await calls.next_call()
        assert transport.call_id == "6f1c2a5e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"


async def test_caller_audio_and_dtmf_arrive_in_order() -> None:
    """Audio frames and DTMF digits from Asterisk come out of receive() as sent."""
    calls = Calls()
    first, second = tone(FRAME_BYTES), tone(2 * FRAME_BYTES)[FRAME_BYTES:]
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        transport = await calls.next_call()
        await client.send_audio(first)
        await client.send_dtmf("#")
        await client.send_audio(second)
        got = [await receive(transport) for _ in range(3)]
    assert got == [Audio(first), Dtmf("#"), Audio(second)]


async def test_sent_audio_is_split_into_320_byte_frames_padded_with_silence() -> None:
    """send() writes whole 20 ms frames; the last is completed with silence."""
    calls = Calls()
    pcm = tone(700)
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        transport = await calls.next_call()
        await transport.send(pcm)
        received = await client.wait_for_audio(3 * FRAME_BYTES)
        assert transport.frames_out == 3
    assert received == pcm + bytes(3 * FRAME_BYTES - 700)


async def test_odd_sized_audio_keeps_whole_samples_only() -> None:
    """An odd trailing byte is half a sample and is dropped; a lone byte yields no frame."""
    calls = Calls()
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        transport = await calls.next_call()
        await client.send_raw(encode_frame(Kind.AUDIO, b"\x07"))
        await client.send_raw(encode_frame(Kind.AUDIO, b"\x01\x02\x03"))
        assert await receive(transport) == Audio(b"\x01\x02")


async def test_caller_hangup_ends_the_call_for_good() -> None:
    """After Asterisk's hang-up frame, receive() returns Hangup every time."""
    calls = Calls()
    async with running(calls) as server:
        client = await AudioSocketClient.connect(HOST, server.port)
        transport = await calls.next_call()
        await client.hangup()
        assert await receive(transport) == Hangup("hangup")
        assert await receive(transport) == Hangup("hangup")
        await transport.send(silence(20))  # dropped, not raised: the caller is gone


async def test_closed_socket_without_hangup_frame_ends_the_call() -> None:
    """A connection cut between frames is a hang-up too."""
    calls = Calls()
    async with running(calls) as server:
        client = await AudioSocketClient.connect(HOST, server.port)
        transport = await calls.next_call()
        await client.drop()
        assert await receive(transport) == Hangup("disconnected")


async def test_peer_error_frame_ends_the_call_with_its_code() -> None:
    """An 0xff frame from Asterisk becomes Hangup("error:<code>")."""
    calls = Calls()
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        transport = await calls.next_call()
        await client.send_raw(encode_frame(Kind.ERROR, b"\x02"))
        assert await receive(transport) == Hangup("error:2")
        assert await receive(transport) == Hangup("error:2")


async def test_server_close_sends_hangup_frame_and_is_idempotent() -> None:
    """close() hangs up Asterisk's side with 0x00; calling it again does nothing."""
    calls = Calls()
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        transport = await calls.next_call()
        await asyncio.gather(transport.close(), transport.close())
        await client.wait_closed()
        await transport.close()
        assert client.hangup_received
        assert transport.frames_out == 1
        assert await receive(transport) == Hangup("closed")


async def test_send_and_close_on_a_vanished_peer_do_not_raise() -> None:
    """Writing to a call whose socket Asterisk already closed is dropped quietly."""
    calls = Calls()
    async with running(calls) as server:
        client = await AudioSocketClient.connect(HOST, server.port)
        transport = await calls.next_call()
        await client.drop()
        for _ in range(3):  # the first writes may still land in the kernel's buffer
            await transport.send(tone(10 * FRAME_BYTES))
        await transport.close()
        assert isinstance(await receive(transport), Hangup)


async def test_callback_return_closes_the_call() -> None:
    """When on_call returns, the server hangs up the call."""
    calls = Calls()
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        await calls.next_call()
        calls.release.set()
        await client.wait_closed()
        assert client.hangup_received


async def test_higher_rate_audio_is_refused_with_an_error_frame() -> None:
    """Audio at 16 kHz (0x12) is refused: an 0xff frame to Asterisk and a Hangup."""
    calls = Calls()
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as client,
    ):
        transport = await calls.next_call()
        await client.send_raw(encode_frame(Kind.AUDIO_16K, bytes(640)))
        assert await receive(transport) == Hangup("unsupported:0x12")
        await client.wait_closed()
        assert client.error_codes == [ERROR_UNSUPPORTED_AUDIO]


@pytest.mark.parametrize(
    "garbage",
    [
        encode_frame(Kind.DTMF, b"12"),  # oversized for its kind
        b"\x10\x01\x40" + bytes(10),  # truncated, then the socket closes
        b"\x42\x00\x00",  # unknown kind
    ],
)
async def test_malformed_frame_mid_call_hangs_up_quietly_and_others_go_on(
    garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed frame ends its call with a warning, no traceback; other calls carry on."""
    calls = Calls()
    caplog.set_level(logging.INFO, logger="telephony.audiosocket")
    async with (
        running(calls) as server,
        await AudioSocketClient.connect(HOST, server.port) as other,
    ):
        bystander = await calls.next_call()
        bad = await AudioSocketClient.connect(HOST, server.port)
        transport = await calls.next_call()
        await bad.send_raw(garbage)
        if garbage.startswith(b"\x10"):
            await bad.drop()
        assert await receive(transport) == Hangup("protocol-error")
        await other.send_dtmf("7")
        assert await receive(bystander) == Dtmf("7")
        await bad.drop()
    assert "audiosocket.protocol_error" in caplog.messages
    assert not [r for r in caplog.records if r.exc_info]


# --- server --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [encode_frame(Kind.AUDIO, bytes(FRAME_BYTES)), b"GET / HTTP/1.1\r\n\r\n"],
)
async def test_connection_without_uuid_first_is_dropped(
    first: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A first frame that is not a UUID drops the connection; on_call never runs."""
    calls = Calls()
    caplog.set_level(logging.INFO, logger="telephony.audiosocket")
    async with running(calls) as server:
        reader, writer = await asyncio.open_connection(HOST, server.port)
        writer.write(first)
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
        async with await AudioSocketClient.connect(HOST, server.port):
            await calls.next_call()  # the server still serves proper calls
        assert calls.started.empty()
    assert "audiosocket.bad_first_frame" in caplog.messages
    assert not [r for r in caplog.records if r.exc_info]


async def test_connection_silent_past_the_uuid_timeout_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No UUID within the timeout: the server closes the connection and logs it."""
    calls = Calls()
    caplog.set_level(logging.INFO, logger="telephony.audiosocket")
    async with running(calls, uuid_timeout_s=0.05) as server:
        reader, writer = await asyncio.open_connection(HOST, server.port)
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
        assert calls.started.empty()
        assert server.connection_count == 0
    assert "audiosocket.uuid_timeout" in caplog.messages


async def test_callback_exception_is_logged_and_the_server_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing on_call is logged with its traceback, its call is hung up, and new calls work."""
    served: list[str] = []

    async def on_call(transport: AudioSocketTransport) -> None:
        served.append(transport.call_id)
        if len(served) == 1:
            raise RuntimeError("IVR bug")

    async with running(on_call) as server:
        for _ in range(2):
            async with await AudioSocketClient.connect(HOST, server.port) as client:
                await client.wait_closed()
                assert client.hangup_received
    assert len(served) == 2
    failures = [r for r in caplog.records if r.getMessage() == "audiosocket.call_failed"]
    assert len(failures) == 1
    assert failures[0].exc_info is not None


async def test_connections_over_the_limit_get_an_error_frame() -> None:
    """Past max_connections a new connection gets 0xff and is closed; a freed slot is reused."""
    calls = Calls(listen=True)
    async with running(calls, max_connections=1) as server:
        first = await AudioSocketClient.connect(HOST, server.port)
        await calls.next_call()
        async with await AudioSocketClient.connect(HOST, server.port) as extra:
            await extra.wait_closed()
            assert extra.error_codes == [ERROR_BUSY]
        await first.hangup()
        await calls.next_ended()
        async with await AudioSocketClient.connect(HOST, server.port) as later:
            transport = await calls.next_call()
            assert transport.call_id == str(later.call_uuid)


async def test_stop_hangs_up_live_calls() -> None:
    """stop() sends every live call a hang-up and their callbacks see Hangup."""
    calls = Calls(listen=True)
    server = AudioSocketServer(calls)
    await server.start(HOST, 0)
    clients = [await AudioSocketClient.connect(HOST, server.port) for _ in range(3)]
    for _ in clients:
        await calls.next_call()
    assert server.connection_count == 3
    await asyncio.wait_for(server.stop(), TIMEOUT)
    for client in clients:
        await client.wait_closed()
        assert client.hangup_received
    ended = [await calls.next_ended() for _ in clients]
    assert {frames[-1] for _, frames in ended} == {Hangup("closed")}
    assert server.connection_count == 0


async def test_frames_are_counted_per_call_and_per_server() -> None:
    """Frames in (UUID included) and out are counted for the benchmark's frames/s."""
    calls = Calls(listen=True)
    async with running(calls) as server:
        client = await AudioSocketClient.connect(HOST, server.port)
        transport = await calls.next_call()
        await transport.send(silence(60))
        await client.wait_for_audio(3 * FRAME_BYTES)
        await client.send_audio(silence(100))
        await client.send_dtmf("1")
        await client.hangup()
        await calls.next_ended()
        assert (transport.frames_in, transport.frames_out) == (1 + 5 + 1 + 1, 3)
        assert (server.frames_in, server.frames_out) == (8, 3)


async def test_speech_arrives_intact_both_ways() -> None:
    """espeak speech sent by Asterisk and by the server arrives byte for byte."""
    pcm = await asyncio.to_thread(speech_pcm, "您好，这里是12345热线，请说出您的诉求")
    assert len(pcm) > 50 * FRAME_BYTES  # a few seconds of speech, not an empty render
    calls = Calls(listen=True)
    async with running(calls) as server:
        client = await AudioSocketClient.connect(HOST, server.port)
        transport = await calls.next_call()
        await transport.send(pcm)
        frames_needed = -(-len(pcm) // FRAME_BYTES)
        received = await client.wait_for_audio(frames_needed * FRAME_BYTES)
        await client.send_audio(pcm)
        await client.hangup()
        _, frames = await calls.next_ended()
    assert received[: len(pcm)] == pcm
    assert len(received) == frames_needed * FRAME_BYTES
    assert audio_of(frames) == pcm
