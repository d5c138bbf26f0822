"""A call end to end, as Asterisk would make it: the ARI emulator sends the caller into the
hub's Stasis app, its externalMedia channel streams AudioSocket frames to the hub, and the
caller presses keys (ARI DTMF events) and speaks (Korean speech made with espeak-ng, heard by
the Korean Vosk model in the flow's guided question: no Chinese model is downloadable here).

inbound call → DTMF menu → spoken question → spoken KB answer → "agent" spoken → queued with
the chats → agent's phone rung and bridged, bridge recorded → agent hangs up → recording on
the conversation and on the case the agent filed → survey digit saved → call record."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from agent_web.keys import AGENT_DESK, CASE_DESK, MESSAGES, ROUTER
from cases.model import CaseType, NewCase
from hub.app import create_app
from hub.keys import DB
from hub.settings import Settings
from mongo.people import MongoAgentRepository
from routing.agents import Agent, Role
from routing.conversation_model import ConversationState, Media
from routing.presence import AgentStatus
from telephony.call_records import CallQuery
from telephony.keys import CALL_RECORDS, RECORDINGS, VOICE
from telephony.speech.model_path import ko_test_model_dir
from tests.channels.helpers import eventually
from tests.emulators.ari_server import APP, PASSWORD, USER, AriEmulator
from tests.fakes.bot import FakeBot

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox"
)
FLOWS = Path(__file__).parent.parent / "data" / "ivr"
CALLER = "+8613800001111"
AUDIO, DTMF_KIND = 0x10, 0x03
# What the Korean guided question hears, as the bot should understand it
KOREAN = {"민원": "医保", "상담원": "转人工"}


class KoreanCallerBot(FakeBot):
    """The project's rule-based stand-in bot, for a caller who speaks Korean."""

    async def answer(self, text: str):  # type: ignore[override]
        for ko, zh in KOREAN.items():
            text = text.replace(ko, zh)
        return await super().answer(text)


def korean(text: str) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True, check=True
    )
    to_slin = ["sox", "-t", "wav", "-", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L", "-t", "raw", "-"]  # fmt: skip
    return subprocess.run(to_slin, input=wav.stdout, capture_output=True, check=True).stdout


@dataclass
class Heard:
    """What the caller's side of the AudioSocket receives, with the time of the last frame."""

    audio: bytearray = field(default_factory=bytearray)
    last_at: float = 0.0
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def quiet(self, for_s: float = 0.5, within_s: float = 60) -> None:
        """Until the hub has sent nothing for for_s (the IVR is listening)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while loop.time() - self.last_at < for_s:
            assert loop.time() < deadline, "the IVR kept talking"
            await asyncio.sleep(0.05)


@pytest.fixture
async def emulator() -> AsyncIterator[AriEmulator]:
    async with AriEmulator(
        USER,
        PASSWORD,
        APP,
        audiosocket_connect=True,
        answer_endpoints={"PJSIP/1001": 0.3, "PJSIP/1005": 0.1, "PJSIP/1006": 0.1},
        timeout_scale=0.2,
    ) as emu:
        yield emu


@pytest.fixture
async def client(aiohttp_client, settings: Settings, emulator: AriEmulator) -> TestClient:
    voice = settings.model_copy(
        update={
            "ari_url": emulator.base_url,
            "ari_user": USER,
            "ari_password": SecretStr(PASSWORD),
            "ari_app": APP,
            "audiosocket_port": 0,
            "vosk_model": ko_test_model_dir(),
            "ivr_flows": FLOWS,
        }
    )
    return await aiohttp_client(create_app(voice, bot=KoreanCallerBot()))


async def _agent_on_duty(client: TestClient) -> None:
    await MongoAgentRepository(client.app[DB]).upsert(
        Agent("a1", "李娜", frozenset({Role.AGENT}), {"general": 5}, endpoint="PJSIP/1001")
    )
    desk = client.app[AGENT_DESK]
    await desk.refresh_agent("a1")
    await desk.set_status("a1", AgentStatus.READY)


async def _listen(link, heard: Heard) -> None:
    loop = asyncio.get_running_loop()
    try:
        while True:
            kind, payload = await link.read_frame()
            if kind == AUDIO:
                heard.audio.extend(payload)
                heard.last_at = loop.time()
    except (asyncio.IncompleteReadError, ConnectionError):
        heard.closed.set()


async def _say(link, pcm: bytes) -> None:
    """Speech then a second of silence, in 20 ms frames (faster than real time)."""
    pcm = pcm + bytes(16000)
    for i in range(0, len(pcm), 320):
        await link.send_audio(pcm[i : i + 320].ljust(320, b"\0"))
        await asyncio.sleep(0.002)


async def test_a_call_from_menu_to_agent_to_survey(client: TestClient, emulator: AriEmulator):
    """A caller hears the menu, asks by voice, hears the answer, asks for an agent, talks to
    one (recorded), and rates the call."""
    await _agent_on_duty(client)
    await emulator.wait_connected()
    caller = await emulator.incoming_call(CALLER)
    media_id = await eventually(lambda: _media_channel(emulator), timeout_s=10)
    link = emulator.audiosocket_stream(media_id)
    heard = Heard()
    listener = asyncio.create_task(_listen(link, heard))
    try:
        # greeting and menu: "2" asks a question (the key cuts the prompt short)
        await eventually(lambda: _async(len(heard.audio) > 8000), timeout_s=20)
        await emulator.press(caller, "2")
        await heard.quiet(1.0)
        before_answer = len(heard.audio)
        await _say(link, korean("민원"))
        first = await eventually(lambda: _records(client), timeout_s=20)
        call_id = first[0].call_id
        conv = await client.app[ROUTER].conversation(first[0].conversation_id)
        messages = client.app[MESSAGES]

        async def answered() -> bool:
            found = await messages.list_for_conversation(conv.id, limit=50)
            return any(dict(m.meta).get("kb_article_id") == "kb-0001" for m in found)

        await eventually(answered, timeout_s=30)
        # the answer is spoken: more than a second of audio after the question
        await eventually(lambda: _async(len(heard.audio) - before_answer > 16000), timeout_s=20)
        await heard.quiet()
        await emulator.press(caller, "1")  # 是否解决了您的问题: yes
        await heard.quiet(1.0)  # 还有其他问题吗
        await _say(link, korean("상담원"))
        router = client.app[ROUTER]

        async def with_agent():
            current = await router.conversation(conv.id)
            return current if current.state is ConversationState.ASSIGNED else None

        served = await eventually(with_agent, timeout_s=30)
        assert served.agent == "a1"
        assert served.media is Media.VOICE
        agent_leg = await eventually(lambda: _agent_channel(emulator), timeout_s=10)
        bridge = await eventually(lambda: _bridge_of(emulator, agent_leg), timeout_s=10)
        assert caller in bridge.channels
        assert emulator.live_recordings, "the bridge is recorded"
        # the supervisor whispers: their phone is rung and bridged with a snoop on the agent
        await client.app[VOICE].ari.monitor(call_id, "PJSIP/1005", "whisper")
        snoop = await eventually(lambda: _channel_like(emulator, "-snoop-"), timeout_s=10)
        sup = await eventually(lambda: _channel_like(emulator, "-sup-"), timeout_s=10)
        side = await eventually(lambda: _bridge_of(emulator, sup), timeout_s=10)
        assert snoop in side.channels
        snooped = [p for m, path, p in emulator.requests if path.endswith("/snoop")]
        assert snooped[-1]["whisper"] == "out"
        assert agent_leg in [
            path.split("/")[-2] for _, path, _ in emulator.requests if path.endswith("/snoop")
        ]
        # the agent brings in an expert: their phone joins the call's own bridge (three-way)
        await client.app[VOICE].ari.add_party(call_id, "expert", "PJSIP/1006")
        party = await eventually(lambda: _channel_like(emulator, "-party-"), timeout_s=10)
        await eventually(
            lambda: _async(party in emulator.bridges[bridge.id].channels), timeout_s=10
        )
        # the agent files a case from the call, then hangs up
        case = await client.app[CASE_DESK].open(
            NewCase(
                type=CaseType.CONSULT,
                title="来电咨询新生儿医保",
                customer_id=served.customer_id,
                conversation_id=served.id,
                channel="voice",
            ),
            actor="a1",
        )
        await emulator.caller_hangs_up(agent_leg)
        await eventually(lambda: _async(heard.last_at > 0), timeout_s=5)
        await heard.quiet(0.6)  # the survey prompt
        await emulator.press(caller, "1")
        records = client.app[CALL_RECORDS]

        async def surveyed():
            found = await records.get(call_id)
            return found if found and found.survey == "1" and found.recording else None

        record = await eventually(surveyed, timeout_s=20)
        assert record.agent == "a1"
        assert record.answered_at is not None
        assert record.caller == CALLER
        stored = await client.app[RECORDINGS].find(record.recording)
        assert stored is not None
        assert stored.path.read_bytes()[:4] == b"RIFF"
        filed = await client.app[CASE_DESK].cases.get(case.number)
        assert record.recording in filed.attachments
        found = await messages.list_for_conversation(conv.id, limit=100)
        assert any(a.kind == "voice" for m in found for a in m.attachments)
        assert (await router.conversation(conv.id)).rating == "1"
        await asyncio.wait_for(heard.closed.wait(), 15)  # goodbye, then the hub hangs up
    finally:
        listener.cancel()


async def _async(value):
    return value


async def _media_channel(emu: AriEmulator) -> str | None:
    return next((c for c in emu.channels if c.endswith("-media")), None)


async def _bridge_of(emu: AriEmulator, channel: str):
    return next((b for b in emu.bridges.values() if channel in b.channels), None)


async def _channel_like(emu: AriEmulator, part: str) -> str | None:
    return next((c for c in emu.channels if part in c), None)


async def _agent_channel(emu: AriEmulator) -> str | None:
    return next((c for c in emu.channels if "-agent-" in c), None)


async def _records(client: TestClient):
    return await client.app[CALL_RECORDS].search(CallQuery(caller=CALLER, limit=10))
