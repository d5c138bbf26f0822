"""AriClient against the ARI emulator over real HTTP and WebSocket: auth, typed events, media,
bridges and recordings, originate, hang-up order, reconnects and tolerance of odd events."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
import pytest_asyncio

from telephony.ari.client import AriClient, AriError, Backoff
from telephony.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelLeftBridge,
    ChannelStateChange,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    parse_event,
)
from tests.emulators.ari_server import APP, PASSWORD, USER, AriEmulator

E = TypeVar("E", bound=AriEvent | UnknownEvent)
CALLER = "13812345678"
FAST = Backoff(initial_s=0.01, max_s=0.05, stable_s=10.0)


class Inbox:
    """What client.events() yields, read in order by a test."""

    def __init__(self, client: AriClient) -> None:
        self._client = client
        self._queue: asyncio.Queue[AriEvent | UnknownEvent] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        async for event in self._client.events():
            self._queue.put_nowait(event)

    async def next(self, kind: type[E], within_s: float = 5.0) -> E:
        """The next event of `kind`; events of other kinds before it are dropped."""
        async with asyncio.timeout(within_s):
            while True:
                event = await self._queue.get()
                if isinstance(event, kind):
                    return event

    async def until(
        self, kind: type[E], channel_id: str, within_s: float = 5.0
    ) -> list[AriEvent | UnknownEvent]:
        """Events about `channel_id` up to and including the first of `kind`."""
        seen: list[AriEvent | UnknownEvent] = []
        async with asyncio.timeout(within_s):
            while True:
                event = await self._queue.get()
                if getattr(getattr(event, "channel", None), "id", None) == channel_id:
                    seen.append(event)
                    if isinstance(event, kind):
                        return seen


async def eventually(check: Callable[[], bool], within_s: float = 5.0) -> None:
    async with asyncio.timeout(within_s):
        while not check():
            await asyncio.sleep(0.005)


async def _drain(ari: AriClient) -> None:
    async for _ in ari.events():
        pass


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[AriEmulator]:
    endpoints = {"PJSIP/1001": 0.01, "PJSIP/1003": 0.01}
    async with AriEmulator(answer_endpoints=endpoints, timeout_scale=0.01) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def client(emu: AriEmulator) -> AsyncIterator[AriClient]:
    ari = AriClient(emu.base_url, USER, PASSWORD, APP, backoff=FAST)
    yield ari
    await ari.close()


@pytest_asyncio.fixture
async def inbox(emu: AriEmulator, client: AriClient) -> AsyncIterator[Inbox]:
    box = Inbox(client)
    await emu.wait_connected()
    yield box
    box.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await box.task


async def answered_call(emu: AriEmulator, client: AriClient, inbox: Inbox) -> str:
    channel_id = await emu.incoming_call(CALLER)
    await inbox.next(StasisStart)
    await client.answer(channel_id)
    await inbox.next(ChannelStateChange)
    return channel_id


async def test_wrong_password_gets_401_on_rest_and_websocket(emu: AriEmulator) -> None:
    """A wrong password fails REST calls and events() with AriError 401, not endless retries."""
    ari = AriClient(emu.base_url, USER, "wrong", APP, backoff=FAST)
    try:
        with pytest.raises(AriError) as rest:
            await ari.create_bridge()
        assert (rest.value.status, rest.value.message) == (401, "Authentication required")
        with pytest.raises(AriError) as ws:
            await asyncio.wait_for(_drain(ari), 5)
        assert ws.value.status == 401
        assert not ari.connected.is_set()
    finally:
        await ari.close()


async def test_incoming_call_arrives_as_typed_stasis_start(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """StasisStart carries the ringing channel, caller number, dialled number and args."""
    channel_id = await emu.incoming_call(CALLER, exten="12345", args=["ivr", "zh"])
    event = await inbox.next(StasisStart)
    assert event.channel.id == channel_id
    assert event.channel.state == "Ring"
    assert event.channel.caller_number == CALLER
    assert (event.channel.dialplan_exten, event.args) == ("12345", ("ivr", "zh"))
    assert event.application == APP
    assert event.timestamp.tzinfo is not None
    assert event.raw["asterisk_id"] == emu.sent_events[-1]["asterisk_id"]
    assert CALLER not in repr(event)
    assert (await client.get_channel(channel_id)).name.startswith("PJSIP/trunk-")


async def test_answer_then_play_ends_with_playback_finished(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """Answering turns the channel Up; a playback starts and finishes as "done"."""
    channel_id = await emu.incoming_call(CALLER)
    await inbox.next(StasisStart)
    await client.answer(channel_id)
    assert (await inbox.next(ChannelStateChange)).channel.state == "Up"
    playback = await client.play(channel_id, ["sound:hello", "sound:menu"], playback_id="pb-1")
    assert (playback.id, playback.state, playback.media_uri) == ("pb-1", "queued", "sound:hello")
    assert playback.target_uri == f"channel:{channel_id}"
    assert (await inbox.next(PlaybackStarted)).playback.id == "pb-1"
    finished = await inbox.next(PlaybackFinished)
    assert (finished.playback.id, finished.playback.state) == ("pb-1", "done")
    assert finished.playback.media_uri == "sound:menu"
    play = ("POST", f"/ari/channels/{channel_id}/play")
    assert (*play, {"media": "sound:hello,sound:menu", "playbackId": "pb-1"}) in emu.requests


async def test_stopped_playback_finishes_as_done(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """Stopping a long prompt ends it at once with PlaybackFinished, state "done"."""
    emu.playback_seconds = 60
    channel_id = await answered_call(emu, client, inbox)
    playback = await client.play(channel_id, "sound:long-prompt")
    await inbox.next(PlaybackStarted)
    await client.stop_playback(playback.id)
    finished = await inbox.next(PlaybackFinished)
    assert (finished.playback.id, finished.playback.state) == (playback.id, "done")
    with pytest.raises(AriError) as again:
        await client.stop_playback(playback.id)
    assert (again.value.status, again.value.message) == (404, "Playback not found")


async def test_keypress_arrives_with_digit_and_duration(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """A DTMF key pressed by the caller arrives as ChannelDtmfReceived."""
    channel_id = await answered_call(emu, client, inbox)
    await emu.press(channel_id, "3", duration_ms=120)
    event = await inbox.next(ChannelDtmfReceived)
    assert (event.channel.id, event.digit, event.duration_ms) == (channel_id, "3", 120)


async def test_bridge_recording_finishes_and_downloads_as_wav(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """A bridged call is recorded; stopping gives RecordingFinished and a stored WAV file."""
    caller = await answered_call(emu, client, inbox)
    agent = await client.originate("PJSIP/1001", app_args="agent")
    await inbox.next(StasisStart)
    bridge = await client.create_bridge("mixing", bridge_id="call-1")
    assert (bridge.id, bridge.bridge_type, bridge.channels) == ("call-1", "mixing", ())
    await client.add_channel(bridge.id, [caller, agent.id])
    entered = [await inbox.next(ChannelEnteredBridge) for _ in range(2)]
    assert entered[-1].bridge.channels == (caller, agent.id)
    recording = await client.record_bridge(bridge.id, "case-20261204-1")
    assert (recording.state, recording.target_uri) == ("queued", "bridge:call-1")
    assert (await inbox.next(RecordingStarted)).recording.state == "recording"
    await client.stop_recording("case-20261204-1")
    finished = await inbox.next(RecordingFinished)
    assert (finished.recording.name, finished.recording.state) == ("case-20261204-1", "done")
    assert finished.recording.duration is not None
    with wave.open(io.BytesIO(await client.get_stored_recording_file("case-20261204-1"))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)


async def test_destroying_a_bridge_ends_its_recording(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """Destroying a recorded bridge finishes the recording and lets the channels go."""
    caller = await answered_call(emu, client, inbox)
    bridge = await client.create_bridge()
    await client.add_channel(bridge.id, caller)
    await client.record_bridge(bridge.id, "rec-2")
    await client.destroy_bridge(bridge.id)
    # the Recorder channel sends the app no events (recorded on Asterisk 22): the caller
    # leaves, then the recording is finished
    assert (await inbox.next(ChannelLeftBridge)).channel.id == caller
    assert (await inbox.next(RecordingFinished)).recording.name == "rec-2"
    assert len(await client.get_stored_recording_file("rec-2")) >= 44  # a WAV header at least
    with pytest.raises(AriError) as taken:
        await client.record_channel(caller, "rec-2")
    assert taken.value.status == 409


async def test_originate_answered_enters_stasis_with_split_args(
    client: AriClient, inbox: Inbox
) -> None:
    """An agent endpoint that answers rings, goes Up and enters Stasis with appArgs split."""
    channel = await client.originate(
        "PJSIP/1003", app_args="agent,101", caller_id='"12345" <12345>', variables={"X": "1"}
    )
    assert channel.state == "Down"
    states = [(await inbox.next(ChannelStateChange)).channel.state for _ in range(2)]
    assert states == ["Ringing", "Up"]
    start = await inbox.next(StasisStart)
    assert (start.channel.id, start.args) == (channel.id, ("agent", "101"))


async def test_unanswered_originate_is_destroyed_with_no_answer(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """An endpoint that never answers is destroyed at the timeout with cause 19."""
    channel = await client.originate("PJSIP/1002", timeout=5)
    seen = await inbox.until(ChannelDestroyed, channel.id)
    destroyed = seen[-1]
    assert isinstance(destroyed, ChannelDestroyed)
    assert (destroyed.cause, destroyed.cause_txt) == (19, "User alerting, no answer")
    assert not any(isinstance(e, StasisStart) for e in seen)
    assert emu.requests[-1][:2] == ("POST", "/ari/channels")


async def test_caller_hangup_while_bridged_comes_in_asterisk_order(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """Caller hang-up: HangupRequest (16), LeftBridge, StasisEnd; a dialplan channel gets no
    ChannelDestroyed (recorded on Asterisk 22)."""
    caller = await answered_call(emu, client, inbox)
    bridge = await client.create_bridge()
    await client.add_channel(bridge.id, caller)
    await inbox.next(ChannelEnteredBridge)
    await emu.caller_hangs_up(caller)
    seen = await inbox.until(StasisEnd, caller)
    kinds = [type(e) for e in seen]
    assert kinds == [ChannelHangupRequest, ChannelLeftBridge, StasisEnd]
    request = seen[0]
    assert isinstance(request, ChannelHangupRequest)
    assert request.cause == 16


async def test_hub_hangup_is_a_soft_request_then_end_and_destroyed(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """Our own hang-up: a soft ChannelHangupRequest (cause 32, whatever reason was sent), then
    StasisEnd; no ChannelDestroyed for a dialplan channel (recorded on Asterisk 22)."""
    caller = await answered_call(emu, client, inbox)
    await client.hangup(caller, reason="busy")
    seen = await inbox.until(StasisEnd, caller)
    assert [type(e) for e in seen] == [ChannelHangupRequest, StasisEnd]
    request = seen[0]
    assert isinstance(request, ChannelHangupRequest)
    assert request.soft
    assert request.cause == 32
    with pytest.raises(AriError) as gone:
        await client.answer(caller)
    assert (gone.value.status, gone.value.message) == (404, "Channel not found")


async def test_events_resume_after_the_websocket_drops(
    emu: AriEmulator, client: AriClient, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    """After Asterisk drops the WebSocket the client reconnects and events flow again."""
    caplog.set_level(logging.DEBUG, logger="telephony.ari")
    await emu.drop_websockets()
    await eventually(lambda: not client.connected.is_set())
    await emu.wait_connected()
    await eventually(client.connected.is_set)
    channel_id = await emu.incoming_call(CALLER)
    assert (await inbox.next(StasisStart)).channel.id == channel_id
    assert any(r.getMessage() == "ari.events.reconnect" for r in caplog.records)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in repr(client)


async def test_unknown_and_malformed_events_are_tolerated(
    emu: AriEmulator, client: AriClient, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Unknown types and broken known ones become UnknownEvent; later events still arrive."""
    caplog.set_level(logging.WARNING, logger="telephony.ari")
    stamp = "2026-12-04T12:00:00.000+0000"
    await emu.send_raw({"type": "ChannelVarset", "variable": "X", "application": APP})
    await emu.send_raw({"type": "StasisStart", "application": APP, "timestamp": stamp,
                        "args": [], "channel": {"id": 7}})  # fmt: skip
    await emu.send_raw({"no": "type"})
    unknown = [await inbox.next(UnknownEvent) for _ in range(3)]
    assert [u.type for u in unknown] == ["ChannelVarset", "StasisStart", ""]
    assert sum(r.getMessage() == "ari.event.malformed" for r in caplog.records) == 2
    channel_id = await emu.incoming_call(CALLER)
    assert (await inbox.next(StasisStart)).channel.id == channel_id


async def test_unknown_ids_raise_ari_error_with_asterisk_message(client: AriClient) -> None:
    """404s carry ARI's own message text."""
    with pytest.raises(AriError) as channel:
        await client.answer("1733313600.999")
    assert (channel.value.status, channel.value.message) == (404, "Channel not found")
    with pytest.raises(AriError) as bridge:
        await client.add_channel("no-such-bridge", "1733313600.999")
    assert (bridge.value.status, bridge.value.message) == (404, "Bridge not found")
    with pytest.raises(AriError) as recording:
        await client.get_stored_recording_file("never-recorded")
    assert (recording.value.status, recording.value.message) == (404, "Recording not found")


async def test_snoop_channel_enters_stasis_with_its_args(
    emu: AriEmulator, client: AriClient, inbox: Inbox
) -> None:
    """A snoop on a call is a new channel that enters our app with the given args."""
    caller = await answered_call(emu, client, inbox)
    snoop = await client.snoop(caller, spy="in", app_args="asr", snoop_id="snoop-1")
    assert (snoop.id, snoop.name.startswith(f"Snoop/{caller}-")) == ("snoop-1", True)
    start = await inbox.next(StasisStart)
    assert (start.channel.id, start.args) == ("snoop-1", ("asr",))


async def test_external_media_connects_an_audiosocket_with_the_uuid() -> None:
    """externalMedia dials our AudioSocket server, sends the UUID frame, then carries audio."""
    frames: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    hung_up = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(3)
                payload = await reader.readexactly(int.from_bytes(header[1:], "big"))
                frames.put_nowait((header[0], payload))
                writer.write(b"\x10\x00\x04" + b"\x00\x01\x00\x01")  # the hub's reply audio
        except asyncio.IncompleteReadError:
            hung_up.set()  # Asterisk closed the socket
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    call_id = str(uuid.uuid4())
    async with server, AriEmulator(audiosocket_connect=True) as emu:
        ari = AriClient(emu.base_url, USER, PASSWORD, APP, backoff=FAST)
        inbox = Inbox(ari)
        try:
            await emu.wait_connected()
            channel = await ari.external_media(f"127.0.0.1:{port}", data=call_id)
            assert channel.name == f"AudioSocket/127.0.0.1:{port}-{call_id}"
            start = await inbox.next(StasisStart)
            assert (start.channel.id, start.args) == (channel.id, (call_id,))
            assert await asyncio.wait_for(frames.get(), 5) == (0x01, uuid.UUID(call_id).bytes)
            link = emu.audiosocket_stream(channel.id)
            await link.send_audio(b"\x00\x00" * 160)
            assert await asyncio.wait_for(frames.get(), 5) == (0x10, b"\x00\x00" * 160)
            assert await asyncio.wait_for(link.read_frame(), 5) == (0x10, b"\x00\x01\x00\x01")
            await ari.hangup(channel.id)
            await asyncio.wait_for(hung_up.wait(), 5)
        finally:
            inbox.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await inbox.task
            await ari.close()


def test_timestamps_in_asterisk_local_time_become_utc() -> None:
    """An event stamped +0800 (Asterisk's local zone) parses to the same instant in UTC."""
    event = parse_event({
        "type": "ChannelDtmfReceived", "application": APP, "asterisk_id": "x",
        "timestamp": "2026-12-04T20:00:00.250+0800", "digit": "#", "duration_ms": 80,
        "channel": {"id": "1.1", "name": "PJSIP/a-1", "state": "Up",
                    "caller": {"name": "", "number": CALLER}, "dialplan": {"context": None}},
    })  # fmt: skip
    assert isinstance(event, ChannelDtmfReceived)
    assert event.timestamp == datetime(2026, 12, 4, 12, 0, 0, 250000, tzinfo=UTC)
    assert (event.digit, event.channel.dialplan_context) == ("#", "")
