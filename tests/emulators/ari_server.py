"""An ARI emulator on localhost: the REST resources and the /ari/events WebSocket the hub
uses, with enough call behaviour for IVR and ACD tests, shaped after what a real Asterisk
22.10.1 sent (tests/data/ari/, compared by tests/telephony/test_ari_fixtures.py).

REST (HTTP basic auth or ?api_key=user:pass, else 401): channels (get, answer, hangup, ring,
moh, hold, play, record, snoop, originate, externalMedia), bridges (create, destroy,
addChannel, removeChannel, moh, play, record), playbacks (stop), live recordings (stop,
cancel) and stored recordings (download). Status codes and `{"message": …}` texts are
Asterisk's own (res/ari/resource_channels.c, resource_bridges.c).

Test hooks play the far side: incoming_call, press, caller_hangs_up. An originated endpoint
answers after answer_endpoints[endpoint] seconds, fails with reject_endpoints[endpoint] (a
Q.850 cause), or rings until the originate timeout (ChannelDestroyed, cause 19); one in
missing_endpoints (or of a technology Asterisk has not loaded) is refused with 500
`{"error": "Allocation failed"}`. Media in missing_media fail to play. With
audiosocket_connect=True, externalMedia really connects to the hub's AudioSocket server and
sends the UUID frame; audiosocket_stream(channel_id) hands that connection to the test.

What the recordings showed and the emulator does too:
- Channels that entered Stasis from the dialplan (incoming_call, snoop channels) get no
  ChannelDestroyed after StasisEnd; channels the app made (originate, externalMedia) do.
- DELETE /channels/{id}: ChannelHangupRequest with "soft": true and "cause": 32 (the
  AST_SOFTHANGUP_EXPLICIT flag); a far-end hangup has a cause and no "soft" key (a SIP BYE
  has neither). The server closing an AudioSocket ends its channel without a hangup request.
- ChannelDtmfReceived is sent when the digit ends, with duration_ms.
- A stopped playback finishes "done"; a missing file or a hangup makes it "failed".
- A bridge recording ends when the last real channel leaves the bridge; the Recorder channel
  is internal: listed in bridge.channels, but never entering or leaving in an event.
- No BridgeCreated for POST /bridges; Dial events for originated and externalMedia channels.
- A second events WebSocket for the app takes it over; the first gets ApplicationReplaced.

Events are shaped as Asterisk builds them: type, timestamp ("2026-12-04T12:00:00.000+0000"),
the objects, asterisk_id, application. Everything sent is kept in `sent_events`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import itertools
import re
import time
import uuid
import wave
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestServer

from primitives.tasks import BackgroundTasks

USER = "hub"
PASSWORD = "emulator-ari-secret"
APP = "hub"
ASTERISK_ID = "52:54:00:12:34:56"  # Asterisk's entity id: the host's MAC address

# ast_cause2str (main/channel.c) for the causes the emulator produces
CAUSES = {0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing",
          17: "User busy", 18: "No user responding", 19: "User alerting, no answer",
          21: "Call Rejected", 26: "Answered elsewhere", 28: "Invalid number format",
          31: "Normal, unspecified", 34: "Circuit/channel congestion",
          38: "Network out of order", 58: "Bearer capability not available",
          127: "Interworking, unspecified"}  # fmt: skip
# convert_reason_to_hangup_code (res/ari/resource_channels.c)
HANGUP_REASONS = {"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 18,
                  "rejected": 21, "unallocated": 1, "normal_unspecified": 31,
                  "number_incomplete": 28, "codec_mismatch": 58, "interworking": 127,
                  "failure": 38, "answered_elsewhere": 26}  # fmt: skip
# Dial's dialstatus for a failed call's cause (app_dial.c handle_cause, simplified)
DIALSTATUS = {17: "BUSY", 34: "CONGESTION", 19: "NOANSWER", 18: "NOANSWER"}
# DELETE /channels/{id} calls ast_softhangup(chan, AST_SOFTHANGUP_EXPLICIT), whose
# ChannelHangupRequest carries that flag as "cause", with "soft": true.
SOFTHANGUP_EXPLICIT = 32
# The channel drivers this repository's Asterisk loads; any other technology cannot be dialled.
TECHNOLOGIES = frozenset({"PJSIP", "Local"})
FORMATS = {"wav": "audio/wav", "sln": "audio/sln"}  # "type/extension", as Asterisk serves them
KIND_HANGUP, KIND_UUID, KIND_DTMF, KIND_AUDIO = 0x00, 0x01, 0x03, 0x10  # AudioSocket kinds
# The audio kind Asterisk 22 sends for an externalMedia format (recorded: slin16 is 0x12)
AUDIO_KINDS = {"slin": KIND_AUDIO, "slin16": 0x12}
INTERNAL_ERROR = "An internal error prevented this request from being handled"


def ari_time(when: datetime | None = None) -> str:
    """Asterisk's AST_ISO8601_FORMAT: milliseconds and a +hhmm offset."""
    t = when or datetime.now(UTC)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}{t:%z}"


class AriFailure(Exception):
    """An ARI error response: the middleware turns it into `{key: message}` with `status`.
    The key is "message" for ARI's own checks; a failed channel allocation says "error"."""

    def __init__(self, status: int, message: str, key: str = "message") -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.key = key


@dataclass
class AudioSocketLink:
    """Asterisk's end of one AudioSocket TCP connection, driven by a test. The emulator reads
    the socket itself (so it notices the server hanging up); read_frame hands the frames on."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    audio_kind: int = KIND_AUDIO  # 0x10 for slin, 0x12 for slin16
    _frames: asyncio.Queue[tuple[int, bytes] | None] = field(default_factory=asyncio.Queue)

    async def send(self, kind: int, payload: bytes = b"") -> None:
        self.writer.write(bytes([kind]) + len(payload).to_bytes(2, "big") + payload)
        await self.writer.drain()

    async def send_audio(self, pcm: bytes) -> None:
        await self.send(self.audio_kind, pcm)

    async def read_frame(self) -> tuple[int, bytes]:
        """The hub's next (kind, payload), a 0x00 hangup frame included. Raises
        asyncio.IncompleteReadError once the connection has ended."""
        frame = await self._frames.get()
        if frame is None:
            self._frames.put_nowait(None)  # every later read fails the same way
            raise asyncio.IncompleteReadError(b"", 3)
        return frame

    async def pump(self) -> None:
        """Queue the server's frames until it sends 0x00 or closes the connection."""
        try:
            while True:
                header = await self.reader.readexactly(3)
                payload = await self.reader.readexactly(int.from_bytes(header[1:], "big"))
                self._frames.put_nowait((header[0], payload))
                if header[0] == KIND_HANGUP:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._frames.put_nowait(None)

    async def close(self) -> None:
        # chan_audiosocket just closes the socket on hangup, no 0x00 frame
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@dataclass
class _Channel:
    id: str
    name: str
    state: str
    created: str
    caller_number: str = ""
    caller_name: str = ""
    context: str = "default"
    exten: str = "s"
    app_name: str = ""  # "Stasis" in the app; "AppDial2" for a channel the app dialled
    app_data: str = ""  # "hub,arg1" in Stasis; "(Outgoing Line)" with AppDial2
    # Made by the app (originate, externalMedia): the app stays subscribed until it is
    # destroyed, so ChannelDestroyed reaches it. Channels from the dialplan leave the app
    # with StasisEnd and their ChannelDestroyed is not sent to it.
    originated: bool = False
    in_stasis: bool = False
    bridge_id: str | None = None
    dial: asyncio.Task[None] | None = None  # an originate still ringing
    toggles: set[str] = field(default_factory=set)  # ring, moh, hold

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "state": self.state, "protocol_id": "",
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": "", "number": ""}, "accountcode": "",
            "dialplan": {"context": self.context, "exten": self.exten, "priority": 1,
                         "app_name": self.app_name, "app_data": self.app_data},
            "creationtime": self.created, "language": "en",
        }  # fmt: skip

    def dialled(self) -> None:
        """What a channel the app dialled runs outside Stasis (dialplan app and data)."""
        self.app_name, self.app_data = "AppDial2", "(Outgoing Line)"


@dataclass
class _Bridge:
    id: str
    bridge_type: str  # mixing or holding
    name: str
    created: str
    channels: list[str] = field(default_factory=list)
    # Internal channels in the bridge (a recording's Recorder): listed in `channels`, but the
    # app gets no event about them and they do not keep a recording going.
    helpers: set[str] = field(default_factory=set)

    def json(self) -> dict[str, Any]:
        mixing = self.bridge_type == "mixing"
        technology = "holding_bridge" if not mixing else "simple_bridge"
        if mixing and len(self.channels) > 2:
            technology = "softmix"  # Asterisk switches technology as the bridge grows
        return {
            "id": self.id, "technology": technology, "bridge_type": self.bridge_type,
            "bridge_class": "stasis", "creator": "Stasis", "name": self.name,
            "channels": list(self.channels), "creationtime": self.created,
            "video_mode": "talker" if mixing else "none",
        }  # fmt: skip

    def has_real_channels(self) -> bool:
        return any(c not in self.helpers for c in self.channels)


@dataclass
class _Playback:
    id: str
    media: list[str]
    target_uri: str
    state: str = "queued"
    index: int = 0
    task: asyncio.Task[None] | None = None

    def json(self) -> dict[str, Any]:
        out = {"id": self.id, "media_uri": self.media[self.index]}
        if self.index < len(self.media) - 1:
            out["next_media_uri"] = self.media[self.index + 1]
        return out | {"target_uri": self.target_uri, "language": "en", "state": self.state}


@dataclass
class _Recording:
    name: str
    format: str
    target_uri: str
    if_exists: str
    started: float
    terminate_on: str = "none"  # none, any, * or #: a caller's key that ends the recording
    state: str = "queued"
    duration: int | None = None
    recorder: str | None = None  # the Recorder channel a bridge recording adds to the bridge
    task: asyncio.Task[None] | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "format": self.format, "state": self.state,
                               "target_uri": self.target_uri}  # fmt: skip
        if self.duration is not None:
            out["duration"] = self.duration
        return out


class AriEmulator:
    def __init__(
        self,
        user: str = USER,
        password: str = PASSWORD,
        app: str = APP,
        *,
        playback_seconds: float = 0.05,
        answer_endpoints: Mapping[str, float] | None = None,
        reject_endpoints: Mapping[str, int] | None = None,
        missing_endpoints: Collection[str] = (),
        missing_media: Collection[str] = (),
        # originate timeouts and maxDurationSeconds are whole seconds: tests shrink them
        timeout_scale: float = 1.0,
        audiosocket_connect: bool = False,
    ) -> None:
        self.user, self.password, self.app = user, password, app
        self.playback_seconds = playback_seconds
        self.answer_endpoints = dict(answer_endpoints or {})  # 0: answers without ringing
        self.reject_endpoints = dict(reject_endpoints or {})
        self.missing_endpoints = set(missing_endpoints)
        self.missing_media = set(missing_media)
        self.timeout_scale = timeout_scale
        self.audiosocket_connect = audiosocket_connect
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sent_events: list[dict[str, Any]] = []
        self.channels: dict[str, _Channel] = {}
        self.bridges: dict[str, _Bridge] = {}
        self.playbacks: dict[str, _Playback] = {}
        self.live_recordings: dict[str, _Recording] = {}
        self.stored_recordings: dict[str, tuple[str, bytes]] = {}  # name -> (format, slin)
        self._links: dict[str, AudioSocketLink] = {}
        self._sockets: list[web.WebSocketResponse] = []  # the one holding the app, if any
        self._replaced: list[web.WebSocketResponse] = []  # open, but no longer sent events
        self._socket_added = asyncio.Event()
        self._tasks = BackgroundTasks()
        self._epoch = int(time.time())
        self._ids = itertools.count(1)
        self._names = itertools.count(1)
        web_app = web.Application(middlewares=[self._edge])
        self._add_routes(web_app.router)
        self._server = TestServer(web_app, host="127.0.0.1")

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> str:
        await self._server.start_server()
        return self.base_url

    async def stop(self) -> None:
        await self._tasks.cancel()
        for ws in [*self._sockets, *self._replaced]:
            await ws.close()
        for link in self._links.values():
            await link.close()
        await self._server.close()

    async def __aenter__(self) -> AriEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # test hooks: the caller's and the network's side

    async def wait_connected(self, within_s: float = 5.0) -> None:
        """Until the app's events WebSocket is open (Stasis() needs a registered app)."""
        async with asyncio.timeout(within_s):
            while not self._sockets:
                self._socket_added.clear()
                await self._socket_added.wait()

    async def incoming_call(
        self,
        caller_number: str,
        exten: str = "12345",
        args: Sequence[str] = (),
        *,
        caller_name: str = "",
        context: str = "from-trunk",
        answered: bool = False,
    ) -> str:
        """A trunk call reaching Stasis(app,args). Returns its id. It is in state Ring, as
        from a dialplan that leaves answering to the app; answered=True makes it Up, as this
        repository's extensions.conf sends it (Answer() before Stasis())."""
        if not self._sockets:
            # Stasis() fails on Asterisk when no WebSocket holds the app
            raise RuntimeError(f"Stasis app {self.app!r} is not registered")
        state = "Up" if answered else "Ring"
        chan = self._new_channel(f"PJSIP/trunk-{next(self._names):08x}", state)
        chan.caller_number, chan.caller_name = caller_number, caller_name
        chan.context, chan.exten = context, exten
        await self._enter_stasis(chan, list(args))
        return chan.id

    async def press(self, channel_id: str, digit: str, duration_ms: int = 100) -> None:
        """A key on the caller's phone, reported when it ends (after duration_ms): a 0x03
        frame on the AudioSocket of each externalMedia channel bridged with it (as Asterisk
        22 does), then ChannelDtmfReceived; a channel recording with a matching terminateOn
        then finishes."""
        chan = self._control(channel_id)
        await asyncio.sleep(duration_ms / 1000)
        if self.channels.get(channel_id) is not chan:
            return  # hung up while the key was down
        bridge = self.bridges.get(chan.bridge_id or "")
        for other in bridge.channels if bridge else ():
            if other != channel_id and other in self._links:
                with contextlib.suppress(ConnectionError):
                    await self._links[other].send(KIND_DTMF, digit.encode())
        await self._emit(
            "ChannelDtmfReceived", digit=digit, duration_ms=duration_ms, channel=chan.json()
        )
        target = f"channel:{chan.id}"
        for recording in list(self.live_recordings.values()):
            ends = recording.terminate_on == "any" or recording.terminate_on == digit
            if recording.target_uri == target and ends:
                await self._finish_recording(recording)

    async def caller_hangs_up(self, channel_id: str, cause: int | None = 16) -> None:
        """The far end of any channel hangs up: ChannelHangupRequest with `cause` and no
        "soft" key (16 is what a Local channel reports; None leaves "cause" out, as for a
        SIP BYE), then what follows every hang-up."""
        chan = self.channels[channel_id]
        reason = {} if cause is None else {"cause": cause}
        await self._emit("ChannelHangupRequest", **reason, channel=chan.json())
        await self._destroy(chan, 16 if cause is None else cause)

    async def send_raw(self, event: Mapping[str, Any]) -> None:
        """Send any JSON object as an event, untouched (unknown or malformed events)."""
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json(dict(event))

    async def drop_websockets(self) -> None:
        """Close every events WebSocket, as an Asterisk restart would."""
        sockets = [*self._sockets, *self._replaced]
        self._sockets, self._replaced = [], []
        for ws in sockets:
            await ws.close(code=WSCloseCode.GOING_AWAY)

    def audiosocket_stream(self, channel_id: str) -> AudioSocketLink:
        """The AudioSocket connection of an externalMedia channel (audiosocket_connect=True)."""
        return self._links[channel_id]

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.sent_events if e["type"] == kind]

    # the HTTP edge

    def _add_routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/ari/events", self._events)
        r.add_post("/ari/channels", self._originate)
        r.add_post("/ari/channels/externalMedia", self._external_media)
        r.add_get("/ari/channels/{id}", self._get_channel)
        r.add_delete("/ari/channels/{id}", self._hangup)
        r.add_post("/ari/channels/{id}/answer", self._answer)
        r.add_post("/ari/channels/{id}/play", self._play_channel)
        r.add_post("/ari/channels/{id}/record", self._record_channel)
        r.add_post("/ari/channels/{id}/snoop", self._snoop)
        for toggle in ("ring", "moh", "hold"):
            r.add_route("POST", f"/ari/channels/{{id}}/{toggle}", self._toggle)
            r.add_route("DELETE", f"/ari/channels/{{id}}/{toggle}", self._toggle)
        r.add_delete("/ari/playbacks/{id}", self._stop_playback)
        r.add_post("/ari/bridges", self._create_bridge)
        r.add_delete("/ari/bridges/{id}", self._destroy_bridge)
        r.add_post("/ari/bridges/{id}/addChannel", self._add_channel)
        r.add_post("/ari/bridges/{id}/removeChannel", self._remove_channel)
        r.add_route("POST", "/ari/bridges/{id}/moh", self._bridge_moh)
        r.add_route("DELETE", "/ari/bridges/{id}/moh", self._bridge_moh)
        r.add_post("/ari/bridges/{id}/play", self._play_bridge)
        r.add_post("/ari/bridges/{id}/record", self._record_bridge)
        r.add_post("/ari/recordings/live/{name}/stop", self._stop_recording)
        r.add_delete("/ari/recordings/live/{name}", self._cancel_recording)
        r.add_get("/ari/recordings/stored/{name}/file", self._stored_file)

    @web.middleware
    async def _edge(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != "/ari/events":
            self.requests.append((request.method, request.path, await _params(request)))
        if not self._authorized(request):
            headers = {"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'}
            return _error(401, "Authentication required", headers)
        try:
            return await handler(request)
        except AriFailure as e:
            return _error(e.status, e.message, key=e.key)
        except web.HTTPNotFound:
            return _error(404, "Resource not found")
        except web.HTTPMethodNotAllowed:
            return _error(405, "Invalid method")

    def _authorized(self, request: web.Request) -> bool:
        # res_ari.c: an Authorization header wins; ?api_key=user:pass otherwise
        expected = f"{self.user}:{self.password}"
        header = request.headers.get("Authorization", "")
        if header:
            try:
                given = base64.b64decode(header.removeprefix("Basic ")).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            return header.startswith("Basic ") and given == expected
        return request.query.get("api_key") == expected

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if not request.query.get("app"):
            raise AriFailure(400, "Missing parameter app")
        ws = web.WebSocketResponse()  # answers pings, as Asterisk does
        await ws.prepare(request)
        # One WebSocket holds an app: a new one takes it over, and Asterisk tells the old one
        # so with ApplicationReplaced without closing it.
        replaced, self._sockets = self._sockets, [ws]
        self._replaced.extend(replaced)
        for old in replaced:
            event = {"type": "ApplicationReplaced", "timestamp": ari_time(),
                     "application": self.app, "asterisk_id": ASTERISK_ID}  # fmt: skip
            self.sent_events.append(event)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await old.send_json(event)
        self._socket_added.set()
        try:
            async for _ in ws:
                pass  # clients send nothing the emulator acts on
        finally:
            for held in (self._sockets, self._replaced):
                with contextlib.suppress(ValueError):
                    held.remove(ws)
        return ws

    async def _emit(self, kind: str, **fields: Any) -> None:
        event = {"type": kind, "timestamp": ari_time(), **fields,
                 "asterisk_id": ASTERISK_ID, "application": self.app}  # fmt: skip
        self.sent_events.append(event)
        await self.send_raw(event)

    # lookups with Asterisk's errors

    def _control(self, channel_id: str) -> _Channel:
        """find_control(): 404 unknown channel, 409 channel outside Stasis."""
        chan = self.channels.get(channel_id)
        if chan is None:
            raise AriFailure(404, "Channel not found")
        if not chan.in_stasis:
            raise AriFailure(409, "Channel not in Stasis application")
        return chan

    def _ready(self, channel_id: str) -> _Channel:
        """channel_state_invalid(): outbound channels not yet answered refuse media."""
        chan = self._control(channel_id)
        if chan.state in ("Down", "Rsrvd", "Ringing"):
            raise AriFailure(412, "Channel in invalid state")
        return chan

    def _bridge(self, bridge_id: str) -> _Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriFailure(404, "Bridge not found")
        return bridge

    def _bridge_members(self, params: Mapping[str, str]) -> list[_Channel]:
        ids = [c for c in params.get("channel", "").split(",") if c]
        if not ids:
            raise AriFailure(400, "Missing parameter channel")
        members = []
        for channel_id in ids:
            chan = self.channels.get(channel_id)
            if chan is None:
                raise AriFailure(400, "Channel not found")
            if not chan.in_stasis:
                raise AriFailure(422, "Channel not in Stasis application")
            members.append(chan)
        return members

    # channels

    def _new_channel(self, name: str, state: str, channel_id: str | None = None) -> _Channel:
        if channel_id in self.channels:
            raise AriFailure(409, "Channel with given unique ID already exists")
        chan_id = channel_id or f"{self._epoch}.{next(self._ids)}"
        chan = _Channel(id=chan_id, name=name, state=state, created=ari_time())
        self.channels[chan.id] = chan
        return chan

    async def _enter_stasis(self, chan: _Channel, args: list[str]) -> None:
        chan.in_stasis = True
        chan.app_name, chan.app_data = "Stasis", ",".join([self.app, *args])
        await self._emit("StasisStart", args=args, channel=chan.json())

    async def _set_state(self, chan: _Channel, state: str) -> None:
        if chan.state != state:
            chan.state = state
            await self._emit("ChannelStateChange", channel=chan.json())

    async def _destroy(self, chan: _Channel, cause: int) -> None:
        """What follows a hang-up: media stops, the bridge is left, Stasis ends, then
        ChannelDestroyed with the Q.850 cause for a channel the app made."""
        if chan.dial is not None and chan.dial is not asyncio.current_task():
            chan.dial.cancel()
        self.channels.pop(chan.id, None)
        target = f"channel:{chan.id}"
        for playback in [p for p in self.playbacks.values() if p.target_uri == target]:
            await self._finish_playback(playback, "failed")  # cut short by the hangup
        for recording in [r for r in self.live_recordings.values() if r.target_uri == target]:
            await self._finish_recording(recording)
        if chan.bridge_id is not None and chan.bridge_id in self.bridges:
            await self._leave(chan, self.bridges[chan.bridge_id])
        if chan.in_stasis:
            chan.in_stasis = False
            await self._emit("StasisEnd", channel=chan.json())
        if chan.originated:
            chan.dialled()
            cause_txt = CAUSES.get(cause, "Unknown")
            await self._emit(
                "ChannelDestroyed", cause=cause, cause_txt=cause_txt, channel=chan.json()
            )
        if chan.id in self._links:
            await self._links[chan.id].close()

    async def _get_channel(self, request: web.Request) -> web.Response:
        chan = self.channels.get(request.match_info["id"])
        if chan is None:
            raise AriFailure(404, "Channel not found")
        return web.json_response(chan.json())

    async def _hangup(self, request: web.Request) -> web.Response:
        chan = self.channels.get(request.match_info["id"])
        if chan is None:
            raise AriFailure(404, "Channel not found")
        cause = _hangup_cause(await _params(request))
        await self._emit(
            "ChannelHangupRequest", cause=SOFTHANGUP_EXPLICIT, soft=True, channel=chan.json()
        )
        await self._destroy(chan, cause)
        return web.Response(status=204)

    async def _answer(self, request: web.Request) -> web.Response:
        # an answered channel answers 204 again, without an event
        await self._set_state(self._ready(request.match_info["id"]), "Up")
        return web.Response(status=204)

    async def _toggle(self, request: web.Request) -> web.Response:
        chan = self._control(request.match_info["id"])
        toggle, on = request.path.rsplit("/", 1)[1], request.method == "POST"
        if toggle == "hold":
            await self._emit("ChannelHold" if on else "ChannelUnhold", channel=chan.json())
        (chan.toggles.add if on else chan.toggles.discard)(toggle)
        return web.Response(status=204)

    async def _originate(self, request: web.Request) -> web.Response:
        params = await _params(request)
        endpoint = params.get("endpoint", "")
        if not endpoint:
            raise AriFailure(400, "Endpoint must be specified")
        tech, _, resource = endpoint.partition("/")
        if not tech or not resource:
            raise AriFailure(400, "Invalid endpoint specified")
        if tech not in TECHNOLOGIES or endpoint in self.missing_endpoints:
            # ast_request() made no channel (driver not loaded, no such PJSIP endpoint or no
            # registered contact): ARI answers with an "error" key, not "message"
            raise AriFailure(500, "Allocation failed", key="error")
        if not params.get("app"):
            raise AriFailure(501, "The emulator originates into Stasis apps only")
        suffix = ";1" if tech == "Local" else ""  # the app gets the first half of a Local pair
        name = f"{endpoint}-{next(self._names):08x}{suffix}"
        chan = self._new_channel(name, "Down", params.get("channelId"))
        chan.originated = True
        chan.dialled()
        if tech == "Local":
            chan.exten, _, chan.context = resource.partition("@")
        chan.caller_name, chan.caller_number = _parse_caller_id(params.get("callerId", ""))
        timeout = int(params.get("timeout") or 30)
        chan.dial = self._tasks.spawn(
            self._dial(chan, endpoint, params.get("appArgs", ""), timeout)
        )
        return web.json_response(chan.json())

    async def _dial_event(self, chan: _Channel, status: str, dialstring: str) -> None:
        await self._emit(
            "Dial", dialstatus=status, forward="", dialstring=dialstring, peer=chan.json()
        )

    async def _dial(self, chan: _Channel, endpoint: str, app_args: str, ring_s: int) -> None:
        await asyncio.sleep(0)  # the originate response goes out first
        tech, _, dialstring = endpoint.partition("/")
        if endpoint in self.reject_endpoints:
            cause = self.reject_endpoints[endpoint]
            await self._dial_event(chan, "", dialstring)
            await self._dial_event(chan, DIALSTATUS.get(cause, "CHANUNAVAIL"), dialstring)
            await self._destroy(chan, cause)
            return
        answer_after = self.answer_endpoints.get(endpoint)
        if answer_after == 0:  # answered at once: it never rang
            await self._dial_event(chan, "", dialstring)
        elif tech == "Local":  # Dial's first event comes before the far half's Ringing()
            await self._dial_event(chan, "", dialstring)
            await self._set_state(chan, "Ringing")
            await self._dial_event(chan, "RINGING", dialstring)
        else:  # chan_pjsip has the 180 Ringing before Dial reports the call
            await self._set_state(chan, "Ringing")
            await self._dial_event(chan, "", dialstring)
            await self._dial_event(chan, "RINGING", dialstring)
        limit = None if ring_s < 0 else (ring_s or 30) * self.timeout_scale
        if answer_after is None or (limit is not None and answer_after >= limit):
            if limit is not None:  # ast_dial's timeout: destroyed with no Dial NOANSWER
                await asyncio.sleep(limit)
                await self._destroy(chan, 19)
            return
        await asyncio.sleep(answer_after)
        chan.dial = None
        await self._set_state(chan, "Up")
        await self._dial_event(chan, "ANSWER", dialstring)
        await self._enter_stasis(chan, app_args.split(",") if app_args else [])

    async def _snoop(self, request: web.Request) -> web.Response:
        params = await _params(request)
        spy, whisper = params.get("spy") or "none", params.get("whisper") or "none"
        for label, value in (("spy", spy), ("whisper", whisper)):
            if value not in ("none", "both", "in", "out"):
                raise AriFailure(400, f"Invalid direction specified for {label}")
        if spy == whisper == "none":
            raise AriFailure(400, "Direction must be specified for at least spy or whisper")
        if not params.get("app"):
            raise AriFailure(400, "Application name is required")
        target = self.channels.get(request.match_info["id"])
        if target is None:
            raise AriFailure(404, "Provided channel was not found")
        name = f"Snoop/{target.id}-{next(self._names):08x}"
        chan = self._new_channel(name, "Up", params.get("snoopId"))
        args = params["appArgs"].split(",") if params.get("appArgs") else []
        self._tasks.spawn(self._enter_stasis_soon(chan, args))
        return web.json_response(chan.json())

    async def _enter_stasis_soon(self, chan: _Channel, args: list[str]) -> None:
        await asyncio.sleep(0)  # Asterisk answers the request before the channel enters Stasis
        await self._enter_stasis(chan, args)

    async def _external_media(self, request: web.Request) -> web.Response:
        params = await _params(request)
        host, port, data = _check_external_media(params)
        if params.get("channelId") in self.channels:
            raise AriFailure(409, "Channel with given unique ID already exists")
        if not self.audiosocket_connect:
            link = None
        else:  # chan_audiosocket connects while the channel is requested, before the reply
            try:
                async with asyncio.timeout(5):
                    streams = await asyncio.open_connection(host, port)
            except (OSError, TimeoutError) as e:
                raise AriFailure(500, INTERNAL_ERROR) from e
            link = AudioSocketLink(*streams, AUDIO_KINDS.get(params["format"], KIND_AUDIO))
        external_host = params["external_host"]
        chan = self._new_channel(
            f"AudioSocket/{external_host}-{data}", "Down", params.get("channelId")
        )
        chan.originated = True
        chan.dialled()
        if link is not None:
            self._links[chan.id] = link
            self._tasks.spawn(self._watch_link(chan, link))
        self._tasks.spawn(self._call_external(chan, f"{external_host}/{data}", data, link))
        channelvars = {"AUDIOSOCKET_SERVICE": external_host, "AUDIOSOCKET_UUID": data}
        return web.json_response(chan.json() | {"channelvars": channelvars})

    async def _call_external(
        self, chan: _Channel, dialstring: str, data: str, link: AudioSocketLink | None
    ) -> None:
        await asyncio.sleep(0)
        if link is not None:
            await link.send(KIND_UUID, uuid.UUID(data).bytes)
        await self._dial_event(chan, "", dialstring)
        await self._set_state(chan, "Up")
        await self._dial_event(chan, "ANSWER", dialstring)
        # externalMedia originates with appArgs = data, so StasisStart.args == [uuid]
        await self._enter_stasis(chan, [data])

    async def _watch_link(self, chan: _Channel, link: AudioSocketLink) -> None:
        """The AudioSocket server hanging up (0x00 or closing) ends the channel: it leaves
        the bridge and Stasis and is destroyed, with no ChannelHangupRequest (as recorded)."""
        await link.pump()
        if self.channels.get(chan.id) is chan:
            await self._destroy(chan, 16)

    # playbacks

    async def _play_channel(self, request: web.Request) -> web.Response:
        chan = self._ready(request.match_info["id"])
        return await self._start_playback(request, f"channel:{chan.id}")

    async def _play_bridge(self, request: web.Request) -> web.Response:
        bridge = self._bridge(request.match_info["id"])
        return await self._start_playback(request, f"bridge:{bridge.id}")

    async def _start_playback(self, request: web.Request, target: str) -> web.Response:
        params = await _params(request)
        media = [m for m in params.get("media", "").split(",") if m]
        if not media:
            raise AriFailure(400, "Missing parameter media")
        playback_id = params.get("playbackId") or str(uuid.uuid4())
        playback = _Playback(id=playback_id, media=media, target_uri=target)
        if media[0] in self.missing_media:
            playback.state = "failed"  # the 201 answer already says so; the events follow
        self.playbacks[playback_id] = playback
        playback.task = self._tasks.spawn(self._run_playback(playback))
        location = {"Location": f"/playbacks/{playback_id}"}
        return web.json_response(playback.json(), status=201, headers=location)

    async def _run_playback(self, playback: _Playback) -> None:
        await asyncio.sleep(0)
        for index, uri in enumerate(playback.media):
            if index:
                playback.index, playback.state = index, "continuing"
                await self._emit("PlaybackContinuing", playback=playback.json())
            else:
                playback.state = "playing"
                await self._emit("PlaybackStarted", playback=playback.json())
            playback.state = "playing"
            if uri in self.missing_media:
                await self._finish_playback(playback, "failed")
                return
            await asyncio.sleep(self.playback_seconds)
        await self._finish_playback(playback)

    async def _finish_playback(self, playback: _Playback, state: str = "done") -> None:
        """state: "done" when played to the end or stopped; "failed" for a missing file or
        a hangup that cut it short."""
        if self.playbacks.pop(playback.id, None) is None:
            return
        if playback.task is not None and playback.task is not asyncio.current_task():
            playback.task.cancel()
        playback.state = state
        await self._emit("PlaybackFinished", playback=playback.json())

    async def _stop_playback(self, request: web.Request) -> web.Response:
        playback = self.playbacks.get(request.match_info["id"])
        if playback is None:
            raise AriFailure(404, "Playback not found")
        await self._finish_playback(playback)
        return web.Response(status=204)

    # bridges

    async def _create_bridge(self, request: web.Request) -> web.Response:
        params = await _params(request)
        bridge_id = params.get("bridgeId") or str(uuid.uuid4())
        if bridge_id in self.bridges:
            raise AriFailure(409, f"Bridge with id '{bridge_id}' already exists")
        kind = "holding" if "holding" in params.get("type", "mixing").split(",") else "mixing"
        bridge = _Bridge(bridge_id, kind, params.get("name", ""), ari_time())
        self.bridges[bridge_id] = bridge
        return web.json_response(bridge.json())  # and no BridgeCreated event

    async def _destroy_bridge(self, request: web.Request) -> web.Response:
        bridge = self._bridge(request.match_info["id"])
        for channel_id in list(bridge.channels):
            if channel_id in self.channels:
                await self._leave(self.channels[channel_id], bridge)
        target = f"bridge:{bridge.id}"
        for recording in [r for r in self.live_recordings.values() if r.target_uri == target]:
            await self._finish_recording(recording)  # a bridge recorded while empty
        for playback in [p for p in self.playbacks.values() if p.target_uri == target]:
            await self._finish_playback(playback)
        del self.bridges[bridge.id]
        await self._emit("BridgeDestroyed", bridge=bridge.json())
        return web.Response(status=204)

    async def _add_channel(self, request: web.Request) -> web.Response:
        bridge = self._bridge(request.match_info["id"])
        for chan in self._bridge_members(await _params(request)):
            if chan.bridge_id == bridge.id:
                continue
            if chan.bridge_id in self.bridges:  # Asterisk moves it out of the old bridge
                await self._leave(chan, self.bridges[chan.bridge_id])
            await self._enter(chan, bridge)
        return web.Response(status=204)

    async def _remove_channel(self, request: web.Request) -> web.Response:
        bridge = self._bridge(request.match_info["id"])
        members = self._bridge_members(await _params(request))
        if any(chan.bridge_id != bridge.id for chan in members):
            raise AriFailure(422, "Channel not in this bridge")
        for chan in members:
            await self._leave(chan, bridge)
        return web.Response(status=204)

    async def _bridge_moh(self, request: web.Request) -> web.Response:
        # The MOH Announcer channel is internal: the app sees no event about it.
        self._bridge(request.match_info["id"])
        return web.Response(status=204)

    async def _enter(self, chan: _Channel, bridge: _Bridge) -> None:
        bridge.channels.append(chan.id)
        chan.bridge_id = bridge.id
        await self._emit("ChannelEnteredBridge", bridge=bridge.json(), channel=chan.json())

    async def _leave(self, chan: _Channel, bridge: _Bridge) -> None:
        bridge.channels.remove(chan.id)
        chan.bridge_id = None
        await self._emit("ChannelLeftBridge", bridge=bridge.json(), channel=chan.json())
        if not bridge.has_real_channels():
            # the Recorder stops when the last real channel leaves: RecordingFinished comes
            # right after that ChannelLeftBridge (before the channel's StasisEnd)
            target = f"bridge:{bridge.id}"
            for recording in [r for r in self.live_recordings.values() if r.target_uri == target]:
                await self._finish_recording(recording)

    # recordings

    async def _record_channel(self, request: web.Request) -> web.Response:
        chan = self._control(request.match_info["id"])
        recording = await self._new_recording(request, f"channel:{chan.id}")
        return self._recording_created(recording)

    async def _record_bridge(self, request: web.Request) -> web.Response:
        bridge = self._bridge(request.match_info["id"])
        recording = await self._new_recording(request, f"bridge:{bridge.id}")
        # A bridge is recorded by a Recorder channel that joins it. It is internal: it shows
        # in bridge.channels, but no event tells the app that it entered or left.
        recording.recorder = f"{self._epoch}.{next(self._ids)}"
        bridge.channels.append(recording.recorder)
        bridge.helpers.add(recording.recorder)
        return self._recording_created(recording)

    async def _new_recording(self, request: web.Request, target: str) -> _Recording:
        params = await _params(request)
        name, fmt = params.get("name", ""), params.get("format", "")
        if not name or not fmt:
            raise AriFailure(400, "Missing parameter name or format")
        max_duration = int(params.get("maxDurationSeconds") or 0)
        if max_duration < 0:
            raise AriFailure(400, "max_duration_seconds cannot be negative")
        terminate_on = params.get("terminateOn") or "none"
        if terminate_on not in ("none", "any", "*", "#"):
            raise AriFailure(400, "terminateOn invalid")
        if_exists = params.get("ifExists") or "fail"
        if if_exists not in ("fail", "overwrite", "append"):
            raise AriFailure(400, "ifExists invalid")
        if fmt not in FORMATS:
            raise AriFailure(422, "specified format is unknown on this system")
        taken = name in self.live_recordings or (
            if_exists == "fail" and name in self.stored_recordings
        )
        if taken:
            raise AriFailure(409, f"Recording '{name}' already exists and can not be overwritten")
        loop = asyncio.get_running_loop()
        recording = _Recording(name, fmt, target, if_exists, loop.time(), terminate_on)
        self.live_recordings[name] = recording
        if max_duration:
            stop_after = max_duration * self.timeout_scale
            recording.task = self._tasks.spawn(self._stop_after(recording, stop_after))
        self._tasks.spawn(self._begin_recording(recording))
        return recording

    def _recording_created(self, recording: _Recording) -> web.Response:
        location = {"Location": f"/recordings/live/{recording.name}"}
        return web.json_response(recording.json(), status=201, headers=location)

    async def _begin_recording(self, recording: _Recording) -> None:
        await asyncio.sleep(0)
        if recording.name in self.live_recordings and recording.state == "queued":
            recording.state = "recording"
            await self._emit("RecordingStarted", recording=recording.json())

    async def _stop_after(self, recording: _Recording, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self._finish_recording(recording)

    async def _finish_recording(self, recording: _Recording) -> None:
        if self.live_recordings.pop(recording.name, None) is not recording:
            return
        if recording.task is not None and recording.task is not asyncio.current_task():
            recording.task.cancel()
        elapsed = max(0.0, asyncio.get_running_loop().time() - recording.started)
        recording.state, recording.duration = "done", int(elapsed)  # whole seconds, like Asterisk
        silence = b"\x00\x00" * int(elapsed * 8000)  # 8 kHz slin; the emulator mixes no audio
        old = self.stored_recordings.get(recording.name)
        if recording.if_exists == "append" and old is not None:
            silence = old[1] + silence
        self.stored_recordings[recording.name] = (recording.format, silence)
        bridge = self.bridges.get(recording.target_uri.removeprefix("bridge:"))
        if recording.recorder is not None and bridge is not None:
            with contextlib.suppress(ValueError):
                bridge.channels.remove(recording.recorder)
            bridge.helpers.discard(recording.recorder)
        await self._emit("RecordingFinished", recording=recording.json())

    async def _stop_recording(self, request: web.Request) -> web.Response:
        recording = self.live_recordings.get(request.match_info["name"])
        if recording is None:
            raise AriFailure(404, "Recording not found")
        await self._finish_recording(recording)
        return web.Response(status=204)

    async def _cancel_recording(self, request: web.Request) -> web.Response:
        """DELETE /recordings/live/{name}: it finishes like a stop (state "done"), but its
        file is deleted."""
        recording = self.live_recordings.get(request.match_info["name"])
        if recording is None:
            raise AriFailure(404, "Recording not found")
        await self._finish_recording(recording)
        self.stored_recordings.pop(recording.name, None)
        return web.Response(status=204)

    async def _stored_file(self, request: web.Request) -> web.Response:
        stored = self.stored_recordings.get(request.match_info["name"])
        if stored is None:
            raise AriFailure(404, "Recording not found")
        fmt, pcm = stored
        body = _wav(pcm) if fmt == "wav" else pcm
        return web.Response(body=body, headers={"Content-Type": FORMATS[fmt]})


async def _params(request: web.Request) -> dict[str, str]:
    """Query parameters, plus top-level fields of a JSON body (ARI accepts either)."""
    params = dict(request.query)
    params.pop("api_key", None)  # keep the secret out of `requests`
    if request.can_read_body and request.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = await request.json()
            if isinstance(body, dict):
                for key, value in body.items():
                    if key != "variables" and isinstance(value, str | int | bool):
                        params.setdefault(key, str(value))
    return params


def _error(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    key: str = "message",
) -> web.Response:
    return web.json_response({key: message}, status=status, headers=headers)


def _hangup_cause(params: Mapping[str, str]) -> int:
    reason, code = params.get("reason"), params.get("reason_code")
    if reason and code:
        raise AriFailure(400, "The reason and reason_code can't both be specified")
    if code:
        if not code.lstrip("-").isdigit():
            raise AriFailure(400, "Invalid reason for hangup reason code provided")
        return int(code)
    if reason:
        if reason not in HANGUP_REASONS:
            raise AriFailure(400, "Invalid reason for hangup reason provided")
        return HANGUP_REASONS[reason]
    return 16


def _parse_caller_id(text: str) -> tuple[str, str]:
    """ast_callerid_parse, simplified: '"Name" <number>' or a bare number -> (name, number)."""
    match = re.fullmatch(r'\s*"?([^"<]*?)"?\s*<([^>]*)>\s*', text)
    return (match[1], match[2]) if match else ("", text.strip())


def _check_external_media(params: Mapping[str, str]) -> tuple[str, int, str]:
    """ast_ari_channels_external_media's checks; (host, port, data) for AudioSocket/TCP."""
    if not params.get("app"):
        raise AriFailure(400, "app cannot be empty")
    transport = params.get("transport") or "udp"
    encapsulation = params.get("encapsulation") or "rtp"
    if encapsulation == "rtp" and transport != "udp":
        raise AriFailure(400, "transport must be 'udp' for rtp encapsulation")
    if encapsulation == "audiosocket" and transport != "tcp":
        raise AriFailure(400, "transport must be 'tcp' for audiosocket encapsulation")
    if not params.get("external_host"):
        raise AriFailure(400, "external_host is required for all but websocket server connections")
    match = re.fullmatch(r"(.+):(\d+)", params["external_host"])
    if match is None:
        raise AriFailure(
            400, "external_host must be <host>:<port> for all transports other than websocket"
        )
    if not params.get("format"):
        raise AriFailure(400, "format cannot be empty")
    if (encapsulation, transport) != ("audiosocket", "tcp"):
        raise AriFailure(501, "The encapsulation and/or transport is not supported")
    data = params.get("data", "")
    if not data:
        raise AriFailure(400, "data can not be empty")
    try:
        uuid.UUID(data)
    except ValueError:  # chan_audiosocket refuses the request; ARI reports it as a 500
        raise AriFailure(500, INTERNAL_ERROR) from None
    return match[1], int(match[2]), data


def _wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)
    return out.getvalue()
