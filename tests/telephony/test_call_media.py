"""CallMedia over an in-memory transport, a scripted recognizer and a silent synthesizer.

The fakes here are test-only implementations of AudioTransport, SpeechRecognition and
Synthesizer; tests/telephony/test_ivr_engine.py uses them too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

import numpy as np
import pytest

from telephony.ivr.call_media import CallMedia, Interrupt, hold_music
from telephony.media import FRAME_BYTES, Audio, Dtmf, Hangup, InboundFrame
from telephony.speech.interfaces import Heard

LOUD = 8000  # sample value of a "spoken" frame; sample 0 carries the phrase's index
SILENCE = b"\0" * FRAME_BYTES


async def _until(cond: asyncio.Condition, predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(10), cond:
        await cond.wait_for(predicate)


class MemoryTransport:
    """AudioTransport over an asyncio queue; keeps everything played to the caller."""

    def __init__(self, call_id: str = "call-1") -> None:
        self.call_id = call_id
        self.inbound: asyncio.Queue[InboundFrame] = asyncio.Queue()
        self.sent = bytearray()
        self.closed = False
        self._gone = False
        self._changed = asyncio.Condition()

    async def receive(self) -> InboundFrame:
        if self._gone:
            return Hangup()
        frame = await self.inbound.get()
        self._gone = isinstance(frame, Hangup)
        return frame

    async def send(self, pcm: bytes) -> None:
        assert len(pcm) == FRAME_BYTES
        self.sent += pcm
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        self.closed = True
        self.inbound.put_nowait(Hangup("closed"))

    async def sent_at_least(self, n: int) -> None:
        await _until(self._changed, lambda: len(self.sent) >= n)


class ScriptedRecognizer:
    """Hears the phrase coded in loud frames; ends the utterance after 5 quiet frames."""

    def __init__(self, phrases: list[str]) -> None:
        self._phrases = phrases
        self._text = ""
        self._quiet = 0

    def accept(self, pcm: bytes) -> Heard:
        for i in range(0, len(pcm), FRAME_BYTES):
            samples = np.frombuffer(pcm[i : i + FRAME_BYTES], dtype="<i2")
            if samples.size > 1 and samples[1] == LOUD:
                self._text, self._quiet = self._phrases[samples[0]], 0
            elif self._text:
                self._quiet += 1
                if self._quiet >= 5:
                    return self.finish()
        return Heard(self._text[:1], final=False)

    def finish(self) -> Heard:
        text, self._text = self._text, ""
        return Heard(text, final=True)


class ScriptedSpeech:
    def __init__(self) -> None:
        self.phrases: list[str] = []
        self.grammars: list[list[str] | None] = []

    def recognizer(self, grammar: Sequence[str] | None = None) -> ScriptedRecognizer:
        self.grammars.append(list(grammar) if grammar else None)
        return ScriptedRecognizer(self.phrases)

    def frame(self, text: str) -> bytes:
        if text not in self.phrases:
            self.phrases.append(text)
        samples = np.full(FRAME_BYTES // 2, LOUD, dtype="<i2")
        samples[0] = self.phrases.index(text)
        return samples.tobytes()


class SilentSynth:
    """Renders `bytes_per_char` bytes of silence per character and remembers the texts."""

    def __init__(self, bytes_per_char: int = 32) -> None:
        self.bytes_per_char = bytes_per_char
        self.texts: list[str] = []
        self._changed = asyncio.Condition()

    async def render(self, text: str) -> bytes:
        self.texts.append(text)
        async with self._changed:
            self._changed.notify_all()
        return b"\0" * (len(text) * self.bytes_per_char)

    async def rendered(self, fragment: str, times: int = 1) -> None:
        await _until(self._changed, lambda: self.spoken(fragment) >= times)

    def spoken(self, fragment: str) -> int:
        return sum(fragment in t for t in self.texts)


class Caller:
    """The far end: presses keys, speaks phrases the ScriptedSpeech knows, hangs up."""

    def __init__(self, transport: MemoryTransport, speech: ScriptedSpeech | None) -> None:
        self._transport = transport
        self._speech = speech

    def press(self, digits: str) -> None:
        for digit in digits:
            self._transport.inbound.put_nowait(Dtmf(digit))

    def speak(self, text: str) -> None:
        assert self._speech
        frames = [self._speech.frame(text)] * 3 + [SILENCE] * 10
        for frame in frames:
            self._transport.inbound.put_nowait(Audio(frame))

    async def talk_in_real_time(self, frames: int) -> None:
        for _ in range(frames):
            self._transport.inbound.put_nowait(Audio(b"\x40\x1f" * (FRAME_BYTES // 2)))
            await asyncio.sleep(0.02)

    def hang_up(self) -> None:
        self._transport.inbound.put_nowait(Hangup())


@pytest.fixture
async def line() -> AsyncIterator[tuple[CallMedia, MemoryTransport, Caller, ScriptedSpeech]]:
    transport, speech = MemoryTransport(), ScriptedSpeech()
    async with CallMedia(transport, speech, SilentSynth()) as media:
        yield media, transport, Caller(transport, speech), speech


async def test_a_one_second_prompt_takes_real_time() -> None:
    """Frames are paced at 20 ms, so one second of audio needs about one second."""
    transport = MemoryTransport()
    async with CallMedia(transport, None, SilentSynth()) as media:
        started = time.monotonic()
        assert await media.play(b"\1\0" * 8000) is None
        assert time.monotonic() - started >= 0.9
    assert len(transport.sent) == 16000


async def test_the_last_partial_frame_is_padded_with_silence(line) -> None:
    """Every frame handed to the transport is a whole 20 ms frame."""
    media, transport, _, _ = line
    await media.play(b"\1\0" * 200)
    assert bytes(transport.sent) == b"\1\0" * 160 + b"\1\0" * 40 + b"\0" * 240


async def test_a_key_cuts_the_prompt_and_stays_for_the_next_collect(line) -> None:
    """A key during a prompt stops it early; the same key is then collected."""
    media, transport, caller, _ = line
    prompt = SILENCE * 50
    playing = asyncio.create_task(media.play(prompt))
    await transport.sent_at_least(3 * FRAME_BYTES)
    caller.press("5")
    assert await playing == Interrupt(digit="5")
    assert len(transport.sent) < len(prompt)
    assert await media.collect_digits(1, timeout_s=0.1) == "5"


async def test_without_barge_in_a_key_waits_until_the_prompt_ends(line) -> None:
    """barge_in=False plays the whole prompt; the key is still collected afterwards."""
    media, transport, caller, _ = line
    caller.press("7")
    assert await media.say("请听完这句话", barge_in=False) is None
    assert len(transport.sent) == FRAME_BYTES  # 6 chars x 32 bytes, one padded frame
    assert await media.collect_digits(1, timeout_s=0.1) == "7"


async def test_speech_cuts_the_prompt_and_is_heard_by_the_next_listen(line) -> None:
    """Speech during a prompt stops it; the following listen returns what was said."""
    media, transport, caller, _ = line
    playing = asyncio.create_task(media.play(SILENCE * 50))
    await transport.sent_at_least(2 * FRAME_BYTES)
    caller.speak("路灯不亮")
    assert await playing == Interrupt(speech=True)
    assert len(transport.sent) < 50 * FRAME_BYTES
    assert await media.listen(1.0) == Heard("路灯不亮", final=True)


async def test_silence_during_a_prompt_does_not_cut_it(line) -> None:
    """Quiet caller audio never reaches the barge-in recognizer."""
    media, transport, _, speech = line
    for _ in range(20):
        transport.inbound.put_nowait(Audio(SILENCE))
    assert await media.play(SILENCE * 10) is None
    assert speech.grammars == []


async def test_listen_returns_none_when_nothing_is_said(line) -> None:
    """No speech and no key within the timeout is no-input."""
    media, _, _, _ = line
    assert await media.listen(0.2) is None


async def test_listen_passes_the_grammar_and_returns_the_utterance(line) -> None:
    """The recognizer gets the menu words; the final result is returned."""
    media, _, caller, speech = line
    caller.speak("人工")
    assert await media.listen(1.0, grammar=["人工", "查询"]) == Heard("人工", final=True)
    assert speech.grammars == [["人工", "查询"]]


async def test_a_key_while_listening_is_returned_as_dtmf(line) -> None:
    """Pressing a key during listen ends it with that key."""
    media, _, caller, _ = line
    listening = asyncio.create_task(media.listen(5.0))
    await asyncio.sleep(0)
    caller.press("0")
    assert await listening == Dtmf("0")


async def test_without_a_model_listen_returns_only_keys() -> None:
    """No SpeechRecognition: listen waits for a key and never for speech."""
    transport = MemoryTransport()
    async with CallMedia(transport, None, SilentSynth()) as media:
        assert not media.speech_on
        Caller(transport, None).press("2")
        assert await media.listen(1.0) == Dtmf("2")
        assert await media.listen(0.1) is None


async def test_collect_digits_stops_at_the_terminator(line) -> None:
    """'123#' with room for 6 digits collects '123'."""
    media, _, caller, _ = line
    caller.press("123#9")
    assert await media.collect_digits(6, timeout_s=1.0) == "123"


async def test_collect_digits_times_out_empty(line) -> None:
    """No key at all gives ''."""
    media, _, _, _ = line
    assert await media.collect_digits(1, timeout_s=0.1) == ""


async def test_record_ends_on_hash(line) -> None:
    """A recording keeps the caller's audio up to the '#' key."""
    media, transport, caller, _ = line
    recording = asyncio.create_task(media.record(30, beep=False))
    await asyncio.sleep(0)
    for _ in range(25):
        transport.inbound.put_nowait(Audio(b"\x40\x1f" * (FRAME_BYTES // 2)))
    caller.press("#")
    async with asyncio.timeout(5):
        pcm = await recording
    assert len(pcm) == 25 * FRAME_BYTES


async def test_record_keeps_the_audio_when_the_caller_hangs_up(line) -> None:
    """Hanging up ends the recording without losing what was said."""
    media, transport, caller, _ = line
    recording = asyncio.create_task(media.record(30, beep=False))
    await asyncio.sleep(0)
    for _ in range(10):
        transport.inbound.put_nowait(Audio(b"\x40\x1f" * (FRAME_BYTES // 2)))
    caller.hang_up()
    async with asyncio.timeout(5):
        assert len(await recording) == 10 * FRAME_BYTES
    assert media.hung_up.is_set()


async def test_record_plays_a_beep_first(line) -> None:
    """The beep ('提示音') goes out before recording starts."""
    media, transport, caller, _ = line
    caller.press("#")  # pressed during the beep: must not end the recording at once
    recording = asyncio.create_task(media.record(0.3))
    async with asyncio.timeout(5):
        await recording
    assert len(transport.sent) >= 0.3 * 16000
    assert any(transport.sent)


async def test_hold_music_pauses_for_an_announcement_and_stops(line) -> None:
    """Announcements are not mixed with music, and stop() silences the loop."""
    media, transport, _, _ = line
    async with media.play_loop(hold_music()) as hold:
        await transport.sent_at_least(5 * FRAME_BYTES)
        before = len(transport.sent)
        await media.play(SILENCE * 10, barge_in=False)
        during = bytes(transport.sent[before:])
        frames = [during[i : i + FRAME_BYTES] for i in range(0, len(during), FRAME_BYTES)]
        assert sum(any(f) for f in frames) <= 1  # at most the music frame already in flight
        hold.stop()
        stopped_at = len(transport.sent)
        await media.play(SILENCE, barge_in=False)
        assert len(transport.sent) == stopped_at + FRAME_BYTES


def test_hold_music_is_soft_but_audible() -> None:
    """The generated tune stays well below full scale and is not silence."""
    samples = np.frombuffer(hold_music(), dtype="<i2").astype(float)
    assert 0 < np.abs(samples).max() < 0.2 * 32767
    assert len(samples) >= 5 * 8000
