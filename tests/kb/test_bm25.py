"""BM25 scores as arrays: get() for a few documents, top() for the best, edits in the overlay."""

from kb.bm25 import Bm25Config, Bm25Index


def _index() -> Bm25Index:
    index = Bm25Index(Bm25Config(overlay_min=10))
    index.build(
        [
            ("same-1", ["社保", "补办"]),
            ("other", ["公积金", "提取"]),
            ("same-2", ["社保", "补办"]),
            ("best", ["社保", "补办", "社保卡"]),
            ("weak", ["社保", "转移", "异地", "办理", "流程"]),
        ]
    )
    return index


def test_top_is_best_first_with_ties_in_document_order():
    scores = _index().scores(["社保", "补办", "社保卡"])
    assert scores.top(10) == ["best", "same-1", "same-2", "weak"]
    assert scores.top(2) == ["best", "same-1"]
    assert scores.top(0) == []
    assert scores.get("same-1") == scores.get("same-2") > scores.get("weak") > 0
    assert scores.get("other") == 0.0
    assert scores.get("unknown key") == 0.0


def test_an_edited_document_is_scored_from_the_overlay_and_a_deleted_one_not_at_all():
    index = _index()
    index.upsert("other", ["社保", "补办", "社保卡", "补办"])
    index.delete("best")
    scores = index.scores(["社保", "补办", "社保卡"])
    assert scores.top(10)[0] == "other"
    assert "best" not in scores.top(10)
    assert scores.get("best") == 0.0
    assert scores.divided(2.0).get("other") == scores.get("other") / 2.0


def test_a_query_without_known_words_scores_nothing():
    scores = _index().scores(["天气"])
    assert scores.top(5) == []
    assert scores.get("best") == 0.0


def test_base_scores_equal_the_overlay_formula_for_the_same_document():
    """The base sums bm25s's precomputed columns; the overlay scores in Python: one document
    stored both ways must score the same, divided or not."""
    index = _index()
    index.upsert("copy", ["社保", "转移", "异地", "办理", "流程"])  # same tokens as "weak"
    scores = index.scores(["社保", "转移", "流程", "天气"])
    assert abs(scores.get("copy") - scores.get("weak")) < 1e-6
    assert scores.get("weak") > 0
    half = scores.divided(2.0)
    assert abs(half.get("weak") - scores.get("weak") / 2.0) < 1e-9
    assert half.top(2) == scores.top(2)
