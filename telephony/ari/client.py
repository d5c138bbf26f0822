"""AriClient: Asterisk's REST calls (HTTP basic auth) and its /ari/events WebSocket, read as an
async iterator of typed events that reconnects by itself.

The password never reaches a log line, a repr or an exception message: the WebSocket URL
carries it as `api_key`, so errors about that URL are reported by type and status only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from primitives.errors import HubError
from telephony.ari.events import (
    AriEvent,
    Bridge,
    Channel,
    LiveRecording,
    Playback,
    UnknownEvent,
    parse_bridge,
    parse_channel,
    parse_event,
    parse_playback,
    parse_recording,
)

log = logging.getLogger(__name__)

Direction = Literal["none", "both", "in", "out"]
IfExists = Literal["fail", "overwrite", "append"]
_T = TypeVar("_T")


class AriError(HubError):
    """Asterisk refused a request; `message` is ARI's own text (its `message` or `error`)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status
        self.message = message


class AriUnreachable(AriError):
    """No HTTP answer at all (connection refused, reset, deadline passed); status 0."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts to reconnect the events WebSocket."""

    initial_s: float = 0.5
    max_s: float = 30.0
    stable_s: float = 10.0  # a connection that held this long starts the next wait over


class AriClient:
    """One Stasis application on one Asterisk. `base_url` is Asterisk's HTTP root
    ("http://pbx:8088"; a trailing "/ari" is accepted too)."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        app: str,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout_s: float = 10.0,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.app = app
        self._root = base_url.rstrip("/").removesuffix("/ari")
        self._user = user
        self._password = password
        self._auth = {"Authorization": aiohttp.encode_basic_auth(user, password)}
        self._session = session
        self._owns_session = session is None
        self._timeout_s = timeout_s
        self._backoff = backoff
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closing = asyncio.Event()
        # Set while the events WebSocket is open: what the health check reports.
        self.connected = asyncio.Event()

    def __repr__(self) -> str:
        return f"AriClient(base_url={self._root!r}, user={self._user!r}, app={self.app!r})"

    async def close(self) -> None:
        """End events() and close the WebSocket, and the HTTP session if we created it."""
        self._closing.set()
        if self._ws is not None:
            await self._ws.close()
        if self._owns_session and self._session is not None:
            await self._session.close()

    # channels

    async def get_channel(self, channel_id: str) -> Channel:
        return _parsed(parse_channel, await self._call("GET", ("channels", channel_id)))

    async def answer(self, channel_id: str) -> None:
        await self._call("POST", ("channels", channel_id, "answer"))

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """reason: normal, busy, congestion, no_answer, rejected … (ARI's list)."""
        await self._call("DELETE", ("channels", channel_id), {"reason": reason})

    async def ring(self, channel_id: str) -> None:
        await self._call("POST", ("channels", channel_id, "ring"))

    async def ring_stop(self, channel_id: str) -> None:
        await self._call("DELETE", ("channels", channel_id, "ring"))

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        await self._call("POST", ("channels", channel_id, "moh"), {"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        await self._call("DELETE", ("channels", channel_id, "moh"))

    async def hold(self, channel_id: str) -> None:
        await self._call("POST", ("channels", channel_id, "hold"))

    async def unhold(self, channel_id: str) -> None:
        await self._call("DELETE", ("channels", channel_id, "hold"))

    async def play(
        self, channel_id: str, media: str | Sequence[str], playback_id: str | None = None
    ) -> Playback:
        """Play one media URI ("sound:…", "recording:…", "tone:…") or several in a row."""
        return await self._play(("channels", channel_id, "play"), media, playback_id)

    async def play_on_bridge(
        self, bridge_id: str, media: str | Sequence[str], playback_id: str | None = None
    ) -> Playback:
        return await self._play(("bridges", bridge_id, "play"), media, playback_id)

    async def stop_playback(self, playback_id: str) -> None:
        await self._call("DELETE", ("playbacks", playback_id))

    async def originate(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str = "",
        caller_id: str = "",
        timeout: int = 30,  # noqa: ASYNC109 - ARI's dial timeout (s), not a deadline on us
        channel_id: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """Dial `endpoint` ("PJSIP/1001"); when it answers, StasisStart arrives with app_args
        split on commas. Unanswered after `timeout` s: ChannelDestroyed."""
        params = {
            "endpoint": endpoint,
            "app": app or self.app,
            "appArgs": app_args or None,
            "callerId": caller_id or None,
            "timeout": timeout,
            "channelId": channel_id,
        }
        body = {"variables": dict(variables)} if variables else None
        return _parsed(parse_channel, await self._call("POST", ("channels",), params, body))

    async def snoop(
        self,
        channel_id: str,
        *,
        spy: Direction = "both",
        whisper: Direction = "none",
        app: str | None = None,
        app_args: str = "",
        snoop_id: str | None = None,
    ) -> Channel:
        params = {
            "spy": spy,
            "whisper": whisper,
            "app": app or self.app,
            "appArgs": app_args or None,
            "snoopId": snoop_id,
        }
        data = await self._call("POST", ("channels", channel_id, "snoop"), params)
        return _parsed(parse_channel, data)

    async def external_media(
        self,
        external_host: str,
        *,
        data: str,
        app: str | None = None,
        format: str = "slin",
        encapsulation: str = "audiosocket",
        transport: str = "tcp",
        channel_id: str | None = None,
    ) -> Channel:
        """A channel that streams the call's audio to `external_host` ("host:port"). For
        AudioSocket, `data` is the UUID Asterisk sends first on the TCP connection."""
        params = {
            "app": app or self.app,
            "external_host": external_host,
            "format": format,
            "encapsulation": encapsulation,
            "transport": transport,
            "data": data,
            "channelId": channel_id,
        }
        result = await self._call("POST", ("channels", "externalMedia"), params)
        return _parsed(parse_channel, result)

    # bridges

    async def create_bridge(
        self, bridge_type: str = "mixing", bridge_id: str | None = None, name: str = ""
    ) -> Bridge:
        params = {"type": bridge_type, "bridgeId": bridge_id, "name": name or None}
        return _parsed(parse_bridge, await self._call("POST", ("bridges",), params))

    async def add_channel(self, bridge_id: str, channel_ids: str | Sequence[str]) -> None:
        params = {"channel": _csv(channel_ids)}
        await self._call("POST", ("bridges", bridge_id, "addChannel"), params)

    async def remove_channel(self, bridge_id: str, channel_ids: str | Sequence[str]) -> None:
        params = {"channel": _csv(channel_ids)}
        await self._call("POST", ("bridges", bridge_id, "removeChannel"), params)

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._call("DELETE", ("bridges", bridge_id))

    # recordings

    async def record_bridge(
        self,
        bridge_id: str,
        name: str,
        *,
        format: str = "wav",
        if_exists: IfExists = "fail",
        beep: bool = False,
        max_duration_seconds: int = 0,
    ) -> LiveRecording:
        return await self._record(
            "bridges", bridge_id, name, format, if_exists, beep, max_duration_seconds
        )

    async def record_channel(
        self,
        channel_id: str,
        name: str,
        *,
        format: str = "wav",
        if_exists: IfExists = "fail",
        beep: bool = False,
        max_duration_seconds: int = 0,
    ) -> LiveRecording:
        return await self._record(
            "channels", channel_id, name, format, if_exists, beep, max_duration_seconds
        )

    async def _record(
        self,
        resource: Literal["bridges", "channels"],
        resource_id: str,
        name: str,
        format: str,
        if_exists: IfExists,
        beep: bool,
        max_duration_seconds: int,
    ) -> LiveRecording:
        """POST /{bridges|channels}/{id}/record: the two endpoints take the same parameters."""
        params = _record_params(name, format, if_exists, beep, max_duration_seconds)
        data = await self._call("POST", (resource, resource_id, "record"), params)
        return _parsed(parse_recording, data)

    async def stop_recording(self, name: str) -> None:
        await self._call("POST", ("recordings", "live", name, "stop"))

    async def get_stored_recording_file(self, name: str) -> bytes:
        """The finished recording's file, as Asterisk stored it (a WAV for format "wav")."""
        data = await self._call("GET", ("recordings", "stored", name, "file"))
        if not isinstance(data, bytes):
            raise AriError(502, "recording file is not binary")
        return data

    # events

    async def events(self) -> AsyncIterator[AriEvent | UnknownEvent]:
        """Every event for our app, until close(). Reconnects after a drop, waiting 0.5 s,
        then twice as long each failed attempt (at most 30 s). Raises AriError(401) on
        wrong credentials: retrying would not fix them."""
        loop = asyncio.get_running_loop()
        delay = self._backoff.initial_s
        while not self._closing.is_set():
            opened_at: float | None = None
            try:
                ws = await self._open_events()
                opened_at = loop.time()
                # aclosing: a consumer that stops early must still close the WebSocket
                async with contextlib.aclosing(self._read(ws)) as stream:
                    async for event in stream:
                        yield event
            except aiohttp.WSServerHandshakeError as e:
                if e.status == 401:
                    # `from None`: the chained error's text holds the URL, api_key and all
                    raise AriError(401, "Authentication required") from None
                log.warning("ari.events.refused", extra={"app": self.app, "status": e.status})
            except (aiohttp.ClientError, OSError, TimeoutError) as e:
                log.warning("ari.events.failed", extra={"app": self.app, "error": type(e).__name__})
            if self._closing.is_set():
                return
            if opened_at is not None and loop.time() - opened_at >= self._backoff.stable_s:
                delay = self._backoff.initial_s
            log.info("ari.events.reconnect", extra={"app": self.app, "delay_s": delay})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
            delay = min(delay * 2, self._backoff.max_s)

    async def _open_events(self) -> aiohttp.ClientWebSocketResponse:
        params = {
            "app": self.app,
            "api_key": f"{self._user}:{self._password}",
            "subscribeAll": "false",
        }
        async with asyncio.timeout(self._timeout_s):
            # Asterisk answers pings, so a dead TCP connection shows up within a heartbeat.
            self._ws = await self._http().ws_connect(
                f"{self._root}/ari/events", params=params, heartbeat=20.0
            )
        self.connected.set()
        log.info("ari.events.connected", extra={"app": self.app})
        return self._ws

    async def _read(
        self, ws: aiohttp.ClientWebSocketResponse
    ) -> AsyncIterator[AriEvent | UnknownEvent]:
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    event = _decode(msg.data)
                    if event is not None:
                        yield event
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    break
        finally:
            self.connected.clear()
            self._ws = None
            await ws.close()
        if not self._closing.is_set():
            log.warning("ari.events.disconnected", extra={"app": self.app})

    # HTTP

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:  # created lazily: a ClientSession wants a running loop
            self._session = aiohttp.ClientSession()
        return self._session

    async def _play(
        self, path: tuple[str, ...], media: str | Sequence[str], playback_id: str | None
    ) -> Playback:
        params = {"media": _csv(media), "playbackId": playback_id}
        return _parsed(parse_playback, await self._call("POST", path, params))

    async def _call(
        self,
        method: str,
        path: tuple[str, ...],
        params: Mapping[str, str | int | bool | None] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """JSON (or bytes) from one REST call; None for 204. Raises AriError, AriUnreachable."""
        # Ids and recording names are quoted whole, so a "/" in a name stays one segment.
        url = URL(f"{self._root}/ari/" + "/".join(quote(p, safe="") for p in path), encoded=True)
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            async with (
                asyncio.timeout(self._timeout_s),
                self._http().request(
                    method, url, params=query, json=body, headers=self._auth
                ) as resp,
            ):
                if resp.status >= 400:
                    raise AriError(resp.status, await _error_message(resp))
                if resp.status == 204:
                    return None
                if resp.content_type == "application/json":
                    return await resp.json()
                return await resp.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("ari.request.failed", extra={"method": method, "resource": path[0]})
            raise AriUnreachable(f"{method} {path[0]}: {type(e).__name__}") from e


def _decode(text: str) -> AriEvent | UnknownEvent | None:
    try:
        data = json.loads(text)
    except ValueError:
        log.warning("ari.event.undecodable", extra={"length": len(text)})
        return None
    if not isinstance(data, dict):
        log.warning("ari.event.undecodable", extra={"length": len(text)})
        return None
    return parse_event(data)


async def _error_message(resp: aiohttp.ClientResponse) -> str:
    try:
        data = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return resp.reason or ""
    if isinstance(data, dict):
        # ARI's own checks answer {"message": …}; a failed channel allocation on originate
        # (no such endpoint, none registered, driver not loaded) answers 500 {"error": …}
        for key in ("message", "error"):
            if isinstance(data.get(key), str):
                return data[key]
    return resp.reason or ""


def _parsed(parse: Callable[[Any], _T], data: Any) -> _T:
    try:
        return parse(data)
    except ValueError as e:
        raise AriError(502, f"unexpected response from Asterisk: {e}") from e


def _csv(values: str | Sequence[str]) -> str:
    # ARI's multi-valued parameters (media, channel) are comma-separated lists
    return values if isinstance(values, str) else ",".join(values)


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _record_params(
    name: str, format: str, if_exists: str, beep: bool, max_duration_seconds: int
) -> dict[str, str | int | bool | None]:
    return {
        "name": name,
        "format": format,
        "ifExists": if_exists,
        "beep": beep,
        "maxDurationSeconds": max_duration_seconds,
        "terminateOn": "none",  # DTMF must reach the IVR, not end the recording
    }
