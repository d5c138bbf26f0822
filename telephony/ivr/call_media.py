"""One call's audio as the IVR engine uses it, over any AudioTransport: paced prompts with
barge-in, digit collection, speech recognition, voicemail recording and hold music.

One reader task owns transport.receive(): digits go to a digit queue, audio to whoever is
listening (a prompt's barge-in watcher, a recognizer, a recording), Hangup sets `hung_up`.
Methods return (never raise) when the caller hangs up; callers check `hung_up`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import sys
from array import array
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from telephony.media import FRAME_BYTES, FRAME_MS, SAMPLE_RATE, Audio, AudioTransport, Dtmf
from telephony.speech.interfaces import (
    GrammarNotInVocabulary,
    Heard,
    Recognizer,
    SpeechRecognition,
    Synthesizer,
)

log = logging.getLogger(__name__)

_FRAME_S = FRAME_MS / 1000


@dataclass(frozen=True, slots=True)
class MediaConfig:
    voice_rms: float = 500.0  # frames louder than this (of 32767) count as voice
    batch_frames: int = 5  # frames per Recognizer.accept call: 100 ms, one thread hop
    preroll_frames: int = 15  # audio kept before voice starts, so the first word is whole
    # quiet after speech that ends an utterance; Vosk's own endpointing waits about 1 s, too
    # long for a caller waiting for an answer (bench/voice_latency.py)
    end_silence_s: float = 0.5


@dataclass(frozen=True, slots=True)
class Interrupt:
    """Why a prompt stopped early: a key (still queued for the next collect) or speech."""

    digit: str | None = None
    speech: bool = False


class _Inbox:
    """Frames for the current listener; `changed` wakes it on audio, a key or hang-up."""

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque()
        self.changed = asyncio.Event()

    def push(self, pcm: bytes) -> None:
        self.frames.append(pcm)
        self.changed.set()

    async def wait(self, timeout_s: float) -> None:
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout_s, 0)):
                await self.changed.wait()

    def take(self, n: int) -> bytes:
        return b"".join(self.frames.popleft() for _ in range(min(n, len(self.frames))))


@dataclass
class _BargeIn:
    inbox: _Inbox
    audio: bytearray
    heard: bool = False


class HoldLoop:
    """Background audio (hold music); prompts pause it while they play."""

    def __init__(self) -> None:
        self._pauses = 0
        self._stopped = False
        self.may_play = asyncio.Event()
        self.may_play.set()

    def pause(self) -> None:
        self._pauses += 1
        self.may_play.clear()

    def resume(self) -> None:
        self._pauses = max(self._pauses - 1, 0)
        if not self._pauses and not self._stopped:
            self.may_play.set()

    def stop(self) -> None:
        self._stopped = True
        self.may_play.clear()


class CallMedia:
    """Use as `async with CallMedia(transport, speech, tts) as media:` (starts the reader)."""

    def __init__(
        self,
        transport: AudioTransport,
        speech: SpeechRecognition | None,
        tts: Synthesizer,
        *,
        clock: Callable[[], float] | None = None,
        config: MediaConfig = MediaConfig(),
    ) -> None:
        self._transport = transport
        self._speech = speech
        self._tts = tts
        self._clock = clock
        self._cfg = config
        self.hung_up = asyncio.Event()
        self._digits: deque[str] = deque()
        self._digit_arrived = asyncio.Event()
        self._inbox: _Inbox | None = None
        # Audio nobody listened to, kept briefly: a caller who starts talking just before
        # listen() begins (TTS latency, a prompt without barge-in) keeps the first syllable.
        self._recent: deque[bytes] = deque(maxlen=config.preroll_frames)
        self._barge: _BargeIn | None = None  # speech that cut a prompt, for the next listen
        self._holds: list[HoldLoop] = []
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> CallMedia:
        self._clock = self._clock or asyncio.get_running_loop().time
        self._reader = asyncio.create_task(self._read(), name="call-media-reader")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._reader:
            await _stop(self._reader)

    @property
    def speech_on(self) -> bool:
        return self._speech is not None

    def now(self) -> float:
        assert self._clock, "CallMedia is used outside `async with`"
        return self._clock()

    async def _read(self) -> None:
        try:
            await self._dispatch_frames()
        except Exception:
            # A broken transport is a hang-up: every wait below must end, not hang the call.
            log.warning("call_media.transport_failed", exc_info=True)
        finally:
            self.hung_up.set()
            self._digit_arrived.set()
            if self._inbox:
                self._inbox.changed.set()

    async def _dispatch_frames(self) -> None:
        while True:
            frame = await self._transport.receive()
            if isinstance(frame, Audio):
                if self._inbox:
                    self._inbox.push(frame.pcm)
                else:
                    self._recent.append(frame.pcm)
                continue
            if not isinstance(frame, Dtmf):
                return  # Hangup: _read wakes everyone
            self._digits.append(frame.digit)
            self._digit_arrived.set()
            if self._inbox:
                self._inbox.changed.set()

    # --- output ---------------------------------------------------------------------------

    async def say(self, text: str | Sequence[str], *, barge_in: bool = True) -> Interrupt | None:
        """Render the text(s) and play them as one prompt (see play)."""
        texts = [text] if isinstance(text, str) else list(text)
        pcm = b"".join([await self._tts.render(t) for t in texts if t])
        return await self.play(pcm, barge_in=barge_in)

    async def play(self, pcm: bytes, *, barge_in: bool = True) -> Interrupt | None:
        """Play in real time. Returns why it stopped early, None when it played to the end
        (or the caller hung up)."""
        self._barge, self._inbox = None, None  # unclaimed speech from an earlier prompt is stale
        watch = self._watch_for_speech() if barge_in and self.speech_on else None
        for hold in self._holds:
            hold.pause()
        try:
            return await self._send_paced(pcm, lambda: self._interrupt(barge_in))
        finally:
            for hold in self._holds:
                hold.resume()
            if watch:
                await _stop(watch)
            if not (self._barge and self._barge.heard):
                self._barge = None
                self._inbox = None

    def _interrupt(self, barge_in: bool) -> Interrupt | None:
        if barge_in and self._digits:
            return Interrupt(digit=self._digits[0])
        if self._barge and self._barge.heard:
            return Interrupt(speech=True)
        return None

    async def _send_paced(
        self, pcm: bytes, stop: Callable[[], Interrupt | None]
    ) -> Interrupt | None:
        # Each frame is due at start + i*20 ms, so a late wake-up is not added to the next.
        start = self.now()
        for i in range(0, len(pcm), FRAME_BYTES):
            delay = start + (i // FRAME_BYTES) * _FRAME_S - self.now()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.hung_up.is_set():
                return None
            if why := stop():  # checked after the sleep: a key is never followed by a frame
                return why
            await self._transport.send(pcm[i : i + FRAME_BYTES].ljust(FRAME_BYTES, b"\0"))
        return None

    @contextlib.asynccontextmanager
    async def play_loop(self, pcm: bytes) -> AsyncIterator[HoldLoop]:
        """Loop `pcm` (hold music) in the background until the block ends or .stop()."""
        hold = HoldLoop()
        self._holds.append(hold)
        task = asyncio.create_task(self._loop(pcm, hold), name="call-media-hold")
        try:
            yield hold
        finally:
            self._holds.remove(hold)
            await _stop(task)

    async def _loop(self, pcm: bytes, hold: HoldLoop) -> None:
        while pcm and not self.hung_up.is_set():
            await hold.may_play.wait()
            # Re-anchored after every pause; stops within one frame of a pause.
            await self._send_paced(pcm, lambda: None if hold.may_play.is_set() else Interrupt())

    async def hang_up(self) -> None:
        await self._transport.close()

    # --- input ----------------------------------------------------------------------------

    def clear_digits(self) -> None:
        self._digits.clear()

    async def _next_digit(self, timeout_s: float) -> str | None:
        deadline = self.now() + timeout_s
        while not self._digits:
            if self.hung_up.is_set() or self.now() >= deadline:
                return None
            self._digit_arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - self.now()):
                    await self._digit_arrived.wait()
        return self._digits.popleft()

    async def collect_digits(
        self,
        max_digits: int = 1,
        timeout_s: float = 5.0,
        terminator: str | None = "#",
        inter_digit_s: float = 3.0,
    ) -> str:
        """Up to max_digits keys; "" when none came within timeout_s."""
        got = ""
        wait_s = timeout_s
        while len(got) < max_digits:
            digit = await self._next_digit(wait_s)
            if digit is None or digit == terminator:
                break
            got += digit
            wait_s = inter_digit_s
        return got

    async def listen(
        self,
        timeout_s: float,
        *,
        grammar: list[str] | None = None,
        max_s: float = 15.0,
        also_digits: bool = True,
    ) -> Heard | Dtmf | None:
        """The caller's next utterance (a final Heard), a key (Dtmf), or None when nothing
        was said within timeout_s. Speech that cut the last prompt counts as the start."""
        if also_digits and self._digits:
            return Dtmf(self._digits.popleft())
        if self._speech is None:
            digit = await self._next_digit(timeout_s) if also_digits else None
            return Dtmf(digit) if digit else None
        try:
            recognizer = await asyncio.to_thread(self._speech.recognizer, grammar)
        except GrammarNotInVocabulary:
            digit = await self._next_digit(timeout_s) if also_digits else None
            return Dtmf(digit) if digit else None
        barge, self._barge = self._barge, None
        inbox = barge.inbox if barge else _Inbox()
        if not barge:
            inbox.frames.extend(self._recent)
        self._recent.clear()
        self._inbox = inbox
        try:
            return await self._recognize(recognizer, inbox, barge, timeout_s, max_s, also_digits)
        finally:
            self._inbox = None

    async def _recognize(
        self,
        rec: Recognizer,
        inbox: _Inbox,
        barge: _BargeIn | None,
        timeout_s: float,
        max_s: float,
        also_digits: bool,
    ) -> Heard | Dtmf | None:
        start = self.now()
        started = False
        if barge:
            heard = await asyncio.to_thread(rec.accept, bytes(barge.audio))
            if heard.final and heard.text:
                return heard
            started = bool(heard.text)
        batch_since: float | None = None
        quiet_s = 0.0  # of audio since the caller's voice was last heard
        while not self.hung_up.is_set():
            if also_digits and self._digits:
                return Dtmf(self._digits.popleft())
            now = self.now()
            deadline = start + (max_s if started else min(timeout_s, max_s))
            if now >= deadline:
                if not started:
                    return None
                heard = await asyncio.to_thread(rec.finish)
                return heard if heard.text else None
            if inbox.frames and batch_since is None:
                batch_since = now
            full = len(inbox.frames) >= self._cfg.batch_frames
            if batch_since is not None and (full or now - batch_since >= 0.1):
                batch_since = None
                chunk = inbox.take(self._cfg.batch_frames)
                heard = await asyncio.to_thread(rec.accept, chunk)
                started = started or bool(heard.text)
                if heard.final and heard.text:
                    return heard
                quiet_s = 0.0 if _loud(chunk, self._cfg.voice_rms) else quiet_s + _seconds(chunk)
                if started and quiet_s >= self._cfg.end_silence_s:
                    heard = await asyncio.to_thread(rec.finish)
                    return heard if heard.text else None
                continue
            await inbox.wait((batch_since + 0.1 if batch_since else deadline) - now)
        return None

    def _watch_for_speech(self) -> asyncio.Task[None]:
        self._barge = _BargeIn(_Inbox(), bytearray())
        self._inbox = self._barge.inbox
        return asyncio.create_task(self._watch(self._barge), name="call-media-barge-in")

    async def _watch(self, barge: _BargeIn) -> None:
        # A cheap energy gate first: the recognizer only runs once someone seems to speak,
        # so a silent caller costs no CPU during prompts.
        assert self._speech
        inbox = barge.inbox
        preroll: deque[bytes] = deque(maxlen=self._cfg.preroll_frames)
        rec: Recognizer | None = None
        while True:
            if rec is not None:
                await asyncio.sleep(self._cfg.batch_frames * _FRAME_S)  # ~100 ms per accept
            elif not inbox.frames:
                await inbox.wait(1.0)
            frames = [inbox.frames.popleft() for _ in range(len(inbox.frames))]
            if rec is None:
                preroll.extend(frames)
                if all(_rms(f) < self._cfg.voice_rms for f in frames):
                    continue
                rec = await asyncio.to_thread(self._speech.recognizer, None)
                frames = list(preroll)
            chunk = b"".join(frames)
            barge.audio += chunk
            if (await asyncio.to_thread(rec.accept, chunk)).text:
                # Frames arriving from now on wait in the inbox for the listen that follows.
                barge.heard = True
                return

    async def record(self, max_s: float, *, silence_end_s: float = 3.0, beep: bool = True) -> bytes:
        """The caller's message: ends on '#', silence_end_s of quiet after speech, max_s, or
        hang-up (what was recorded is returned then too)."""
        if beep:
            await self.play(beep_tone(), barge_in=False)
        self.clear_digits()  # '#' pressed during the prompt must not end the recording
        self._barge = None
        self._recent.clear()
        inbox = self._inbox = _Inbox()
        audio = bytearray()
        spoke, quiet_frames = False, 0
        deadline = self.now() + max_s
        try:
            while True:
                while inbox.frames:  # first: audio that came before '#' or the hang-up
                    frame = inbox.frames.popleft()
                    audio += frame
                    loud = _rms(frame) >= self._cfg.voice_rms
                    spoke = spoke or loud
                    quiet_frames = 0 if loud else quiet_frames + 1
                if self.hung_up.is_set() or "#" in self._digits or self.now() >= deadline:
                    break
                if spoke and quiet_frames * _FRAME_S >= silence_end_s:
                    break
                await inbox.wait(deadline - self.now())
        finally:
            self._inbox = None
            self.clear_digits()
        return bytes(audio)


async def _stop(task: asyncio.Task[Any]) -> None:
    """Cancel a helper task and wait for it; a cancellation of our own still propagates
    (asyncio.wait does not raise the helper's CancelledError)."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception():
        log.error(
            "call_media.task_failed", exc_info=task.exception(), extra={"task": task.get_name()}
        )


def _loud(chunk: bytes, threshold: float) -> bool:
    return any(
        _rms(chunk[i : i + FRAME_BYTES]) >= threshold for i in range(0, len(chunk), FRAME_BYTES)
    )


def _seconds(chunk: bytes) -> float:
    return len(chunk) / (2 * SAMPLE_RATE)


def _rms(frame: bytes) -> float:
    samples = _samples(frame)
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


def _samples(pcm: bytes) -> array[int]:
    samples = array("h", pcm[: len(pcm) // 2 * 2])
    if sys.byteorder == "big":  # slin is little-endian on the wire
        samples.byteswap()
    return samples


def _to_pcm(values: Sequence[float]) -> bytes:
    samples = array("h", (round(v) for v in values))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _tone(
    freq: float, seconds: float, amplitude: float, envelope: Callable[[float], float]
) -> list[float]:
    n = int(SAMPLE_RATE * seconds)
    return [
        amplitude * envelope(i / SAMPLE_RATE) * math.sin(2 * math.pi * freq * i / SAMPLE_RATE)
        for i in range(n)
    ]


@functools.cache
def hold_music() -> bytes:
    """About 6.5 s of a soft pentatonic music-box tune at low volume, made to loop."""
    # E G A G E D C D E D C, then a rest: notes decay to silence, so the loop has no click.
    tune = [659.25, 783.99, 880.0, 783.99, 659.25, 587.33, 523.25, 587.33, 659.25, 587.33, 523.25]
    volume = 0.12 * 32767  # about -18 dBFS: music under the line, never louder than prompts

    def bell(t: float) -> float:
        return min(t / 0.02, 1.0) * math.exp(-t * 5.0)

    out: list[float] = []
    for f in tune:
        fundamental = _tone(f, 0.5, volume * 0.8, bell)
        overtone = _tone(2 * f, 0.5, volume * 0.2, bell)
        out += [a + b for a, b in zip(fundamental, overtone, strict=True)]
    return _to_pcm(out + [0.0] * SAMPLE_RATE)


@functools.cache
def beep_tone() -> bytes:
    """300 ms at 1 kHz with 10 ms ramps: the "提示音" before recording or a question."""
    return _to_pcm(_tone(1000, 0.3, 0.3 * 32767, lambda t: min(t, 0.3 - t, 0.01) / 0.01))
