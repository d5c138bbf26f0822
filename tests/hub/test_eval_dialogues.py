"""`hub eval dialogues`: the harness drives the real router turn by turn and scores each turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.eval_dialogues import load_dialogues, run_dialogues
from hub.settings import Settings
from mongo.client import Database
from routing.dialogue_scoring import parse_dialogues
from tests.fakes.bot import FakeBot

SMALL = """
- id: answered
  tags: [consult]
  turns:
    - {user: 宝宝医保怎么办, expect: {kb_article_id: kb-0001, state: bot, priority: normal}}
- id: wrong-on-purpose
  tags: [consult]
  turns:
    - {user: 宝宝医保怎么办, expect: {kb_article_id: kb-0099}}
- id: emergency
  tags: [emergency]
  turns:
    - {user: 救命 我摔倒了, expect: {priority: emergency, state: queued}}
- id: complaint-intake
  tags: [complaint]
  turns:
    - {user: 我要投诉物业, expect: {state: bot}}
    - {user: 幸福小区3栋, expect: {state: bot}}
    - {user: 13812345678, expect: {state: bot, entities: {phone: "13812345678"}}}
    - {user: 确认, expect: {case_type: complaint, state: queued}}
"""


async def test_the_harness_scores_passes_and_failures(
    db: Database, settings: Settings, tmp_path: Path
):
    file = tmp_path / "small.yml"
    file.write_text(SMALL, encoding="utf-8")
    result = await run_dialogues(db, FakeBot(), load_dialogues(file), settings)
    assert (result["dialogues"], result["turns"]) == (4, 7)
    assert result["checks"]["kb_article_id"] == {"passed": 1, "checked": 2, "rate": 0.5}
    assert result["checks"]["case_type"]["passed"] == 1
    assert result["emergency_first_turn"]["rate"] == 1.0
    assert result["false_emergencies"] == 0
    [failure] = result["failures"]
    assert (failure["dialogue"], failure["check"], failure["expected"]) == (
        "wrong-on-purpose",
        "kb_article_id",
        "kb-0099",
    )
    assert result["dialogue_pass_rate"] == 0.75
    assert result["tags"]["consult"] == {"dialogues": 2, "passed": 1, "rate": 0.5}


def test_a_malformed_file_is_refused_with_the_dialogue_named():
    with pytest.raises(ValueError, match="d1 turn 1"):
        parse_dialogues([{"id": "d1", "turns": [{"user": "x", "expect": {"colour": "red"}}]}])
