"""Any sentence-transformers model on local disk (KB_EMBEDDER=st:PATH).

Nothing is downloaded: the hub runs offline, so HF_HUB_OFFLINE is forced before the model
loads and a missing path is an error. e5-family models get their query/passage prefixes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.unit_vectors import normalize_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SentenceTransformerConfig:
    path: Path
    query_prefix: str | None = None  # None: "query: " for e5 models, "" otherwise
    passage_prefix: str | None = None  # None: "passage: " for e5 models, "" otherwise
    batch_size: int = 64
    device: str = "cpu"


class SentenceTransformerEmbedder:
    def __init__(self, config: SentenceTransformerConfig) -> None:
        if not config.path.is_dir():
            raise FileNotFoundError(f"sentence-transformers model directory {config.path}")
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the network at run time
        from sentence_transformers import SentenceTransformer

        self._config = config
        self._model = SentenceTransformer(
            str(config.path), device=config.device, local_files_only=True
        )
        is_e5 = "e5" in config.path.name.lower()
        self._query_prefix = _prefix(config.query_prefix, "query: " if is_e5 else "")
        self._passage_prefix = _prefix(config.passage_prefix, "passage: " if is_e5 else "")
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.dim: int = int(dim or self._model.encode(["x"]).shape[1])
        self.name: str = f"st:{_model_name(config.path)}"
        log.debug("kb.embedder_loaded", extra={"embedder": self.name, "dim": self.dim})

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._passage_prefix + t for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self._config.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalize_rows(vectors)


def _prefix(configured: str | None, default: str) -> str:
    return default if configured is None else configured


def _model_name(path: Path) -> str:
    """A readable, stable name: the directory, or its parent when it is a generic 'model'."""
    resolved = path.resolve()
    if resolved.name in {"model", "models", "snapshot"} and resolved.parent.name:
        return resolved.parent.name
    return resolved.name
