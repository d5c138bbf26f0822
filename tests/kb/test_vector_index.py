"""The faiss vector index on its own: exact and HNSW search, removal, persistence."""

from pathlib import Path

import faiss
import numpy as np
import pytest

from kb.vector_index import VectorIndex, VectorIndexConfig

DIM = 16


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _filled(config: VectorIndexConfig, articles: int) -> tuple[VectorIndex, np.ndarray]:
    """`articles` articles of two vectors each; returns the index and the (2n, DIM) vectors."""
    vectors = _unit(np.random.default_rng(7), 2 * articles)
    index = VectorIndex(DIM, config)
    items = [(f"a{i}", [f"q{i}", f"s{i}"]) for i in range(articles)]
    index.add_many(items, vectors)
    return index, vectors


@pytest.mark.parametrize(("hnsw_above", "kind"), [(10_000, "flat"), (50, "hnsw")])
def test_a_vector_finds_its_own_article_first(hnsw_above: int, kind: str):
    index, vectors = _filled(VectorIndexConfig(hnsw_above=hnsw_above), 60)
    assert index.kind == kind
    assert len(index) == 120
    for row in (0, 33, 119):
        best = index.search(vectors[row], 3)[0]
        assert best.article_id == f"a{row // 2}"
        assert best.text == (f"q{row // 2}" if row % 2 == 0 else f"s{row // 2}")
        assert best.score == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("hnsw_above", [10_000, 50])
def test_a_removed_article_is_never_returned(hnsw_above: int):
    index, vectors = _filled(VectorIndexConfig(hnsw_above=hnsw_above), 60)
    index.remove("a5")
    assert "a5" not in index.article_ids()
    hits = index.search(vectors[10], 5)
    assert len(hits) == 5
    assert all(h.article_id != "a5" for h in hits)


@pytest.mark.parametrize("hnsw_above", [10_000, 50])
def test_stored_vectors_are_read_back_per_article_after_removals(hnsw_above: int):
    index, vectors = _filled(VectorIndexConfig(hnsw_above=hnsw_above), 60)
    index.remove("a2")  # the flat index shifts its rows; HNSW marks them dead
    index.add("a7", ["新问法"], vectors[0:1])
    got = index.vectors_of(["a1", "a2", "a7", "a59", "unknown"])
    assert [len(v) for v in got] == [2, 0, 1, 2, 0]
    np.testing.assert_allclose(got[0], vectors[2:4], atol=1e-6)
    np.testing.assert_allclose(got[2], vectors[0:1], atol=1e-6)
    np.testing.assert_allclose(got[3], vectors[118:120], atol=1e-6)
    np.testing.assert_allclose(index.vectors("a59"), vectors[118:120], atol=1e-6)


def test_hnsw_keeps_answering_after_removals_force_a_rebuild():
    index, vectors = _filled(VectorIndexConfig(hnsw_above=50, max_dead_fraction=0.2), 60)
    for i in range(20):  # 40 of 120 vectors dead: past the 20 % rebuild mark
        index.remove(f"a{i}")
    assert len(index) == 80
    assert index.search(vectors[100], 1)[0].article_id == "a50"
    assert all(
        h.article_id not in {f"a{i}" for i in range(20)} for h in index.search(vectors[0], 10)
    )


def test_an_article_added_again_replaces_its_vectors():
    index, vectors = _filled(VectorIndexConfig(), 10)
    index.add("a3", ["新问法"], vectors[15:16])  # now where a7's similar question is
    assert index.texts("a3") == ["新问法"]
    assert {h.article_id for h in index.search(vectors[15], 2)} == {"a3", "a7"}


def test_saved_index_loads_with_the_same_answers(tmp_path: Path):
    index, vectors = _filled(VectorIndexConfig(hnsw_above=50), 60)
    index.remove("a1")
    index.save(tmp_path, "hash-1")
    loaded = VectorIndex.load(tmp_path, VectorIndexConfig(hnsw_above=50))
    assert loaded is not None
    again, content_hash = loaded
    assert content_hash == "hash-1"
    assert again.kind == "hnsw"
    assert again.search(vectors[40], 4) == index.search(vectors[40], 4)
    assert "a1" not in again.article_ids()


def test_an_unreadable_cache_is_ignored(tmp_path: Path):
    (tmp_path / "meta.json").write_text("{not json", encoding="utf-8")
    assert VectorIndex.load(tmp_path) is None


def test_search_leaves_the_callers_openmp_thread_count_alone():
    """A search runs faiss single-threaded (see _search_one_thread), then restores the
    calling thread's setting, so bulk adds keep their threads."""
    index, vectors = _filled(VectorIndexConfig(), 10)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        index.search(vectors[0], 1)
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)
