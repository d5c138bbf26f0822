"""Progress bars with an estimate for the operator's long jobs (tqdm, on stderr).

Quiet when stderr is not a terminal (logs, CI, tests): tqdm's disable=None. The knowledge base
shows its indexing through ProgressEmbedder, a wrapper around the embedder at the hub's call
site, so kb/ stays free of any terminal code."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from kb.embedder import Embedder

T = TypeVar("T")
BATCH = 256  # texts embedded per step of the bar


def bar(total: int | None, desc: str, unit: str = "条") -> tqdm:
    """A bar on stderr with rate and remaining time; disabled when stderr is no TTY."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=None,
        dynamic_ncols=True,
        leave=False,
    )


def track(items: Sequence[T], desc: str, unit: str = "条") -> Iterator[T]:
    """items, one by one, with a bar."""
    with bar(len(items), desc, unit) as b:
        for item in items:
            yield item
            b.update(1)


class ProgressEmbedder:
    """An Embedder that shows embedding passages (building the KB index) as a bar; the same
    name and dimension, so the vector cache and thresholds are those of the wrapped one."""

    def __init__(self, embedder: Embedder, desc: str = "建立知识库索引") -> None:
        self._embedder = embedder
        self._desc = desc
        self.name = embedder.name
        self.dim = embedder.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) <= BATCH:
            return self._embedder.embed_passages(texts)
        parts = []
        with bar(len(texts), self._desc, "句") as b:
            for start in range(0, len(texts), BATCH):
                chunk = texts[start : start + BATCH]
                parts.append(self._embedder.embed_passages(chunk))
                b.update(len(chunk))
        return np.vstack(parts)

    def __getattr__(self, name: str) -> object:
        return getattr(self._embedder, name)
