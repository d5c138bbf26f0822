"""AriCalls against the ARI emulator: a caller is answered and bridged with the hub's media
channel; the agent's phone is rung into the bridge and recorded; an expert joins (three-way)
and, transferred the call, takes it over without being rung again; the caller's hang-up ends
everything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from telephony.ari.client import AriClient
from telephony.ari_calls import AriCalls
from tests.channels.helpers import eventually
from tests.emulators.ari_server import APP, PASSWORD, USER, AriEmulator


class Hub:
    """What the hub would do with AriCalls' callbacks: remember them."""

    def __init__(self) -> None:
        self.arrived: list[tuple[str, str, str]] = []
        self.gone: list[str] = []
        self.agent_left: list[str] = []
        self.recordings: list[tuple[str, int, str]] = []

    async def caller_arrived(self, call_id: str, caller: str, dialed: str) -> None:
        self.arrived.append((call_id, caller, dialed))

    async def caller_gone(self, call_id: str) -> None:
        self.gone.append(call_id)

    async def left(self, call_id: str) -> None:
        self.agent_left.append(call_id)

    async def recording(self, call_id: str, wav: bytes, agent: str) -> None:
        self.recordings.append((call_id, len(wav), agent))


@pytest.fixture
async def parts() -> AsyncIterator[tuple[AriEmulator, AriCalls, Hub]]:
    endpoints = {"PJSIP/1001": 0.05, "PJSIP/1006": 0.05}
    async with AriEmulator(
        USER, PASSWORD, APP, answer_endpoints=endpoints, missing_endpoints={"PJSIP/9999"}
    ) as emu:
        client = AriClient(emu.base_url, USER, PASSWORD, APP)
        hub = Hub()
        calls = AriCalls(
            client,
            "127.0.0.1:9",  # nothing listens: the emulator does not connect (audiosocket off)
            caller_arrived=hub.caller_arrived,
            caller_gone=hub.caller_gone,
            agent_left=hub.left,
            recording_ready=hub.recording,
        )
        reader = asyncio.create_task(calls.run())
        await emu.wait_connected()
        try:
            yield emu, calls, hub
        finally:
            reader.cancel()
            await client.close()


async def _bridge(emu: AriEmulator, channel: str):
    return next((b for b in emu.bridges.values() if channel in b.channels), None)


async def test_an_expert_in_a_three_way_call_takes_it_over_without_a_second_ring(parts):
    """Three-way then transfer: the expert's leg becomes the agent's; no new originate."""
    emu, calls, hub = parts
    caller = await emu.incoming_call("+8613800001111")
    await eventually(lambda: _value(hub.arrived), timeout_s=5)
    call_id, number, dialed = hub.arrived[0]
    assert (number, dialed) == ("+8613800001111", "12345")
    assert await calls.connect_agent(call_id, "a1", "PJSIP/1001")
    bridge = await eventually(lambda: _bridge(emu, caller), timeout_s=5)
    agent_leg = next(c for c in bridge.channels if "-agent-" in c)
    await calls.add_party(call_id, "expert", "PJSIP/1006")
    party = await eventually(lambda: _party(emu, bridge.id), timeout_s=5)
    originates = sum(1 for m, path, _ in emu.requests if (m, path) == ("POST", "/ari/channels"))
    # the call is transferred to the expert: the agent leaves, the expert stays
    await calls.drop_agent(call_id)
    assert await calls.connect_agent(call_id, "expert", "PJSIP/1006")
    after = sum(1 for m, path, _ in emu.requests if (m, path) == ("POST", "/ari/channels"))
    assert after == originates  # not rung again
    await eventually(lambda: _value(agent_leg not in emu.bridges[bridge.id].channels), 5)
    assert party in emu.bridges[bridge.id].channels
    await eventually(lambda: _value(hub.recordings), timeout_s=5)  # a1's part, recorded
    assert hub.recordings[0][2] == "a1"
    # the expert hangs up: the hub hears the agent left (the caller goes to the survey)
    await emu.caller_hangs_up(party)
    await eventually(lambda: _value(hub.agent_left == [call_id]), timeout_s=5)
    await emu.caller_hangs_up(caller)
    await eventually(lambda: _value(hub.gone == [call_id]), timeout_s=5)
    assert bridge.id not in emu.bridges


async def test_an_agent_phone_that_does_not_exist_is_no_answer(parts):
    """Asterisk refuses an unregistered endpoint (500): the call goes back in line."""
    emu, calls, hub = parts
    await emu.incoming_call("+8613800001111")
    await eventually(lambda: _value(hub.arrived), timeout_s=5)
    assert not await calls.connect_agent(hub.arrived[0][0], "a2", "PJSIP/9999")


async def _value(x):
    return x


async def _party(emu: AriEmulator, bridge_id: str) -> str | None:
    return next((c for c in emu.bridges[bridge_id].channels if "-party-" in c), None)
