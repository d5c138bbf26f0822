"""What a real Asterisk 22.10.1 sent (tests/data/ari/, see its README) against our parser and
our emulator: every recorded event parses to its typed event with the fields the hub uses, and
the emulator, driven through the recorded scenarios, sends the same events in the same order
with the same keys. Ids and timestamps may differ; types, order, keys and the values that carry
meaning (states, causes, digits, dial statuses) may not, except for the DEVIATIONS below."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import aiohttp
import pytest

from telephony.ari.client import AriClient, AriError, Backoff
from telephony.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    StasisStart,
    UnknownEvent,
    parse_bridge,
    parse_channel,
    parse_event,
    parse_playback,
    parse_recording,
)
from tests.emulators.ari_server import PASSWORD, USER, AriEmulator

DATA = Path(__file__).parent.parent / "data"
APP = "hub12345"  # the app name of the recordings, so that even "application" matches
FAST = Backoff(initial_s=0.01, max_s=0.05, stable_s=10.0)
REST: dict[str, dict[str, Any]] = json.loads((DATA / "ari" / "rest_responses.json").read_text())
FRAMES = json.loads((DATA / "audiosocket" / "first_frames.json").read_text())["connections"]
MODELLED = {cls.__name__ for cls in get_args(AriEvent)}
# The sequences compare the events the hub models, plus Dial. Left out: ChannelVarset,
# ChannelDialplan, ChannelConnectedLine and ChannelCallerId, which the hub ignores (they reach
# it as UnknownEvent) and the emulator does not send.
COMPARED = MODELLED | {"Dial"}
# The recordings used Local channels as phones (README): the far half of each pair (`<id>;2`,
# or the `<tag>-phone` otherChannelId) sends events a SIP phone's channel does not (the SIP
# recording has none of them), so they are not compared.
LOCAL_FAR_HALF = re.compile(r"(;2|-phone)$")

Step = tuple[str, str, Any]  # (type, subject, meaningful value)


@dataclass(frozen=True)
class Deviation:
    """Where the emulator knowingly differs from one recording: the recorded steps are
    expected from the emulator as `emulated`."""

    scenario: str
    recorded: tuple[Step, ...]
    emulated: tuple[Step, ...]
    why: str


DEVIATIONS = [
    Deviation(
        "sip_trunk_call_ivr_agent_transfer",
        recorded=(("StasisEnd", "sip-agent", None), ("RecordingFinished", "sip-call", "done")),
        emulated=(("RecordingFinished", "sip-call", "done"), ("StasisEnd", "sip-agent", None)),
        why="Asterisk stops a bridge recording on its own thread when the last channel leaves: "
        "the Local recordings have RecordingFinished before that channel's StasisEnd, this "
        "one after it. The emulator always sends it before.",
    ),
    Deviation(
        "originate_noanswer_busy_dial",
        recorded=(("ChannelDestroyed", "s5-busy", 0),),
        emulated=(("ChannelDestroyed", "s5-busy", 17),),
        why="A Local channel running Busy() is destroyed with cause 0 (only Dial's BUSY says "
        "why); the emulator's reject_endpoints models a SIP phone's 486, cause 17.",
    ),
]


def recorded(scenario: str) -> list[dict[str, Any]]:
    events = json.loads((DATA / "ari" / f"{scenario}.json").read_text())
    assert isinstance(events, list)
    return events


def all_recorded() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((DATA / "ari").glob("*.json")):
        if path.name != "rest_responses.json":
            yield from ((path.stem, event) for event in recorded(path.stem))


def keys(obj: Any, prefix: str = "") -> frozenset[str]:
    """Every key of a JSON object, nested objects' keys as dotted paths."""
    if not isinstance(obj, dict):
        return frozenset()
    out: set[str] = set()
    for key, value in obj.items():
        out.add(prefix + key)
        out |= keys(value, f"{prefix}{key}.")
    return frozenset(out)


def subject(event: dict[str, Any]) -> str:
    """What the event is about: a channel (or Dial's peer), playback, recording or bridge."""
    for obj, key in (("channel", "id"), ("peer", "id"), ("playback", "id"),
                     ("recording", "name"), ("bridge", "id")):  # fmt: skip
        if obj in event:
            return str(event[obj][key])
    return ""


def value(event: dict[str, Any]) -> Any:
    """The value of an event that carries meaning for the hub."""
    kind = event["type"]
    if "playback" in event:
        return event["playback"]["state"]
    if "recording" in event:
        return event["recording"]["state"]
    if kind == "Dial":
        return event["dialstatus"]
    if kind == "ChannelStateChange":
        return event["channel"]["state"]
    if kind == "ChannelDestroyed":
        return event["cause"]
    if kind == "ChannelHangupRequest":
        return (event.get("cause"), event.get("soft"))
    if kind == "ChannelDtmfReceived":
        return event["digit"]
    if kind == "StasisStart":
        return tuple(event["args"])
    if kind in ("ChannelEnteredBridge", "ChannelLeftBridge"):
        return event["bridge"]["id"]
    return None


def steps(
    events: list[dict[str, Any]], rename: dict[str, str], only: set[str] | None
) -> list[tuple[Step, frozenset[str]]]:
    out = []
    for event in events:
        if event["type"] not in COMPARED:
            continue
        about = rename.get(subject(event), subject(event))
        if LOCAL_FAR_HALF.search(about) or (only is not None and about not in only):
            continue
        out.append(((event["type"], about, value(event)), keys(event)))
    return out


def expected(scenario: str, sequence: list[Step]) -> list[Step]:
    """The recorded sequence with this scenario's deviations applied (each must apply once)."""
    for deviation in (d for d in DEVIATIONS if d.scenario == scenario):
        n = len(deviation.recorded)
        at = [i for i in range(len(sequence)) if tuple(sequence[i : i + n]) == deviation.recorded]
        assert len(at) == 1, f"stale deviation: {deviation.why}"
        sequence = [*sequence[: at[0]], *deviation.emulated, *sequence[at[0] + n :]]
    return sequence


def keyed(found: list[tuple[Step, frozenset[str]]]) -> dict[tuple[str, str, int], frozenset[str]]:
    """Key sets by (type, subject, occurrence), so reordered deviations still line up."""
    seen: Counter[tuple[str, str]] = Counter()
    out = {}
    for (kind, about, _), event_keys in found:
        out[(kind, about, seen[(kind, about)])] = event_keys
        seen[(kind, about)] += 1
    return out


@dataclass
class Hub:
    """The test in the hub's place: an AriClient on the emulator, every event it received as
    raw JSON in arrival order, and plain REST for the calls AriClient does not make."""

    emu: AriEmulator
    ari: AriClient
    http: aiohttp.ClientSession
    events: list[dict[str, Any]] = field(default_factory=list)
    rename: dict[str, str] = field(default_factory=dict)  # emulator id -> recorded id

    async def pump(self) -> None:
        async for event in self.ari.events():
            self.events.append(dict(event.raw))

    async def seen(self, kind: str, about: str, count: int = 1, within_s: float = 5.0) -> None:
        """Until `count` events of `kind` about `about` have arrived."""

        def found() -> int:
            return sum(e["type"] == kind and subject(e) == about for e in self.events)

        async with asyncio.timeout(within_s):
            while found() < count:
                await asyncio.sleep(0.005)

    async def rest(self, method: str, path: str, **params: str) -> tuple[int, Any]:
        url = f"{self.emu.base_url}/ari{path}"
        auth = {"Authorization": aiohttp.encode_basic_auth(USER, PASSWORD)}
        async with self.http.request(method, url, params=params, headers=auth) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body

    async def incoming(self, recorded_id: str, number: str = "13800138000") -> str:
        """A citizen's call as this repository's dialplan delivers it: answered, in Stasis."""
        caller = await self.emu.incoming_call(number, answered=True, caller_name="Citizen")
        self.rename[caller] = recorded_id
        await self.seen("StasisStart", caller)
        return caller

    async def compare(self, scenario: str, only: set[str] | None = None) -> None:
        """The events received so far against the recording (after 0.2 s of quiet)."""
        count = -1
        while count != len(self.events):
            count = len(self.events)
            await asyncio.sleep(0.2)
        got = steps(self.events, self.rename, only)
        want = steps(recorded(scenario), {}, only)
        assert [s for s, _ in got] == expected(scenario, [s for s, _ in want])
        got_keys, want_keys = keyed(got), keyed(want)
        differences = [
            (at, sorted(want_keys[at] - got_keys[at]), sorted(got_keys[at] - want_keys[at]))
            for at in want_keys
            if want_keys[at] != got_keys[at]
        ]
        assert differences == [], "(event, keys only recorded, keys only emulated)"


@contextlib.asynccontextmanager
async def hub_on(**emulator: Any) -> AsyncIterator[Hub]:
    async with AriEmulator(USER, PASSWORD, APP, **emulator) as emu, aiohttp.ClientSession() as http:
        hub = Hub(emu, AriClient(emu.base_url, USER, PASSWORD, APP, backoff=FAST), http)
        task = asyncio.get_running_loop().create_task(hub.pump())
        try:
            await emu.wait_connected()
            yield hub
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await hub.ari.close()


@contextlib.asynccontextmanager
async def audiosocket_server(
    on_frame: Callable[[int, bytes, asyncio.StreamWriter], None] | None = None,
) -> AsyncIterator[tuple[int, asyncio.Queue[tuple[int, bytes]]]]:
    """A TCP server in the place of the hub's AudioSocket server: (port, frames received)."""
    frames: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                header = await reader.readexactly(3)
                payload = await reader.readexactly(int.from_bytes(header[1:], "big"))
                frames.put_nowait((header[0], payload))
                if on_frame is not None:
                    on_frame(header[0], payload, writer)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], frames


def first_frame(connection: str) -> bytes:
    """The recorded first AudioSocket frame: kind 0x01, length 16, the UUID."""
    frame = FRAMES[connection]["first_frames"][0]
    return bytes.fromhex(frame["header_hex"]) + uuid.UUID(frame["uuid"]).bytes


# (a) the recorded events and REST bodies through our parser


def test_every_recorded_event_of_a_modelled_type_parses_to_it() -> None:
    """No recorded event of a type we model becomes UnknownEvent; the others all do."""
    wrong = []
    for scenario, event in all_recorded():
        parsed = parse_event(event)
        want = event["type"] if event["type"] in MODELLED else "UnknownEvent"
        if type(parsed).__name__ != want:
            wrong.append((scenario, event["type"], type(parsed).__name__))
        elif not isinstance(parsed, UnknownEvent):
            assert parsed.application == APP
            assert parsed.timestamp.tzinfo is not None
    assert wrong == []


def parsed(scenario: str, kind: type[Any]) -> list[Any]:
    return [e for e in map(parse_event, recorded(scenario)) if isinstance(e, kind)]


def test_recorded_call_fields_come_out_right() -> None:
    """Caller, channel state, dialled number, digits, durations and hangup causes parse as sent."""
    (start,) = parsed("inbound_call_dtmf_caller_hangup", StasisStart)
    channel = start.channel
    assert (channel.id, channel.state, channel.caller_number) == ("s1-caller", "Up", "13800138000")
    assert (channel.caller_name, channel.dialplan_context) == ("Citizen", "from-trunk")
    assert (channel.dialplan_exten, start.args) == ("12345", ())
    dtmf = parsed("inbound_call_dtmf_caller_hangup", ChannelDtmfReceived)
    assert [(d.digit, d.duration_ms) for d in dtmf] == [("1", 100), ("2", 100), ("#", 100)]
    (local_bye,) = parsed("inbound_call_dtmf_caller_hangup", ChannelHangupRequest)
    assert (local_bye.cause, local_bye.soft) == (16, False)
    (ours,) = parsed("hub_hangup", ChannelHangupRequest)
    assert (ours.cause, ours.soft) == (32, True)

    sip = "sip_trunk_call_ivr_agent_transfer"
    trunk = parsed(sip, StasisStart)[0].channel
    assert (trunk.id, trunk.name, trunk.caller_number) == (
        "1796428877.12",
        "PJSIP/trunk-00000007",
        "057112345",
    )
    assert [(d.digit, d.duration_ms) for d in parsed(sip, ChannelDtmfReceived)] == [
        ("1", 280),
        ("2", 180),
    ]
    requests = {e.channel.id: e for e in parsed(sip, ChannelHangupRequest)}
    assert (requests[trunk.id].cause, requests[trunk.id].soft) == (None, False)  # a SIP BYE
    assert (requests["sip-media"].cause, requests["sip-media"].soft) == (32, True)
    media_start = next(e for e in parsed(sip, StasisStart) if e.channel.id == "sip-media")
    assert media_start.args == ("26e43012-25de-404c-8ea9-e80348e1d5dd",)

    destroyed = {e.channel.id: e for e in parsed("originate_noanswer_busy_dial", ChannelDestroyed)}
    noanswer = destroyed["s5-noanswer"]
    assert (noanswer.cause, noanswer.cause_txt) == (19, "User alerting, no answer")
    assert (destroyed["s5-busy"].cause, destroyed["s5-busy"].cause_txt) == (0, "Unknown")


def test_recorded_media_fields_come_out_right() -> None:
    """Playback states and media, recording names, states and durations, bridges parse as sent."""
    scenario = "playback_stopped_failed_hangup"
    assert {e.playback.state for e in parsed(scenario, PlaybackStarted)} == {"playing"}
    finished = [(e.playback.id, e.playback.state) for e in parsed(scenario, PlaybackFinished)]
    assert finished == [("s3-ring", "done"), ("s3-missing", "failed"), ("s3-multi", "failed")]
    (greeting,) = parsed("inbound_call_dtmf_caller_hangup", PlaybackFinished)
    assert (greeting.playback.media_uri, greeting.playback.target_uri) == (
        "sound:hub-welcome",
        "channel:s1-caller",
    )

    recordings = [e.recording for e in parsed("channel_recordings", RecordingFinished)]
    assert [(r.name, r.state, r.duration) for r in recordings] == [
        ("s3b-message", "done", 3),
        ("s3b-max", "done", 2),
        ("s3b-stopped", "done", 1),
        ("s3b-cancelled", "done", 1),
        ("s3b-hangup", "done", 1),
    ]
    assert {(r.format, r.target_uri) for r in recordings} == {("wav", "channel:s3b-caller")}
    bridged = [e.recording for e in parsed("agent_transfer_bridge_record", RecordingFinished)]
    assert [(r.name, r.target_uri, r.duration) for r in bridged] == [
        ("s4-call", "bridge:s4-bridge", 2),
        ("s4-call-2", "bridge:s4-bridge", 5),
    ]
    entered = parsed("agent_transfer_bridge_record", ChannelEnteredBridge)[-1]
    assert (entered.bridge.id, entered.bridge.bridge_type) == ("s4-bridge", "mixing")
    assert entered.bridge.channels == ("s4-agent", "s4-caller")


def test_recorded_rest_bodies_parse() -> None:
    """The recorded REST answers parse into the channel, bridge, playback and recording."""
    channel = parse_channel(REST["channel_get"]["body"])
    assert (channel.id, channel.state, channel.caller_number) == ("s1-caller", "Up", "13800138000")
    media = parse_channel(REST["external_media_slin"]["body"])
    assert (media.id, media.state) == ("s7-media", "Down")
    assert parse_channel(REST["pjsip_originate_agent"]["body"]).name == "PJSIP/1001-00000008"
    assert parse_bridge(REST["bridge_get"]["body"]).channels == ("s4-agent", "s4-caller")
    assert parse_playback(REST["playback_missing_file"]["body"]).state == "failed"
    assert parse_playback(REST["playback_start"]["body"]).state == "queued"
    assert parse_recording(REST["bridge_record_start"]["body"]).state == "queued"


# (b) the emulator through the recorded scenarios


async def test_caller_presses_keys_and_hangs_up() -> None:
    """Greeting, three keys and the caller's hang-up: no ChannelDestroyed after StasisEnd."""
    async with hub_on() as hub:
        caller = await hub.incoming("s1-caller")
        await hub.ari.answer(caller)  # already Up: 204 and no event
        await hub.ari.play(caller, "sound:hub-welcome", playback_id="s1-greeting")
        await hub.seen("PlaybackFinished", "s1-greeting")
        for digit in "12#":
            await hub.emu.press(caller, digit)
        await hub.emu.caller_hangs_up(caller)
        await hub.compare("inbound_call_dtmf_caller_hangup")


async def test_hub_hangs_up_the_caller() -> None:
    """The hub's hang-up: a soft request (cause 32), StasisEnd and nothing after it."""
    async with hub_on() as hub:
        caller = await hub.incoming("s2-caller")
        await hub.ari.hangup(caller)
        await hub.compare("hub_hangup")


async def test_playback_stopped_missing_and_cut_by_hangup() -> None:
    """A stopped playback is "done"; a missing file and a hang-up make one "failed"."""
    async with hub_on(playback_seconds=60, missing_media={"sound:no-such-file"}) as hub:
        caller = await hub.incoming("s3-caller")
        await hub.ari.play(caller, "tone:ring;tonezone=cn", playback_id="s3-ring")
        await hub.seen("PlaybackStarted", "s3-ring")
        await hub.ari.stop_playback("s3-ring")
        status, body = await hub.rest(
            "POST", f"/channels/{caller}/play", media="sound:no-such-file", playbackId="s3-missing"
        )
        assert (status, body["state"]) == (201, "failed")
        assert keys(body) == keys(REST["playback_missing_file"]["body"])
        await hub.seen("PlaybackFinished", "s3-missing")
        media = ["sound:hub-welcome", "tone:beep;tonezone=cn"]
        multi = await hub.ari.play(caller, media, playback_id="s3-multi")
        assert multi.state == "queued"
        await hub.seen("PlaybackStarted", "s3-multi")
        await hub.ari.hangup(caller)
        await hub.compare("playback_stopped_failed_hangup")


async def test_channel_recordings_end_five_ways() -> None:
    """A recording ended by the caller's #, by its maximum, by stop, by cancel, by hang-up."""
    async with hub_on(timeout_scale=0.1) as hub:
        caller = await hub.incoming("s3b-caller")
        record = f"/channels/{caller}/record"
        status, body = await hub.rest(
            "POST", record, name="s3b-message", format="wav", ifExists="overwrite",
            maxDurationSeconds="10", terminateOn="#",
        )  # fmt: skip
        assert status == 201
        assert keys(body) == keys(REST["channel_record_start"]["body"])
        await hub.seen("RecordingStarted", "s3b-message")
        await hub.emu.press(caller, "#")
        await hub.seen("RecordingFinished", "s3b-message")
        await hub.rest("POST", record, name="s3b-max", format="wav", maxDurationSeconds="2")
        await hub.seen("RecordingFinished", "s3b-max")
        await hub.ari.record_channel(caller, "s3b-stopped")
        await hub.seen("RecordingStarted", "s3b-stopped")
        await hub.ari.stop_recording("s3b-stopped")
        await hub.ari.record_channel(caller, "s3b-cancelled")
        await hub.seen("RecordingStarted", "s3b-cancelled")
        assert (await hub.rest("DELETE", "/recordings/live/s3b-cancelled"))[0] == 204
        await hub.ari.record_channel(caller, "s3b-hangup")
        await hub.seen("RecordingStarted", "s3b-hangup")
        await hub.ari.hangup(caller)
        await hub.compare("channel_recordings")
        with pytest.raises(AriError) as cancelled:  # a cancelled recording leaves no file
            await hub.ari.get_stored_recording_file("s3b-cancelled")
        assert cancelled.value.status == 404


async def test_agent_answers_is_recorded_and_hangs_up() -> None:
    """An agent rung into the caller's bridge, two recordings; the last ends with the caller."""
    async with hub_on(answer_endpoints={"Local/1001@test-agent": 0.05}) as hub:
        caller = await hub.incoming("s4-caller")
        status, bridge = await hub.rest(
            "POST", "/bridges", type="mixing", bridgeId="s4-bridge", name="call-s4"
        )
        assert (status, keys(bridge)) == (200, keys(REST["bridge_create"]["body"]))
        await hub.ari.add_channel("s4-bridge", caller)
        assert (await hub.rest("POST", "/bridges/s4-bridge/moh", mohClass="default"))[0] == 204
        status, agent = await hub.rest(
            "POST", "/channels", endpoint="Local/1001@test-agent", app=APP,
            appArgs="agent,1001,s4-bridge", callerId='"12345 Hotline" <12345>',
            channelId="s4-agent",
        )  # fmt: skip
        assert (status, keys(agent)) == (200, keys(REST["originate_agent"]["body"]))
        assert re.fullmatch(r"Local/1001@test-agent-[0-9a-f]{8};1", agent["name"])
        await hub.seen("StasisStart", "s4-agent")
        await hub.ari.add_channel("s4-bridge", "s4-agent")
        assert (await hub.rest("DELETE", "/bridges/s4-bridge/moh"))[0] == 204
        status, recording = await hub.rest(
            "POST", "/bridges/s4-bridge/record", name="s4-call", format="wav", ifExists="overwrite"
        )
        assert (status, keys(recording)) == (201, keys(REST["bridge_record_start"]["body"]))
        await hub.seen("RecordingStarted", "s4-call")
        await hub.ari.stop_recording("s4-call")
        await hub.ari.record_bridge("s4-bridge", "s4-call-2", if_exists="overwrite")
        await hub.seen("RecordingStarted", "s4-call-2")
        await hub.emu.caller_hangs_up("s4-agent")
        await hub.seen("ChannelDestroyed", "s4-agent")
        await hub.ari.hangup(caller)
        await hub.seen("StasisEnd", caller)
        await hub.ari.destroy_bridge("s4-bridge")
        await hub.compare("agent_transfer_bridge_record")


async def test_caller_hangs_up_while_bridged_with_an_agent() -> None:
    """The caller leaves first; the recording runs on until the agent, the last, is hung up."""
    async with hub_on(answer_endpoints={"Local/1002@test-agent": 0.05}) as hub:
        caller = await hub.incoming("s8-caller")
        await hub.ari.create_bridge("mixing", bridge_id="s8-bridge")
        await hub.ari.add_channel("s8-bridge", caller)
        await hub.ari.originate(
            "Local/1002@test-agent", app_args="agent,1002", channel_id="s8-agent"
        )
        await hub.seen("StasisStart", "s8-agent")
        await hub.ari.add_channel("s8-bridge", "s8-agent")
        await hub.ari.record_bridge("s8-bridge", "s8-call", if_exists="overwrite")
        await hub.seen("RecordingStarted", "s8-call")
        await hub.emu.caller_hangs_up(caller)
        await hub.seen("StasisEnd", caller)
        assert hub.emu.live_recordings, "the agent is still in the bridge"
        await hub.ari.hangup("s8-agent")
        await hub.seen("ChannelDestroyed", "s8-agent")
        await hub.ari.destroy_bridge("s8-bridge")
        await hub.compare("caller_hangup_in_bridge_with_agent")


async def test_originate_unanswered_and_busy() -> None:
    """A phone that only rings is destroyed at the timeout (19); a busy one after Dial BUSY."""
    emulator = {"reject_endpoints": {"Local/busy@test-agent": 17}, "timeout_scale": 0.05}
    async with hub_on(**emulator) as hub:
        await hub.ari.originate(
            "Local/noanswer@test-agent", app_args="agent,noanswer", timeout=4,
            channel_id="s5-noanswer",
        )  # fmt: skip
        await hub.seen("ChannelDestroyed", "s5-noanswer")
        await hub.ari.originate(
            "Local/busy@test-agent", app_args="agent,busy", timeout=4, channel_id="s5-busy"
        )
        await hub.seen("ChannelDestroyed", "s5-busy")
        # the recording's third and fourth parts use /channels/create and /dial: not emulated
        await hub.compare("originate_noanswer_busy_dial", only={"s5-noanswer", "s5-busy"})


@pytest.mark.parametrize(
    ("recorded_as", "endpoint"),
    [
        ("error_originate_bad_tech", "Nope/1001"),
        ("error_pjsip_originate_unknown_endpoint", "PJSIP/4711"),
        ("error_pjsip_originate_unregistered", "PJSIP/1002"),
    ],
)
async def test_originate_to_a_missing_endpoint_fails_allocation(
    recorded_as: str, endpoint: str
) -> None:
    """No such technology, endpoint or registration: 500 {"error": …}, read by AriError."""
    async with hub_on(missing_endpoints={"PJSIP/4711", "PJSIP/1002"}) as hub:
        status, body = await hub.rest("POST", "/channels", endpoint=endpoint, app=APP)
        assert (status, body) == (REST[recorded_as]["status"], REST[recorded_as]["body"])
        with pytest.raises(AriError) as refused:
            await hub.ari.originate(endpoint, app_args="agent,1002", channel_id="x-1")
        assert (refused.value.status, refused.value.message) == (500, "Allocation failed")
        assert hub.emu.sent_events == []


async def test_external_media_audiosocket_hub_deletes_it() -> None:
    """externalMedia: UUID frame first, the caller's key as a 0x03 frame, closed on DELETE."""
    call = "5755f23e-7ba6-4a04-bf80-00d3c19b1a0d"
    async with audiosocket_server() as (port, frames), hub_on(audiosocket_connect=True) as hub:
        caller = await hub.incoming("s7-caller")
        await hub.ari.create_bridge("mixing", bridge_id="s7-bridge")
        await hub.ari.add_channel("s7-bridge", caller)
        status, body = await hub.rest(
            "POST", "/channels/externalMedia", app=APP, external_host=f"127.0.0.1:{port}",
            encapsulation="audiosocket", transport="tcp", format="slin", data=call,
            channelId="s7-media",
        )  # fmt: skip
        assert status == 200
        assert keys(body) == keys(REST["external_media_slin"]["body"])
        assert body["channelvars"]["AUDIOSOCKET_UUID"] == call
        first = await asyncio.wait_for(frames.get(), 5)
        assert bytes([first[0]]) + len(first[1]).to_bytes(2, "big") + first[1] == first_frame(
            "slin_hub_closes"
        )
        await hub.seen("StasisStart", "s7-media")
        await hub.ari.add_channel("s7-bridge", "s7-media")
        await hub.emu.press(caller, "5")
        dtmf = FRAMES["slin_hub_closes"]["dtmf_frames"][0]
        assert await asyncio.wait_for(frames.get(), 5) == (dtmf["kind"], dtmf["digit"].encode())
        await hub.ari.hangup("s7-media")
        with pytest.raises(asyncio.IncompleteReadError):  # closed without a 0x00 frame
            await asyncio.wait_for(hub.emu.audiosocket_stream("s7-media").read_frame(), 5)
        await hub.ari.hangup(caller)
        await hub.ari.destroy_bridge("s7-bridge")
        await hub.compare("external_media_audiosocket_slin")


async def test_external_media_slin16_server_hangs_up() -> None:
    """slin16 audio goes as kind 0x12; the server's 0x00 ends the channel with no request."""
    call = "91c530c8-86d3-4a1c-b5d5-4c705163d16c"
    audio = FRAMES["slin16_server_sends_hangup"]["first_frames"][1]

    def hang_up_on_audio(kind: int, _: bytes, writer: asyncio.StreamWriter) -> None:
        if kind == audio["kind"]:
            writer.write(b"\x00\x00\x00")  # the recorded test server's hangup frame

    server = audiosocket_server(hang_up_on_audio)
    async with server as (port, frames), hub_on(audiosocket_connect=True) as hub:
        caller = await hub.incoming("s7b-caller")
        await hub.ari.create_bridge("mixing", bridge_id="s7b-bridge")
        await hub.ari.add_channel("s7b-bridge", caller)
        media = await hub.ari.external_media(
            f"127.0.0.1:{port}", data=call, format="slin16", channel_id="s7b-media"
        )
        await hub.seen("StasisStart", media.id)
        await hub.ari.add_channel("s7b-bridge", media.id)
        assert await asyncio.wait_for(frames.get(), 5) == (0x01, uuid.UUID(call).bytes)
        link = hub.emu.audiosocket_stream(media.id)
        await link.send_audio(bytes(640))
        got = await asyncio.wait_for(frames.get(), 5)
        assert (got[0], len(got[1])) == (audio["kind"], audio["length"])
        await hub.seen("ChannelDestroyed", media.id)
        assert await asyncio.wait_for(link.read_frame(), 5) == (0x00, b"")  # handed on
        with pytest.raises(asyncio.IncompleteReadError):
            await asyncio.wait_for(link.read_frame(), 5)
        await hub.emu.press(caller, "5")
        await hub.ari.hangup(caller)
        await hub.ari.destroy_bridge("s7b-bridge")
        await hub.compare("external_media_audiosocket_slin16_server_hangup")


async def test_sip_call_ivr_transfer_snoop_and_bye() -> None:
    """The real SIP trace: media, keys, agent, recording, snoop, the caller's BYE (no cause)."""
    call = "26e43012-25de-404c-8ea9-e80348e1d5dd"
    emulator = {"audiosocket_connect": True, "answer_endpoints": {"PJSIP/1001": 0.05}}
    async with audiosocket_server() as (port, _), hub_on(**emulator) as hub:
        caller = await hub.incoming("1796428877.12", number="057112345")
        await hub.ari.answer(caller)
        await hub.ari.create_bridge("mixing", bridge_id="sip-bridge")
        await hub.ari.add_channel("sip-bridge", caller)
        await hub.ari.external_media(f"127.0.0.1:{port}", data=call, channel_id="sip-media")
        await hub.seen("StasisStart", "sip-media")
        await hub.ari.add_channel("sip-bridge", "sip-media")
        await hub.emu.press(caller, "1", duration_ms=280)
        await hub.emu.press(caller, "2", duration_ms=180)
        await hub.ari.hangup("sip-media")
        agent = await hub.ari.originate(
            "PJSIP/1001", app_args="agent,1001", caller_id='"12345" <12345>', channel_id="sip-agent"
        )
        assert agent.name.startswith("PJSIP/1001-")
        await hub.seen("StasisStart", "sip-agent")
        await hub.ari.add_channel("sip-bridge", "sip-agent")
        await hub.ari.record_bridge("sip-bridge", "sip-call", if_exists="overwrite")
        await hub.seen("RecordingStarted", "sip-call")
        await hub.ari.snoop(
            caller, spy="both", whisper="out", app_args="snoop", snoop_id="sip-snoop"
        )
        await hub.seen("StasisStart", "sip-snoop")
        await hub.ari.hangup("sip-snoop")
        await hub.emu.caller_hangs_up(caller, cause=None)  # a BYE carries no cause
        await hub.seen("StasisEnd", caller)
        await hub.ari.hangup("sip-agent")
        await hub.seen("ChannelDestroyed", "sip-agent")
        await hub.ari.destroy_bridge("sip-bridge")
        await hub.compare("sip_trunk_call_ivr_agent_transfer")


async def test_supervisor_listens_through_a_snoop() -> None:
    """A snoop channel and a supervisor in a side bridge; the snoop gets no ChannelDestroyed."""
    answers = {"Local/1002@test-agent": 0.05, "Local/supervisor@test-agent": 0}
    async with hub_on(answer_endpoints=answers) as hub:
        caller = await hub.incoming("s6-caller")
        await hub.ari.create_bridge("mixing", bridge_id="s6-bridge")
        await hub.ari.add_channel("s6-bridge", caller)
        await hub.ari.originate(
            "Local/1002@test-agent", app_args="agent,1002", channel_id="s6-agent"
        )
        await hub.seen("StasisStart", "s6-agent")
        await hub.ari.add_channel("s6-bridge", "s6-agent")
        snoop = await hub.ari.snoop(
            caller, spy="both", whisper="out", app_args="snoop,s6", snoop_id="s6-snoop"
        )
        assert snoop.state == "Up"
        await hub.seen("StasisStart", "s6-snoop")
        await hub.ari.originate(
            "Local/supervisor@test-agent", app_args="supervisor,s6", channel_id="s6-supervisor"
        )
        await hub.seen("StasisStart", "s6-supervisor")
        await hub.ari.create_bridge("mixing", bridge_id="s6-spy")
        await hub.ari.add_channel("s6-spy", ["s6-snoop", "s6-supervisor"])
        await hub.emu.caller_hangs_up("s6-supervisor")
        await hub.seen("ChannelDestroyed", "s6-supervisor")
        await hub.ari.hangup("s6-snoop")
        await hub.ari.destroy_bridge("s6-spy")
        await hub.ari.hangup("s6-agent")
        await hub.ari.hangup(caller)
        await hub.ari.destroy_bridge("s6-bridge")
        await hub.compare("snoop_supervisor")


async def test_a_second_websocket_replaces_the_first() -> None:
    """The first WebSocket gets ApplicationReplaced, stays open, and gets no more events."""
    (replaced,) = recorded("application_replaced")
    async with hub_on() as first:
        second = Hub(
            first.emu, AriClient(first.emu.base_url, USER, PASSWORD, APP, backoff=FAST), first.http
        )
        task = asyncio.get_running_loop().create_task(second.pump())
        try:
            await first.seen("ApplicationReplaced", "")
            (event,) = first.events
            assert keys(event) == keys(replaced)
            assert (event["application"], parse_event(event).type) == (APP, "ApplicationReplaced")
            await asyncio.wait_for(second.ari.connected.wait(), 5)
            caller = await first.emu.incoming_call("13800138000")
            await second.seen("StasisStart", caller)
            await asyncio.sleep(0.1)
            assert first.ari.connected.is_set(), "Asterisk does not close the replaced socket"
            assert [e["type"] for e in first.events] == ["ApplicationReplaced"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await second.ari.close()
