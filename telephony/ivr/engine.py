"""Runs an IVR flow (telephony/ivr/flow.py) over one call's CallMedia, asking IvrServices for
everything outside the call: who is calling, answers, queues, cases, the survey."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from telephony.ivr import prompts
from telephony.ivr.call_media import CallMedia, Interrupt, beep_tone, hold_music
from telephony.ivr.flow import (
    AGENT,
    AskStep,
    BranchStep,
    CallbackStep,
    CaseProgressStep,
    Flow,
    FlowError,
    GotoStep,
    HangupStep,
    MenuStep,
    PlayStep,
    Step,
    SurveyStep,
    Text,
    TransferStep,
    VoicemailStep,
)
from telephony.ivr.services import (
    AgentLeft,
    CallerFacts,
    CallInfo,
    Connected,
    IvrServices,
    NoAgents,
    Position,
    WaitUpdate,
)
from telephony.media import FRAME_BYTES, Dtmf
from telephony.speech.interfaces import Heard

log = logging.getLogger(__name__)

_MAX_STEPS = 500  # a flow looping without ever waiting for the caller must not spin forever
_MIN_MESSAGE_BYTES = 50 * FRAME_BYTES  # 1 s: shorter "voicemails" are line noise


class _CallerGone(Exception):
    """The caller hung up; unwinds the flow to run()."""


@dataclass(frozen=True, slots=True)
class _End:
    reason: str  # what services.ended() is told


_Next = str | _End


@dataclass
class _Call:
    info: CallInfo
    media: CallMedia
    flow: Flow
    facts: CallerFacts
    question: str | None = None  # speech a menu did not match, for the ask step
    queued: bool = False  # in an agent queue (put there by a transfer step or by the bot)


class IvrEngine:
    def __init__(self, flows: Mapping[str, Flow], services: IvrServices) -> None:
        self._flows = flows
        self._services = services

    async def run(self, call: CallInfo, media: CallMedia, flow_name: str = "hotline") -> str:
        """Run the flow until either side hangs up. Returns the end reason, which
        services.ended() has been given (always exactly once, whatever happened)."""
        reason = "error"
        try:
            reason = await self._run(call, media, self._flows[flow_name])
        except _CallerGone:
            reason = "caller_hangup"
        except asyncio.CancelledError:
            reason = "cancelled"
            raise
        except Exception:
            # The edge of one call: the caller hears an apology, the hub keeps running.
            log.exception("ivr.failed", extra={"call": call.call_id, "flow": flow_name})
            with contextlib.suppress(Exception):  # the failure may be the synthesizer itself
                await media.say(prompts.SYSTEM_ERROR, barge_in=False)
            with contextlib.suppress(Exception):
                await media.hang_up()
        finally:
            log.info("ivr.ended", extra={"call": call.call_id, "reason": reason})
            await self._services.ended(call, reason)
        return reason

    async def _run(self, call: CallInfo, media: CallMedia, flow: Flow) -> str:
        facts = await self._services.lookup(call)  # before a sound is played
        c = _Call(call, media, flow, facts)
        target: _Next = flow.start
        if facts.blacklisted and not flow.screens_blacklist:
            await self._say(c, prompts.REFUSAL, barge_in=False)
            target = _End("blacklisted")
        for _ in range(_MAX_STEPS):
            if isinstance(target, _End):
                await media.hang_up()
                return target.reason
            step = flow.steps[target] if target != AGENT else _agent(flow)
            log.debug("ivr.step", extra={"call": call.call_id, "step": target, "type": step.type})
            target = await self._step(c, step)
        raise FlowError(f"{flow.source}: more than {_MAX_STEPS} steps in one call")

    async def _step(self, c: _Call, step: Step) -> _Next:
        match step:
            case PlayStep(sound=str(sound)):
                await c.media.play(c.flow.sounds[sound], barge_in=step.barge_in)
                self._check(c)
                return step.next
            case PlayStep(text=text):
                await self._say(c, text or "", barge_in=step.barge_in)
                return step.next
            case MenuStep():
                return await self._menu(c, step)
            case AskStep():
                return await self._ask(c, step)
            case TransferStep():
                return await self._transfer(c, step)
            case VoicemailStep():
                return await self._voicemail(c, step)
            case CallbackStep():
                return await self._callback(c, step)
            case SurveyStep():
                return await self._survey(c, step)
            case CaseProgressStep():
                text = await self._services.case_progress(c.info)
                await self._say(c, text, barge_in=step.barge_in)
                return step.next
            case BranchStep():
                on = c.media.speech_on
                hit = (r.goto for r in step.when if r.if_.holds(c.facts, speech_on=on))
                return next(hit, step.else_)
            case GotoStep():
                return step.goto
            case HangupStep():
                if step.text:
                    await self._say(c, step.text, barge_in=False)
                return _End(step.reason)
        raise AssertionError(f"unhandled step {step!r}")

    # --- talking and listening ------------------------------------------------------------

    def _check(self, c: _Call) -> None:
        if c.media.hung_up.is_set():
            raise _CallerGone

    async def _say(self, c: _Call, text: Text, *, barge_in: bool = True) -> Interrupt | None:
        got = await c.media.say(text, barge_in=barge_in)
        self._check(c)
        return got

    async def _choose(
        self,
        c: _Call,
        prompt: Sequence[str],
        words: Mapping[str, Sequence[str]],
        *,
        timeout_s: float,
        barge_in: bool,
        free_speech: bool = False,
    ) -> str | Heard | None:
        """A key of `words`, pressed or said; the Heard that matched none; "" for a key or a
        word outside `words`; None when the caller gave nothing."""
        await self._say(c, prompt, barge_in=barge_in)
        # A grammar makes Vosk pick among the menu words instead of guessing free text.
        keywords = sorted({w for ws in words.values() for w in ws})
        grammar = None if free_speech or not keywords else keywords
        got = await c.media.listen(timeout_s, grammar=grammar)
        self._check(c)
        if isinstance(got, Dtmf):
            return got.digit if got.digit in words else ""
        if got is None:
            return None
        text = got.text.replace("[unk]", "").strip()
        if not text:
            return ""
        return match_keyword(text, words) or (got if free_speech else "")

    async def _menu(self, c: _Call, step: MenuStep) -> _Next:
        prompt = _texts(
            step.prompt_dtmf if step.prompt_dtmf and not c.media.speech_on else step.prompt
        )
        words = {key: option.say for key, option in step.options.items()}
        lead: list[str] = []
        for _ in range(step.retries + 1):
            got = await self._choose(
                c,
                [*lead, *prompt],
                words,
                timeout_s=step.timeout_s,
                barge_in=step.barge_in,
                free_speech=step.on_speech is not None,
            )
            if isinstance(got, Heard) and step.on_speech:
                c.question = got.text
                return step.on_speech
            if isinstance(got, str) and got:
                return step.options[got].goto
            lead = [step.no_input if got is None else step.no_match]
        return step.fallback or AGENT

    async def _ask(self, c: _Call, step: AskStep) -> _Next:
        if not c.media.speech_on:
            return step.no_speech or step.unresolved
        question, c.question = c.question, None
        prompt, beep, misses = _texts(step.prompt), step.beep, 0
        while True:
            if question is None:
                got = await self._hear(c, prompt, step, beep=beep)
                if isinstance(got, Dtmf) and got.digit == "0":
                    return step.unresolved
                if not isinstance(got, Heard) or not got.text:
                    misses += 1
                    if misses > step.retries:
                        return step.unresolved
                    prompt, beep = [prompts.ASK_NO_INPUT, *_texts(step.prompt)], step.beep
                    continue
                question = got.text
            turn = await self._services.ask(c.info, question)
            self._check(c)
            question = None
            if turn.queued:
                c.queued = True
                await self._say(c, turn.text, barge_in=False)
                return step.queued or step.unresolved
            if not turn.answered:
                # The bot asks back (a clarification) or has nothing: the caller replies to it.
                misses += 1
                if misses > step.retries:
                    await self._say(c, turn.text)
                    return step.unresolved
                prompt, beep = [turn.text or prompts.ASK_NO_INPUT], False
                continue
            await self._say(c, turn.text, barge_in=step.barge_in)
            if not await self._resolved(c, step):
                return step.unresolved
            if not step.more_questions:
                return step.resolved
            more = await self._hear(c, [prompts.MORE_QUESTIONS], step, beep=False)
            if not isinstance(more, Heard) or not more.text:
                return step.resolved
            question, misses = more.text, 0

    async def _hear(
        self, c: _Call, prompt: Sequence[str], step: AskStep, *, beep: bool
    ) -> Heard | Dtmf | None:
        cut = await self._say(c, prompt, barge_in=step.barge_in)
        if beep and cut is None:  # no beep for a caller who is already talking
            await c.media.play(beep_tone())
            self._check(c)
        got = await c.media.listen(step.timeout_s, grammar=step.grammar, max_s=step.max_s)
        self._check(c)
        return got

    async def _resolved(self, c: _Call, step: AskStep) -> bool:
        # "2" first: on a tie ("不是") the no-words win, a doubtful "yes" is a "no".
        words = {"2": prompts.NO_WORDS, "1": prompts.YES_WORDS}
        got = await self._choose(
            c, [prompts.CONFIRM_RESOLVED], words, timeout_s=step.timeout_s, barge_in=True
        )
        return got == "1"

    # --- queues, messages, survey ---------------------------------------------------------

    async def _transfer(self, c: _Call, step: TransferStep) -> _Next:
        if not c.queued:  # the bot may have queued the call already, with its own words
            if step.say:
                await self._say(c, step.say, barge_in=False)
            await self._services.transfer(c.info, step.queue, step.reason)
            c.queued = True
        updates = aiter(self._services.waiting(c.info))
        try:
            return await self._wait(c, step, updates)
        finally:
            c.queued = False
            if aclose := getattr(updates, "aclose", None):  # an async generator's cleanup
                await aclose()

    async def _wait(
        self, c: _Call, step: TransferStep, updates: AsyncIterator[WaitUpdate]
    ) -> _Next:
        connected = False
        announce_at = c.media.now()
        async with c.media.play_loop(hold_music() if step.hold_music else b"") as music:
            while (update := await self._next_update(c, updates)) is not None:
                match update:
                    case Position() if not connected and c.media.now() >= announce_at:
                        text = prompts.wait_announcement(update.position, update.wait_estimate_s)
                        await self._say(c, text, barge_in=False)
                        announce_at = c.media.now() + step.announce_every_s
                    case NoAgents():
                        music.stop()
                        if step.no_agents:
                            return step.no_agents
                        await self._say(c, prompts.NO_AGENTS_GOODBYE, barge_in=False)
                        return _End("no_agents")
                    case Connected():
                        music.stop()  # the agent talks now; the IVR stays silent
                        connected = True
                    case AgentLeft():
                        c.media.clear_digits()  # keys pressed for the agent are not answers
                        return step.after_agent or _End("agent_hangup")
        return _End("agent_hangup" if connected else "queue_closed")

    async def _next_update(self, c: _Call, updates: AsyncIterator[WaitUpdate]) -> WaitUpdate | None:
        """The next update, None when they end; raises _CallerGone as soon as the caller
        hangs up, whether or not the services noticed."""
        update = asyncio.ensure_future(anext(updates))
        gone = asyncio.ensure_future(c.media.hung_up.wait())
        try:
            await asyncio.wait({update, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (update, gone):
                task.cancel()
            await asyncio.wait({update, gone})
        self._check(c)
        if update.cancelled() or isinstance(update.exception(), StopAsyncIteration):
            return None
        return update.result()

    async def _voicemail(self, c: _Call, step: VoicemailStep) -> _Next:
        await self._say(c, step.prompt, barge_in=step.barge_in)
        pcm = await c.media.record(step.max_s, silence_end_s=step.silence_end_s)
        if len(pcm) < _MIN_MESSAGE_BYTES:
            self._check(c)
            await self._say(c, prompts.VOICEMAIL_EMPTY, barge_in=False)
            return step.next
        # Filed even when the caller hung up right after speaking: that is how most end.
        filed = await self._services.voicemail(c.info, pcm)
        self._check(c)
        spoken = filed.spoken or prompts.spoken_digits(filed.number)
        await self._say(c, prompts.voicemail_filed(spoken), barge_in=False)
        return step.next

    async def _callback(self, c: _Call, step: CallbackStep) -> _Next:
        digits = "".join(ch for ch in c.info.caller if ch.isdigit())
        if len(digits) < 4:  # withheld: nobody to call back
            await self._say(c, prompts.CALLBACK_NO_NUMBER, barge_in=False)
            return step.no_caller_id or step.next
        filed = await self._services.callback(c.info, step.reason)
        self._check(c)
        spoken = filed.spoken or prompts.spoken_digits(filed.number)
        await self._say(c, prompts.callback_filed(digits[-4:], spoken), barge_in=False)
        return step.next

    async def _survey(self, c: _Call, step: SurveyStep) -> _Next:
        lead: list[str] = []
        for _ in range(step.retries + 1):
            got = await self._choose(
                c,
                [*lead, *_texts(step.prompt)],
                prompts.SURVEY_WORDS,
                timeout_s=step.timeout_s,
                barge_in=step.barge_in,
            )
            if isinstance(got, str) and got:
                await self._services.survey(c.info, got)
                await self._say(c, step.thanks, barge_in=False)
                return step.next or _End("completed")
            lead = [prompts.NO_INPUT if got is None else prompts.NO_MATCH]
        await self._say(c, prompts.GOODBYE, barge_in=False)
        return step.next or _End("completed")


def match_keyword(text: str, words: Mapping[str, Sequence[str]]) -> str | None:
    """The key whose keyword occurs in `text`; the longest keyword wins ("不满意" over
    "满意"), then the key listed first."""
    hits = [(len(w), key) for key, ws in words.items() for w in ws if w and w in text]
    return max(hits, key=lambda hit: hit[0])[1] if hits else None


def _texts(text: Text) -> list[str]:
    return [text] if isinstance(text, str) else list(text)


def _agent(flow: Flow) -> TransferStep:
    """Where a menu without `fallback` sends the caller: the flow's agent queue."""
    return TransferStep(queue=flow.agent_queue, reason="menu_fallback")
