"""What the IVR needs from speech recognition and synthesis; Vosk and espeak-ng implement it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from primitives.errors import HubError


class GrammarNotInVocabulary(HubError):
    """None of a menu's phrases can be spelled with the model's words (a model of another
    language than the flow's): the menu takes keys only."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What a recognizer made of the caller's audio so far."""

    text: str  # recognised words, spaces removed for Chinese ("" if nothing)
    final: bool  # True: end of speech detected, the utterance is complete
    confidence: float = 1.0  # mean word confidence (Vosk's "conf"), 1.0 when unknown


class Recognizer(Protocol):
    """One utterance at a time over a stream of slin 8 kHz audio. Not thread-safe; the caller
    runs accept() off the event loop (it is CPU work)."""

    def accept(self, pcm: bytes) -> Heard:
        """Feed audio. Returns a partial (final=False; text may be "") or, when the recognizer
        detects the end of an utterance, the final result (then it starts a new utterance)."""
        ...

    def finish(self) -> Heard:
        """End the utterance now (the caller stopped, a timeout): the final result."""
        ...


class SpeechRecognition(Protocol):
    """A loaded model, shared by all calls."""

    def recognizer(self, grammar: Sequence[str] | None = None) -> Recognizer:
        """A new recognizer; with `grammar`, restricted to those phrases (menus), plus
        "[unk]" for anything else."""
        ...


class Synthesizer(Protocol):
    async def render(self, text: str) -> bytes:
        """zh-CN text → slin 8 kHz mono audio (cached: the same text renders once)."""
        ...
