"""IvrEngine running the real hotline flow (and small test flows) over an in-memory call."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import telephony
from telephony.ivr import prompts
from telephony.ivr.call_media import CallMedia
from telephony.ivr.engine import IvrEngine, match_keyword
from telephony.ivr.flow import Flow, load_flow, load_flows
from telephony.ivr.services import (
    AgentLeft,
    BotTurn,
    CallerFacts,
    CallInfo,
    CaseFiled,
    Connected,
    NoAgents,
    Position,
    WaitUpdate,
)
from tests.telephony.test_call_media import Caller, MemoryTransport, ScriptedSpeech, SilentSynth

CALL = CallInfo(call_id="call-1", caller="13812345678", dialed="12345")
FLOWS = load_flows(Path(telephony.__file__).parent / "data" / "flows")
NOBODY_SPECIAL = CallerFacts()
GREETING = "您好，欢迎致电12345市民服务热线。"


class RecordingServices:
    """IvrServices in memory: scripted facts and bot turns, wait updates fed by the test."""

    def __init__(self, transport: MemoryTransport, tts: SilentSynth, facts: CallerFacts) -> None:
        self._transport = transport
        self._tts = tts
        self.facts = facts
        self.turns: list[BotTurn] = []
        self.progress_fails = False
        self.calls: list[tuple[object, ...]] = []
        self.updates: asyncio.Queue[WaitUpdate | None] = asyncio.Queue()
        self.end_reasons: list[str] = []
        self.played_before_lookup: tuple[int, int] | None = None
        self.sent_at_next_update: list[int] = []  # bytes played when the engine asked again
        self._arrived: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def lookup(self, call: CallInfo) -> CallerFacts:
        self._record("lookup")
        self.played_before_lookup = (len(self._transport.sent), len(self._tts.texts))
        return self.facts

    async def case_progress(self, call: CallInfo) -> str:
        self._record("case_progress")
        if self.progress_fails:
            raise RuntimeError("case desk unreachable")
        return "您的工单正在办理中。"

    async def ask(self, call: CallInfo, text: str) -> BotTurn:
        self._record("ask", text, len(self._transport.sent))
        return self.turns.pop(0)

    async def transfer(self, call: CallInfo, queue: str, reason: str) -> None:
        self._record("transfer", queue, reason, len(self._transport.sent))

    async def waiting(self, call: CallInfo) -> AsyncIterator[WaitUpdate]:
        while (update := await self.updates.get()) is not None:
            yield update
            self.sent_at_next_update.append(len(self._transport.sent))

    async def voicemail(self, call: CallInfo, pcm: bytes) -> CaseFiled:
        self._record("voicemail", len(pcm))
        return CaseFiled(number="2026120400012")

    async def callback(self, call: CallInfo, reason: str) -> CaseFiled:
        self._record("callback", reason)
        return CaseFiled(number="2026120400013")

    async def survey(self, call: CallInfo, score: str) -> None:
        self._record("survey", score)

    async def ended(self, call: CallInfo, reason: str) -> None:
        self.end_reasons.append(reason)

    def _record(self, *call: object) -> None:
        self.calls.append(call)
        self._arrived[str(call[0])].set()

    async def reached(self, name: str) -> None:
        async with asyncio.timeout(10):
            await self._arrived[name].wait()

    def names(self) -> list[object]:
        return [c[0] for c in self.calls]

    def called(self, name: str) -> tuple[object, ...]:
        return next(c for c in self.calls if c[0] == name)


@dataclass
class Line:
    transport: MemoryTransport
    speech: ScriptedSpeech
    tts: SilentSynth
    caller: Caller
    services: RecordingServices
    run: asyncio.Task[str]

    async def result(self) -> str:
        async with asyncio.timeout(15):
            return await self.run


@asynccontextmanager
async def call(
    facts: CallerFacts = NOBODY_SPECIAL,
    *,
    speech: bool = False,
    bytes_per_char: int = 32,
    flow: Flow | None = None,
) -> AsyncIterator[Line]:
    transport, recognition, tts = MemoryTransport(), ScriptedSpeech(), SilentSynth(bytes_per_char)
    services = RecordingServices(transport, tts, facts)
    flows = {**FLOWS, **({flow.name: flow} if flow else {})}
    engine = IvrEngine(flows, services)
    async with CallMedia(transport, recognition if speech else None, tts) as media:
        task = asyncio.create_task(engine.run(CALL, media, flow.name if flow else "hotline"))
        line = Line(transport, recognition, tts, Caller(transport, recognition), services, task)
        try:
            yield line
        finally:
            task.cancel()


def _flow(tmp_path: Path, text: str) -> Flow:
    path = tmp_path / "test.yaml"
    path.write_text(text, encoding="utf-8")
    return load_flow(path)


async def test_dtmf_menu_path_reads_case_progress_and_says_goodbye() -> None:
    """1 at the open-cases menu reads the progress; '#' then ends the call politely."""
    async with call(CallerFacts(known=True, open_cases=2)) as line:
        await line.tts.rendered("查询工单进度请按1")
        line.caller.press("1")
        await line.tts.rendered("结束通话请按井号键")
        line.caller.press("#")
        assert await line.result() == "completed"
    assert line.tts.texts == [
        GREETING,
        "查询工单进度请按1，咨询问题请按2，人工服务请按0。",  # no "直接说出": no recognizer
        "您的工单正在办理中。",
        "还有其他问题请按2，人工服务请按0，结束通话请按井号键。",
        "感谢您的来电，再见。",
    ]
    assert line.services.names() == ["lookup", "case_progress"]
    assert line.services.end_reasons == ["completed"]
    assert line.transport.closed


async def test_a_key_during_the_greeting_cuts_it_and_answers_the_menu() -> None:
    """0 pressed while the greeting plays stops it and goes straight to an agent."""
    async with call(bytes_per_char=320) as line:
        await line.transport.sent_at_least(3 * 320)
        line.caller.press("0")
        await line.services.reached("transfer")
        line.caller.hang_up()
        assert await line.result() == "caller_hangup"
    _, queue, reason, played = line.services.called("transfer")
    assert (queue, reason) == ("general", "ivr_agent")
    greeting_played = played - len(prompts.TRANSFERRING) * 320  # the menu played nothing
    assert 0 < greeting_played < len(GREETING) * 320


async def test_menu_retries_on_no_input_then_transfers_to_an_agent(tmp_path: Path) -> None:
    """Silence at a menu: two reprompts, then the flow's agent queue."""
    flow = _flow(
        tmp_path,
        """
name: quiet
title: 测试
start: menu
steps:
  menu: {type: menu, prompt: 请按1。, options: {1: {goto: bye}}, timeout_s: 0.1}
  bye: {type: hangup}
""",
    )
    async with call(flow=flow) as line:
        await line.tts.rendered(prompts.TRANSFERRING)
        line.services.updates.put_nowait(NoAgents())
        assert await line.result() == "no_agents"
    no_input, menu = prompts.NO_INPUT, "请按1。"
    assert line.tts.texts == [
        *[menu, no_input, menu, no_input, menu],
        prompts.TRANSFERRING,
        prompts.NO_AGENTS_GOODBYE,
    ]
    assert line.services.called("transfer")[1:3] == ("general", "menu_fallback")


async def test_a_wrong_key_gets_the_no_match_reprompt(tmp_path: Path) -> None:
    """9 is no option: the caller hears the no-match text and the menu again."""
    flow = _flow(
        tmp_path,
        """
name: keys
title: 测试
start: menu
steps:
  menu: {type: menu, prompt: 请按1。, options: {1: {goto: bye}}, timeout_s: 2}
  bye: {type: hangup, text: 再见。}
""",
    )
    async with call(flow=flow) as line:
        line.caller.press("9")
        await line.tts.rendered(prompts.NO_MATCH)
        line.caller.press("1")
        assert await line.result() == "completed"
    assert line.tts.texts == ["请按1。", prompts.NO_MATCH, "请按1。", "再见。"]


async def test_spoken_question_is_answered_confirmed_and_surveyed() -> None:
    """ask → answer → '是' → no more questions → survey 1 → thanks."""
    async with call(speech=True) as line:
        line.services.turns = [BotTurn("新生儿在出生后90天内办理居民医保参保登记。", answered=True)]
        await line.tts.rendered("咨询问题请按2")
        line.caller.press("2")
        await line.tts.rendered(prompts.ASK_PROMPT)
        line.caller.speak("新生儿医保怎么办理")
        await line.tts.rendered("是否解决了您的问题")
        line.caller.speak("是的")
        await line.tts.rendered(prompts.MORE_QUESTIONS)
        line.caller.press("#")
        await line.tts.rendered("满意请按1")
        line.caller.press("1")
        assert await line.result() == "completed"
    assert line.services.called("ask")[1] == "新生儿医保怎么办理"
    assert line.services.called("survey") == ("survey", "1")
    assert line.tts.texts[-1] == prompts.SURVEY_THANKS
    assert any(g and "是" in g for g in line.speech.grammars)  # the yes/no grammar


async def test_speech_at_the_menu_goes_to_the_bot_which_queues_the_call() -> None:
    """Speech cuts the menu, the bot queues the call; waiting, agent, survey follow."""
    async with call(speech=True, bytes_per_char=320) as line:
        line.services.turns = [BotTurn("好的，正在为您转接人工服务。", answered=False, queued=True)]
        await line.tts.rendered("直接说出您的问题")
        await line.transport.sent_at_least((len(GREETING) + 3) * 320)
        line.caller.speak("楼上装修太吵了")
        await line.tts.rendered("正在为您转接人工服务")
        line.services.updates.put_nowait(Position(position=3, wait_estimate_s=90))
        await line.tts.rendered("您前面还有2位，预计等待约2分钟")
        line.services.updates.put_nowait(Connected(agent="a7"))
        while len(line.services.sent_at_next_update) < 2:
            await asyncio.sleep(0.01)
        silent_from = line.services.sent_at_next_update[-1]
        await asyncio.sleep(0.3)
        assert len(line.transport.sent) == silent_from  # the agent talks: no music, no prompt
        line.services.updates.put_nowait(AgentLeft(case_number="2026120400012"))
        await line.tts.rendered("满意请按1")
        line.caller.press("3")
        assert await line.result() == "completed"
    menu_bytes = len("咨询问题请按2或直接说出您的问题，人工服务请按0。") * 320
    _, question, played = line.services.called("ask")
    assert question == "楼上装修太吵了"
    assert played < (len(GREETING)) * 320 + menu_bytes  # the menu was cut short
    assert "transfer" not in line.services.names()  # the bot had queued the call already
    assert line.services.called("survey") == ("survey", "3")


async def test_no_agents_leads_to_voicemail_and_the_case_number_is_read_out() -> None:
    """0 → no agents → 1 for voicemail → message, '#' → case number digit by digit."""
    async with call() as line:
        await line.tts.rendered("人工服务请按0")
        line.caller.press("0")
        await line.tts.rendered(prompts.TRANSFERRING)
        line.services.updates.put_nowait(NoAgents())
        await line.tts.rendered("留言请按1")
        line.caller.press("1")
        await line.tts.rendered("留言完毕请按井号键")
        await line.caller.talk_in_real_time(100)
        line.caller.press("#")
        assert await line.result() == "completed"
    assert line.services.called("voicemail")[1] >= 50 * 320
    assert "您的留言已记录，工单编号是二零二六，一二零四，零零零一二。" in line.tts.texts
    assert line.tts.texts[-1] == "感谢您的来电，再见。"


async def test_blacklisted_caller_is_refused_after_a_lookup_before_any_audio() -> None:
    """lookup comes first; then the refusal, hang-up and nothing else (not even the greeting)."""
    async with call(CallerFacts(blacklisted=True)) as line:
        assert await line.result() == "blacklisted"
    assert line.services.played_before_lookup == (0, 0)
    assert line.services.names() == ["lookup"]
    assert line.tts.texts[0].startswith("很抱歉，您的号码暂时无法接入本热线")
    assert len(line.tts.texts) == 1
    assert line.transport.closed
    assert line.services.end_reasons == ["blacklisted"]


async def test_engine_refuses_blacklisted_callers_when_the_flow_does_not(tmp_path: Path) -> None:
    """A flow without a blacklist branch still never serves a blacklisted caller."""
    flow = _flow(
        tmp_path,
        "name: plain\ntitle: 测试\nstart: hi\nsteps:\n  hi: {type: hangup, text: 你好。}\n",
    )
    async with call(CallerFacts(blacklisted=True), flow=flow) as line:
        assert await line.result() == "blacklisted"
    assert line.tts.texts == [prompts.REFUSAL]


async def test_elderly_caller_goes_straight_to_the_elderly_queue() -> None:
    """No menu for elderly callers: transfer with reason 'elderly'."""
    async with call(CallerFacts(elderly=True, open_cases=1)) as line:
        await line.services.reached("transfer")
        line.caller.hang_up()
        assert await line.result() == "caller_hangup"
    assert line.services.called("transfer")[1:3] == ("elderly_care", "elderly")
    assert not any("请按" in t for t in line.tts.texts)


async def test_after_hours_callback_confirms_the_number_tail() -> None:
    """Out of hours, 2 books a callback and reads back the caller's last four digits."""
    async with call(CallerFacts(in_hours=False)) as line:
        await line.tts.rendered("登记回电请按2")
        line.caller.press("2")
        assert await line.result() == "completed"
    assert line.services.called("callback") == ("callback", "callback_request")
    assert any("尾号五六七八" in t for t in line.tts.texts)


async def test_hang_up_mid_prompt_ends_the_call_once_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The caller hangs up during the greeting: ended() once, nothing logged as an error."""
    caplog.set_level(logging.DEBUG)
    async with call(bytes_per_char=320) as line:
        await line.transport.sent_at_least(2 * 320)
        line.caller.hang_up()
        assert await line.result() == "caller_hangup"
    assert line.services.end_reasons == ["caller_hangup"]
    assert len(line.transport.sent) < len(GREETING) * 320
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(r.getMessage() == "ivr.step" for r in caplog.records)


async def test_without_speech_the_question_option_goes_to_an_agent() -> None:
    """No recognizer: 2 (ask a question) skips the ask step and queues for an agent."""
    async with call() as line:
        await line.tts.rendered("咨询问题请按2")
        line.caller.press("2")
        await line.services.reached("transfer")
        line.caller.hang_up()
        assert await line.result() == "caller_hangup"
    assert line.services.called("transfer")[1:3] == ("general", "ivr_agent")
    assert prompts.ASK_PROMPT not in line.tts.texts


async def test_a_failing_service_gets_an_apology_and_ends_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error inside a step is logged once; the caller hears an apology, ended('error')."""
    async with call(CallerFacts(open_cases=1)) as line:
        line.services.progress_fails = True
        await line.tts.rendered("查询工单进度请按1")
        line.caller.press("1")
        assert await line.result() == "error"
    assert line.tts.texts[-1] == prompts.SYSTEM_ERROR
    assert line.transport.closed
    assert line.services.end_reasons == ["error"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == ["ivr.failed"]


def test_the_longest_keyword_wins() -> None:
    """'不满意' is a 3, even though it contains '满意'."""
    assert match_keyword("我不满意", prompts.SURVEY_WORDS) == "3"
    assert match_keyword("基本满意吧", prompts.SURVEY_WORDS) == "2"
    assert match_keyword("今天天气", prompts.SURVEY_WORDS) is None


def test_case_numbers_are_read_digit_by_digit() -> None:
    """'2026…' is read '二零二六…', in groups of four."""
    assert prompts.spoken_digits("2026120400012") == "二零二六，一二零四，零零零一二"
    assert prompts.spoken_digits("2026", group=0) == "二零二六"
