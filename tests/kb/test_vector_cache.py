"""The vector cache on disk: a cache written by an older embedding of the same embedder name
is neither loaded nor mined for known vectors."""

from pathlib import Path

import numpy as np

from kb.build import cache_dir_for, content_hash, embed_articles, load_or_build_vectors
from kb.embedder import Embedder
from kb.indexes import vector_texts
from tests.kb.conftest import ARTICLES


def test_a_cache_from_before_the_vectors_version_is_not_reused(embedder: Embedder, tmp_path: Path):
    articles = list(ARTICLES)
    texts = [t for a in articles for t in vector_texts(a)]
    rng = np.random.default_rng(0)
    stale = {t: rng.standard_normal(embedder.dim).astype(np.float32) for t in texts}
    old = embed_articles(articles, embedder, known=stale)  # vectors the old engine "made"
    old.save(tmp_path / embedder.name, content_hash(articles, embedder))  # unversioned dir

    index = load_or_build_vectors(articles, embedder, cache_root=tmp_path)

    fresh = embedder.embed_passages(texts)
    got = np.vstack([index.vectors_by_text()[t] for t in texts])
    np.testing.assert_allclose(got, fresh, atol=1e-6)
    assert cache_dir_for(tmp_path, embedder).is_dir()  # the new cache, beside the old one
