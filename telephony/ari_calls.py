"""Calls from Asterisk through ARI: the hub answers each caller that enters its Stasis app,
puts the caller in a mixing bridge with an externalMedia channel that streams the call to the
hub's AudioSocket server (where the IVR speaks and listens), and later rings the agent's
endpoint into the same bridge and records it.

Channel ids say what a channel is: the hub chooses them ("<call>-media", "<call>-agent-1",
"<call>-sup-1"), so an event is routed without any lookup of Asterisk's own names."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telephony.ari.client import AriClient, AriError
from telephony.ari.events import (
    ChannelDestroyed,
    ChannelHangupRequest,
    RecordingFailed,
    RecordingFinished,
    StasisEnd,
    StasisStart,
    UnknownEvent,
)

log = logging.getLogger(__name__)

AGENT_ANSWER_S = 20  # the agent's phone rings this long, then the call goes back in line
MONITOR_MODES = {"listen": "none", "whisper": "out"}  # snoop whisper direction per mode

# (call id, caller number, dialed number) when a caller's channel entered the app
CallerArrived = Callable[[str, str, str], Awaitable[None]]
AgentLeft = Callable[[str], Awaitable[None]]
RecordingReady = Callable[[str, bytes, str], Awaitable[None]]
CallerGone = Callable[[str], Awaitable[None]]


@dataclass(slots=True, eq=False)
class AriCall:
    call_id: str
    caller_channel: str
    bridge_id: str
    agent_channel: str | None = None
    agent: str = ""
    recording: str | None = None
    answered: asyncio.Future[bool] | None = None
    legs: itertools.count = field(default_factory=lambda: itertools.count(1))
    extra_channels: set[str] = field(default_factory=set)  # supervisors, snoops
    parties: dict[str, str] = field(default_factory=dict)  # expert login -> their channel
    ended: bool = False


class AriCalls:
    """CallControl for Asterisk, and the reader of its events."""

    def __init__(
        self,
        client: AriClient,
        media_host: str,
        *,
        caller_arrived: CallerArrived,
        caller_gone: CallerGone,
        agent_left: AgentLeft,
        recording_ready: RecordingReady,
    ) -> None:
        self._ari = client
        self._media_host = media_host  # host:port of our AudioSocket server, as Asterisk sees it
        self._caller_arrived = caller_arrived
        self._caller_gone = caller_gone
        self._agent_left = agent_left
        self._recording_ready = recording_ready
        self._calls: dict[str, AriCall] = {}
        self._by_channel: dict[str, str] = {}  # caller / agent channel id -> call id
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._ari.connected.is_set()

    async def run(self) -> None:
        """Read ARI events for the hub's life (the client reconnects by itself)."""
        async for event in self._ari.events():
            try:
                await self._on_event(event)
            except AriError as e:
                log.warning("ari.call_step_failed", extra={"status": e.status, "error": str(e)})
            except Exception:
                log.exception("ari.event_failed", extra={"event": type(event).__name__})

    # ------------------------------------------------------------ CallControl

    async def connect_agent(self, call_id: str, login: str, endpoint: str) -> bool:
        call = self._calls.get(call_id)
        if call is None or call.ended:
            return False
        party = call.parties.pop(login, None)
        if party is not None:
            # attended transfer: the expert already talks with the caller (three-way) and is
            # now the serving agent; their leg becomes the agent's and is recorded from here
            call.extra_channels.discard(party)
            call.agent_channel, call.agent = party, login
            await self._record(call, party)
            return True
        if not endpoint:
            log.warning("ari.agent_without_endpoint", extra={"agent": login, "call": call_id})
            return False
        leg = f"{call_id}-agent-{next(call.legs)}"
        call.answered = asyncio.get_running_loop().create_future()
        call.agent = login
        self._by_channel[leg] = call_id
        try:
            await self._ari.originate(
                endpoint,
                app_args=f"agent,{call_id},{login}",
                caller_id="12345",
                timeout=AGENT_ANSWER_S,
                channel_id=leg,
            )
            answered = await asyncio.wait_for(call.answered, AGENT_ANSWER_S + 5)
        except (AriError, TimeoutError):
            answered = False
        if not answered:
            self._by_channel.pop(leg, None)
            with contextlib.suppress(AriError):
                await self._ari.hangup(leg)
            return False
        call.agent_channel = leg
        await self._ari.add_channel(call.bridge_id, leg)
        await self._record(call, leg)
        return True

    async def _record(self, call: AriCall, leg: str) -> None:
        call.recording = f"call-{call.call_id}-{leg.rsplit('-', 1)[1]}"
        try:
            await self._ari.record_bridge(call.bridge_id, call.recording, format="wav")
        except AriError as e:  # the talk goes on unrecorded rather than not at all
            log.warning("ari.record_failed", extra={"call": call.call_id, "error": str(e)})
            call.recording = None

    async def drop_agent(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is None or call.agent_channel is None:
            return
        channel, call.agent_channel = call.agent_channel, None
        await self._finish_recording(call)
        with contextlib.suppress(AriError):
            await self._ari.hangup(channel)

    async def hold(self, call_id: str, on: bool) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        if on:
            await self._ari.start_moh(call.caller_channel)
        else:
            await self._ari.stop_moh(call.caller_channel)

    async def hangup(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is not None:
            with contextlib.suppress(AriError):
                await self._ari.hangup(call.caller_channel)

    async def add_party(self, call_id: str, login: str, endpoint: str) -> None:
        """An expert joins the call (three-way): their phone rings into the call's bridge."""
        await self.monitor(call_id, endpoint, "barge", leg="party", who=login)

    async def monitor(
        self, call_id: str, endpoint: str, mode: str, *, leg: str = "sup", who: str = ""
    ) -> None:
        """A supervisor joins: listen (hears both), whisper (speaks to the agent only) or
        barge (in the call's bridge, heard by all)."""
        call = self._calls.get(call_id)
        if call is None or call.ended:
            raise LookupError(call_id)
        n = next(call.legs)
        sup = f"{call_id}-{leg}-{n}"
        call.extra_channels.add(sup)
        self._by_channel[sup] = call_id
        await self._ari.originate(
            endpoint, app_args=f"supervisor,{call_id},{mode},{who}", timeout=30, channel_id=sup
        )

    # ------------------------------------------------------------ events

    async def _on_event(self, event: object) -> None:
        if isinstance(event, StasisStart):
            await self._started(event)
        elif isinstance(event, StasisEnd | ChannelHangupRequest | ChannelDestroyed):
            await self._channel_gone(event.channel.id, event)
        elif isinstance(event, RecordingFinished | RecordingFailed):
            await self._recorded(event)
        elif isinstance(event, UnknownEvent) and event.type == "ApplicationReplaced":
            # another process registered the same Stasis app: calls now go there, not here
            log.error("ari.application_replaced", extra={"app": self._ari.app})

    async def _started(self, event: StasisStart) -> None:
        channel = event.channel
        args = event.args
        if args and args[0] == "agent" and len(args) >= 2:
            call = self._calls.get(args[1])
            if call and call.answered and not call.answered.done():
                call.answered.set_result(True)
            return
        if args and args[0] == "supervisor" and len(args) >= 3:
            who = args[3] if len(args) > 3 else ""
            await self._supervisor_answered(channel.id, args[1], args[2], who)
            return
        ours = ("-snoop-", "-sup-", "-party-")
        if channel.id.endswith("-media") or any(part in channel.id for part in ours):
            return  # our own channels entering the app
        await self._caller(event)

    async def _caller(self, event: StasisStart) -> None:
        channel = event.channel
        call_id = str(uuid.uuid4())
        call = AriCall(call_id, channel.id, bridge_id=call_id)
        self._calls[call_id] = call
        self._by_channel[channel.id] = call_id
        log.info("ari.call_arrived", extra={"call": call_id, "channel": channel.id})
        await self._ari.answer(channel.id)
        await self._ari.create_bridge("mixing", bridge_id=call_id, name=f"call-{call_id}")
        # the IVR is told of the call before Asterisk connects to the AudioSocket server
        await self._caller_arrived(call_id, channel.caller_number, channel.dialplan_exten)
        media = await self._ari.external_media(
            self._media_host, data=call_id, channel_id=f"{call_id}-media"
        )
        await self._ari.add_channel(call.bridge_id, [channel.id, media.id])

    async def _channel_gone(self, channel_id: str, event: object) -> None:
        call_id = self._by_channel.get(channel_id)
        call = self._calls.get(call_id) if call_id else None
        if call is None:
            return
        if channel_id == call.caller_channel:
            if isinstance(event, ChannelHangupRequest) and event.soft:
                return  # our own hangup request: StasisEnd follows
            await self._end(call)
        elif channel_id == call.agent_channel:
            call.agent_channel = None
            await self._finish_recording(call)
            await self._agent_left(call.call_id)
        elif channel_id in call.parties.values():  # an expert left before taking the call
            call.parties = {k: v for k, v in call.parties.items() if v != channel_id}
        elif isinstance(event, ChannelDestroyed) and call.answered and not call.answered.done():
            call.answered.set_result(False)  # the agent's phone was not answered
        if isinstance(event, StasisEnd | ChannelDestroyed):  # dialplan channels get no Destroyed
            self._by_channel.pop(channel_id, None)

    async def _end(self, call: AriCall) -> None:
        if call.ended:
            return
        call.ended = True
        log.info("ari.call_ended", extra={"call": call.call_id})
        if call.answered and not call.answered.done():
            call.answered.set_result(False)
        await self._finish_recording(call)
        for channel in (call.agent_channel, f"{call.call_id}-media", *call.extra_channels):
            if channel:
                with contextlib.suppress(AriError):
                    await self._ari.hangup(channel)
        with contextlib.suppress(AriError):
            await self._ari.destroy_bridge(call.bridge_id)
        await self._caller_gone(call.call_id)
        self._calls.pop(call.call_id, None)

    async def _finish_recording(self, call: AriCall) -> None:
        if call.recording is None:
            return
        with contextlib.suppress(AriError):
            await self._ari.stop_recording(call.recording)

    async def _recorded(self, event: RecordingFinished | RecordingFailed) -> None:
        name = event.recording.name
        if not name.startswith("call-") or isinstance(event, RecordingFailed):
            return
        call_id = name[len("call-") :].rsplit("-", 1)[0]
        call = self._calls.get(call_id)
        agent = call.agent if call else ""
        try:
            wav = await self._ari.get_stored_recording_file(name)
        except AriError as e:
            log.warning("ari.recording_fetch_failed", extra={"call": call_id, "error": str(e)})
            return
        await self._recording_ready(call_id, wav, agent)

    async def _supervisor_answered(
        self, channel_id: str, call_id: str, mode: str, who: str = ""
    ) -> None:
        call = self._calls.get(call_id)
        if call is None:
            with contextlib.suppress(AriError):
                await self._ari.hangup(channel_id)
            return
        if mode == "barge" or call.agent_channel is None:
            await self._ari.add_channel(call.bridge_id, channel_id)
            if who:  # an expert in a three-way call, who may take the call over
                call.parties[who] = channel_id
            return
        # listen / whisper: a snoop on the agent's channel in a bridge of its own with the
        # supervisor; whisper "out" is heard by the agent only
        snoop_id = f"{call_id}-snoop-{next(call.legs)}"
        call.extra_channels.add(snoop_id)
        await self._ari.snoop(
            call.agent_channel,
            spy="both",
            whisper=MONITOR_MODES.get(mode, "none"),
            snoop_id=snoop_id,
        )
        side = await self._ari.create_bridge("mixing", bridge_id=f"{call_id}-{snoop_id}")
        await self._ari.add_channel(side.id, [snoop_id, channel_id])
