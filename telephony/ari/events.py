"""ARI events and the objects they carry (Asterisk 20's models), as typed frozen dataclasses.

Asterisk adds fields between releases (protocol_id, tech_cause, channelvars, tenantid …), so
the parsers read only what the hub uses and ignore the rest. An event type we don't model
becomes UnknownEvent; a known one missing a field we need becomes UnknownEvent with a warning:
one odd event must never kill the loop that carries every call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

# Asterisk's AST_ISO8601_FORMAT in its local zone: "2026-12-04T20:00:00.000+0800"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def parse_time(text: str) -> datetime:
    """An ARI timestamp as an aware UTC datetime. Raises ValueError."""
    return datetime.strptime(text, _TIME_FORMAT).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Channel:
    id: str  # Asterisk's uniqueid, e.g. "1733313600.42"
    name: str  # "PJSIP/trunk-00000001"
    state: str  # ast_state2str: Down, Ring, Ringing, Up, Busy …
    caller_number: str = field(repr=False)  # personal data: kept out of reprs, and so of logs
    caller_name: str = field(repr=False)
    dialplan_context: str
    dialplan_exten: str


@dataclass(frozen=True, slots=True)
class Playback:
    id: str
    media_uri: str  # the media playing now, e.g. "sound:hello-world"
    target_uri: str  # "channel:<id>" or "bridge:<id>"
    state: str  # queued, playing, continuing, done, failed


@dataclass(frozen=True, slots=True)
class LiveRecording:
    name: str
    format: str
    state: str  # queued, recording, paused, done, failed, canceled
    target_uri: str
    duration: int | None = None  # whole seconds, once Asterisk knows it (RecordingFinished)
    cause: str | None = None  # why it failed (RecordingFailed)


@dataclass(frozen=True, slots=True)
class Bridge:
    id: str
    technology: str  # simple_bridge, softmix, holding_bridge …
    bridge_type: str  # mixing, holding
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Event:
    application: str
    timestamp: datetime
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StasisStart(_Event):
    channel: Channel
    args: tuple[str, ...]
    replace_channel: Channel | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StasisEnd(_Event):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStateChange(_Event):
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDtmfReceived(_Event):
    channel: Channel
    digit: str
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHangupRequest(_Event):
    channel: Channel
    cause: int | None  # for soft (API) hangups this is Asterisk's soft-hangup flag, not Q.850
    soft: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDestroyed(_Event):
    channel: Channel
    cause: int  # Q.850: 16 normal clearing, 17 busy, 19 no answer …
    cause_txt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackStarted(_Event):
    playback: Playback


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackFinished(_Event):
    playback: Playback


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(_Event):
    recording: LiveRecording


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFinished(_Event):
    recording: LiveRecording


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFailed(_Event):
    recording: LiveRecording


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeCreated(_Event):
    bridge: Bridge


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeDestroyed(_Event):
    bridge: Bridge


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEnteredBridge(_Event):
    bridge: Bridge
    channel: Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelLeftBridge(_Event):
    bridge: Bridge
    channel: Channel


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event type we don't model, or a malformed one; `raw` is what Asterisk sent."""

    type: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | PlaybackStarted
    | PlaybackFinished
    | RecordingStarted
    | RecordingFinished
    | RecordingFailed
    | BridgeCreated
    | BridgeDestroyed
    | ChannelEnteredBridge
    | ChannelLeftBridge
)


def _obj(data: Any, key: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, Mapping):
        raise ValueError(f"{key!r} is not an object")
    return value


def _str(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None and default is not None:
        return default  # Asterisk writes JSON null for an unset dialplan field
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is not a string")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key!r} is not an integer")
    return value


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _int(data, key)


def parse_channel(data: Any) -> Channel:
    """A Channel from ARI JSON. Raises ValueError when a field we need is missing."""
    if not isinstance(data, Mapping):
        raise ValueError("channel is not an object")
    caller = _obj(data, "caller")
    dialplan = data.get("dialplan") if isinstance(data.get("dialplan"), Mapping) else {}
    return Channel(
        id=_str(data, "id"),
        name=_str(data, "name"),
        state=_str(data, "state"),
        caller_number=_str(caller, "number", ""),
        caller_name=_str(caller, "name", ""),
        dialplan_context=_str(dialplan, "context", ""),
        dialplan_exten=_str(dialplan, "exten", ""),
    )


def parse_playback(data: Any) -> Playback:
    """A Playback from ARI JSON. Raises ValueError."""
    if not isinstance(data, Mapping):
        raise ValueError("playback is not an object")
    return Playback(
        id=_str(data, "id"),
        media_uri=_str(data, "media_uri"),
        target_uri=_str(data, "target_uri"),
        state=_str(data, "state"),
    )


def parse_recording(data: Any) -> LiveRecording:
    """A LiveRecording from ARI JSON. Raises ValueError."""
    if not isinstance(data, Mapping):
        raise ValueError("recording is not an object")
    cause = data.get("cause")
    return LiveRecording(
        name=_str(data, "name"),
        format=_str(data, "format"),
        state=_str(data, "state"),
        target_uri=_str(data, "target_uri"),
        duration=_opt_int(data, "duration"),
        cause=cause if isinstance(cause, str) else None,
    )


def parse_bridge(data: Any) -> Bridge:
    """A Bridge from ARI JSON. Raises ValueError."""
    if not isinstance(data, Mapping):
        raise ValueError("bridge is not an object")
    channels = data.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ValueError("'channels' is not a list of ids")
    return Bridge(
        id=_str(data, "id"),
        technology=_str(data, "technology", ""),
        bridge_type=_str(data, "bridge_type"),
        channels=tuple(channels),
    )


def _args(data: Mapping[str, Any]) -> tuple[str, ...]:
    args = data.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError("'args' is not a list of strings")
    return tuple(args)


def _replace_channel(data: Mapping[str, Any]) -> Channel | None:
    value = data.get("replace_channel")
    return None if value is None else parse_channel(value)


_Builder = Callable[[Mapping[str, Any], dict[str, Any]], AriEvent]

_BUILDERS: dict[str, _Builder] = {
    "StasisStart": lambda d, c: StasisStart(
        channel=parse_channel(d.get("channel")),
        args=_args(d),
        replace_channel=_replace_channel(d),
        **c,
    ),
    "StasisEnd": lambda d, c: StasisEnd(channel=parse_channel(d.get("channel")), **c),
    "ChannelStateChange": lambda d, c: ChannelStateChange(
        channel=parse_channel(d.get("channel")), **c
    ),
    "ChannelDtmfReceived": lambda d, c: ChannelDtmfReceived(
        channel=parse_channel(d.get("channel")),
        digit=_str(d, "digit"),
        duration_ms=_int(d, "duration_ms"),
        **c,
    ),
    "ChannelHangupRequest": lambda d, c: ChannelHangupRequest(
        channel=parse_channel(d.get("channel")),
        cause=_opt_int(d, "cause"),
        soft=d.get("soft") is True,
        **c,
    ),
    "ChannelDestroyed": lambda d, c: ChannelDestroyed(
        channel=parse_channel(d.get("channel")),
        cause=_int(d, "cause"),
        cause_txt=_str(d, "cause_txt"),
        **c,
    ),
    "PlaybackStarted": lambda d, c: PlaybackStarted(
        playback=parse_playback(d.get("playback")), **c
    ),
    "PlaybackFinished": lambda d, c: PlaybackFinished(
        playback=parse_playback(d.get("playback")), **c
    ),
    "RecordingStarted": lambda d, c: RecordingStarted(
        recording=parse_recording(d.get("recording")), **c
    ),
    "RecordingFinished": lambda d, c: RecordingFinished(
        recording=parse_recording(d.get("recording")), **c
    ),
    "RecordingFailed": lambda d, c: RecordingFailed(
        recording=parse_recording(d.get("recording")), **c
    ),
    "BridgeCreated": lambda d, c: BridgeCreated(bridge=parse_bridge(d.get("bridge")), **c),
    "BridgeDestroyed": lambda d, c: BridgeDestroyed(bridge=parse_bridge(d.get("bridge")), **c),
    "ChannelEnteredBridge": lambda d, c: ChannelEnteredBridge(
        bridge=parse_bridge(d.get("bridge")), channel=parse_channel(d.get("channel")), **c
    ),
    "ChannelLeftBridge": lambda d, c: ChannelLeftBridge(
        bridge=parse_bridge(d.get("bridge")), channel=parse_channel(d.get("channel")), **c
    ),
}


def parse_event(data: Mapping[str, Any]) -> AriEvent | UnknownEvent:
    """The typed event for one WebSocket message; UnknownEvent for types we don't model and
    (with a warning) for malformed known ones. Never raises."""
    kind = data.get("type") if isinstance(data, Mapping) else None
    if not isinstance(kind, str):
        log.warning("ari.event.malformed", extra={"type": None, "error": "no type"})
        return UnknownEvent(type="", raw=data)
    build = _BUILDERS.get(kind)
    if build is None:
        return UnknownEvent(type=kind, raw=data)
    try:
        common = {
            "application": _str(data, "application"),
            "timestamp": parse_time(_str(data, "timestamp")),
            "raw": data,
        }
        return build(data, common)
    except (ValueError, TypeError) as e:  # our checks, and strptime's
        log.warning("ari.event.malformed", extra={"type": kind, "error": str(e)})
        return UnknownEvent(type=kind, raw=data)
