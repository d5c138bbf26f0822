import logging
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from nlu.errors import TrainingDataError
from nlu.parser import Entity
from nlu.training_data import (
    TrainingData,
    dump_training_data,
    load_training_data,
    merge_training_data,
    parse_annotated,
    read_training_data,
    stratified_split,
)
from tests.nlu.conftest import SHIPPED, SPLIT

GOOD = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好
- intent: order_domestic_service
  examples: |
    - [明天上午](time)约个[搞卫生]{"entity": "service_type", "value": "保洁"}
- synonym: 保洁
  examples: |
    - 搞卫生
    - 打扫卫生
- regex: phone
  examples: |
    - 1[3-9]\\d{9}
- lookup: district
  examples: |
    - 东湖区
    - 西湖区
"""


def test_shared_file_has_sixteen_intents_and_every_block_kind(shared: TrainingData):
    assert len(shared.intents) == 16
    assert Counter(e.intent for e in shared.examples)["emergency_help"] == 40
    assert shared.synonyms["修空调"] == "家电维修"
    assert shared.regexes["case_no"] == (r"20\d{6}-\d{6}",)
    assert "青山湖区" in shared.lookups["district"]


def test_the_shipped_directory_is_the_shared_file_plus_our_sentences(
    shipped: TrainingData, shared: TrainingData
):
    extra = load_training_data(SHIPPED / "hotline_extra.yml")
    assert shipped.examples == extra.examples + shared.examples  # files in name order
    assert set(shipped.intents) == set(shared.intents)  # the extra file adds no intent
    # the extra file may add synonyms (空调不制冷 → 家电维修), never change a shared one
    assert shipped.synonyms == {**extra.synonyms, **shared.synonyms}
    assert all(extra.synonyms[k] == v for k, v in shared.synonyms.items() if k in extra.synonyms)
    # the extra file may name more of the city's districts, never drop one
    assert shipped.lookups == merge_training_data([extra, shared]).lookups
    assert all(set(v) <= set(shipped.lookups[k]) for k, v in shared.lookups.items())
    assert {e.text for e in extra.examples}.isdisjoint(e.text for e in shared.examples)


# emergency_heldout.yml was run before this check covered it; its one near copy (of an older
# training sentence, 小区的消防栓坏了, a non-emergency) stays, so its figures stay as measured.
# written independently and close by chance (the held-out file came after the training sentence)
KNOWN_CLOSE = frozenset(
    {"小区的消防通道的门锁坏了", "家里老人瘫痪在床五六年了，有没有护理补贴可以申请"}
)


def test_extra_sentences_stay_away_from_every_held_out_file():
    """hotline_extra.yml is trained on; the held-out files are only scored. Nothing of the
    one may be a near copy of the other, or the reported figures flatter the parser."""
    extra = [e.text for e in load_training_data(SHIPPED / "hotline_extra.yml").examples]
    held_out_files = [SPLIT / "test.yml", SPLIT / "paraphrases_test.yml"]
    held_out_files += sorted(SPLIT.glob("emergency_holdout*.yml"))
    held_out_files += [SPLIT / "emergency_heldout.yml", SPLIT / "emergency_heldout2.yml"]
    assert len(held_out_files) == 12  # (the emergency dev file is tuned on)
    for path in held_out_files:
        for held_out in load_training_data(path).examples:
            if held_out.text in KNOWN_CLOSE:
                continue
            close = [t for t in extra if SequenceMatcher(None, t, held_out.text).ratio() >= 0.7]
            assert not close, (path.name, held_out.text, close)


def test_a_directory_merges_its_files_in_name_order(tmp_path: Path):
    (tmp_path / "b.yml").write_text(
        "nlu:\n- intent: deny\n  examples: |\n    - 不要\n"
        "- lookup: district\n  examples: |\n    - 东湖区\n    - 西湖区\n",
        encoding="utf-8",
    )
    (tmp_path / "a.yaml").write_text(
        "nlu:\n- intent: affirm\n  examples: |\n    - 好的\n"
        "- lookup: district\n  examples: |\n    - 东湖区\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not training data", encoding="utf-8")
    data = load_training_data(tmp_path)
    assert [(e.text, e.intent) for e in data.examples] == [("好的", "affirm"), ("不要", "deny")]
    assert data.lookups["district"] == ("东湖区", "西湖区")


def test_a_directory_without_training_files_is_refused(tmp_path: Path):
    with pytest.raises(TrainingDataError, match=r"no \.yml"):
        load_training_data(tmp_path)


def test_inline_annotations_become_entities_with_offsets_into_plain_text():
    data = read_training_data(GOOD)
    example = data.examples[2]
    assert example.text == "明天上午约个搞卫生"
    assert example.entities == (
        Entity("time", "明天上午", 0, 4, "明天上午"),
        Entity("service_type", "保洁", 6, 9, "搞卫生"),
    )


def test_legacy_colon_annotation_keeps_its_value():
    text, entities = parse_annotated("约个[钟点工](service_type:保洁)")
    assert text == "约个钟点工"
    assert entities == (Entity("service_type", "保洁", 2, 5, "钟点工"),)


def test_synonym_regex_and_lookup_blocks_are_read():
    data = read_training_data(GOOD)
    assert data.synonyms == {"搞卫生": "保洁", "打扫卫生": "保洁"}
    assert data.regexes == {"phone": (r"1[3-9]\d{9}",)}
    assert data.lookups == {"district": ("东湖区", "西湖区")}


def test_annotated_spans_match_their_text_in_the_shipped_files(
    shipped: TrainingData, shared: TrainingData
):
    entities = [(e, ex.text) for ex in shipped.examples for e in ex.entities]
    assert sum(len(ex.entities) for ex in shared.examples) == 120
    assert len(entities) > 120
    assert all(text[e.start : e.end] == e.text for e, text in entities)


def test_bad_blocks_are_skipped_with_a_warning_naming_file_and_item(
    caplog: pytest.LogCaptureFixture,
):
    text = """
nlu:
- intent: greet
  examples: |
    - 你好
- intent: thank
  examples: 42
- just a string
- intent: affirm
  synonym: both
  examples: |
    - 好
- intent: deny
  examples: |
    - 不要
    - [坏的]{"entity": }
- regex: broken
  examples: |
    - 1[3-9
"""
    with caplog.at_level(logging.WARNING, logger="nlu.training_data"):
        data = read_training_data(text, source="bad.yml")
    assert [(e.intent, e.text) for e in data.examples] == [("greet", "你好"), ("deny", "不要")]
    assert data.regexes == {}
    skipped = [r for r in caplog.records if r.getMessage() == "training_data.item_skipped"]
    assert len(skipped) == 5
    assert all(r.file == "bad.yml" for r in skipped)
    assert any("thank" in r.item for r in skipped)
    assert any("坏的" in r.item for r in skipped)


def test_unreadable_yaml_raises_a_clear_error(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text("nlu: [unclosed", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="not valid YAML"):
        load_training_data(path)
    with pytest.raises(TrainingDataError, match="cannot read"):
        load_training_data(tmp_path / "missing.yml")


def test_written_yaml_reads_back_identically(shared: TrainingData):
    assert read_training_data(dump_training_data(shared, header="copy")) == shared


def test_split_is_stratified_disjoint_and_complete(shipped: TrainingData):
    train, test = stratified_split(shipped, test_fraction=0.2, seed=7)
    assert len(train.examples) + len(test.examples) == len(shipped.examples)
    assert not {id(e) for e in train.examples} & {id(e) for e in test.examples}
    per_intent = Counter(e.intent for e in test.examples)
    totals = Counter(e.intent for e in shipped.examples)
    assert set(per_intent) == set(totals)
    assert all(per_intent[k] == round(totals[k] * 0.2) for k in totals)
    assert train.synonyms == shipped.synonyms
    assert test.synonyms == {}


def test_split_depends_only_on_the_seed(shipped: TrainingData):
    first = stratified_split(shipped, seed=3)[1].examples
    assert stratified_split(shipped, seed=3)[1].examples == first
    assert stratified_split(shipped, seed=4)[1].examples != first


def test_stored_split_files_are_the_seeded_split_of_the_shipped_data():
    """tests/data/nlu/{train,test}.yml are what bench/nlu_make_split.py writes: rerun it after
    editing hub/data/nlu/."""
    from bench.nlu_make_split import split

    train, test = split()
    assert load_training_data(SPLIT / "train.yml") == read_training_data(dump_training_data(train))
    assert load_training_data(SPLIT / "test.yml").examples == test.examples


def test_split_rejects_a_fraction_outside_zero_and_one(shipped: TrainingData):
    with pytest.raises(ValueError, match="between 0 and 1"):
        stratified_split(shipped, test_fraction=1.0)
