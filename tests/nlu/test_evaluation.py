from dataclasses import dataclass
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

from nlu.errors import RasaNotInstalled, RasaUnavailable
from nlu.evaluation import count_entity_matches, evaluate, macro_f1, run_eval
from nlu.parser import Entity, ParseResult
from nlu.training_data import Example
from tests.nlu.conftest import SPLIT

KEYS = {"n", "intent_accuracy", "macro_f1", "entity_f1", "emergency_recall", "p50_ms", "p99_ms"}


@dataclass
class TableParser:
    """Answers from a table: text -> (intent, entities)."""

    table: dict[str, tuple[str, tuple[Entity, ...]]]

    async def parse(self, text: str) -> ParseResult:
        intent, entities = self.table[text]
        return ParseResult(text, intent, 1.0, entities=entities)


PHONE = Entity("phone", "13812340001", 2, 13, "13812340001")
STAFF = Entity("service_type", "保洁", 2, 5, "搞卫生")


async def test_scores_intents_entities_and_emergency_recall():
    examples = [
        Example("救命", "emergency_help"),
        Example("快来人", "emergency_help"),
        Example("电话13812340001", "ask_human", (PHONE,)),
        Example("约个搞卫生", "order_domestic_service", (STAFF,)),
    ]
    parser = TableParser(
        {
            "救命": ("emergency_help", ()),
            "快来人": ("greet", ()),
            "电话13812340001": ("ask_human", (PHONE,)),
            "约个搞卫生": ("order_domestic_service", (Entity("time", "x", 0, 1, "约"),)),
        }
    )
    result = await evaluate(parser, examples)
    assert set(result) == KEYS
    assert result["n"] == 4
    assert result["intent_accuracy"] == 0.75
    assert result["emergency_recall"] == 0.5
    assert result["entity_f1"] == 0.5  # 1 match, 2 predicted, 2 gold
    gold = [e.intent for e in examples]
    pred = ["emergency_help", "greet", "ask_human", "order_domestic_service"]
    assert result["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro"), abs=1e-4)
    assert 0 <= result["p50_ms"] <= result["p99_ms"]


async def test_emergency_recall_is_none_without_emergency_examples():
    result = await evaluate(TableParser({"你好": ("greet", ())}), [Example("你好", "greet")])
    assert result["emergency_recall"] is None
    assert result["entity_f1"] == 1.0


def test_entity_matches_need_the_type_and_the_value_or_the_span():
    canonical = Entity("service_type", "保洁", 2, 5, "搞卫生")
    raw = Entity("service_type", "搞卫生", 2, 5, "搞卫生")
    shifted = Entity("service_type", "保洁", 0, 2, "约个")
    wrong_type = Entity("time", "保洁", 2, 5, "搞卫生")
    assert count_entity_matches([canonical], [raw]) == 1  # same span, other value
    assert count_entity_matches([canonical], [shifted]) == 1  # same value, other span
    assert count_entity_matches([canonical], [wrong_type]) == 0
    assert count_entity_matches([canonical], [canonical, canonical]) == 1


def test_macro_f1_matches_scikit_learn():
    gold = ["a", "a", "b", "c", "c", "c"]
    pred = ["a", "b", "b", "c", "a", "d"]
    assert macro_f1(gold, pred) == pytest.approx(f1_score(gold, pred, average="macro"), abs=1e-4)


def test_run_eval_embedded_trains_on_nlu_data_and_scores_the_test_file():
    result = run_eval(
        SPLIT / "test.yml", backend="embedded", nlu_data=SPLIT / "train.yml", rasa_url=None
    )
    assert set(result) == KEYS
    assert result["n"] == 92
    assert result["intent_accuracy"] >= 0.8


def test_run_eval_rasa_without_a_url_or_a_rasa_install_says_how_to_build_one(tmp_path: Path):
    """Without RASA_URL a temporary sidecar is used; without .venv-rasa that cannot start."""
    with pytest.raises(RasaNotInstalled, match="make rasa"):
        run_eval(
            SPLIT / "test.yml",
            backend="rasa",
            nlu_data=SPLIT / "train.yml",
            rasa_url=None,
            var_dir=tmp_path,
            rasa_bin=tmp_path / "no-venv-rasa" / "bin" / "rasa",
        )


def test_run_eval_rasa_with_no_server_raises_rasa_unavailable(closed_port_url: str):
    with pytest.raises(RasaUnavailable, match="no Rasa server answers"):
        run_eval(
            SPLIT / "test.yml",
            backend="rasa",
            nlu_data=SPLIT / "train.yml",
            rasa_url=closed_port_url,
        )
