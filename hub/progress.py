"""Progress bars with an estimate for the operator's long jobs (tqdm, on stderr).

Quiet when stderr is not a terminal (logs, CI, tests): tqdm's disable=None. The knowledge base
shows its indexing through ProgressEmbedder, a wrapper around the embedder at the hub's call
site, so kb/ stays free of any terminal code. A child process that reports nothing we can
count (Rasa training) gets a stopwatch: elapsed time against the last run's duration."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from kb.embedder import Embedder

T = TypeVar("T")
BATCH = 256  # texts embedded per step of the bar
TICK_S = 1.0  # how often the stopwatch redraws: its unit is the second
# The stopwatch's lines: tqdm's rate ("秒/s") says nothing for a clock, so it is left out.
_TIMED = "{desc}: {percentage:3.0f}%|{bar}| 已用 {elapsed}，预计还需 {remaining}"
_ELAPSED = "{desc}: 已用 {elapsed}"
_OVERRUN = "{desc}: 已用 {elapsed}，已超出预计时间"


def bar(total: int | None, desc: str, unit: str = "条", bar_format: str | None = None) -> tqdm:
    """A bar on stderr with rate and remaining time; disabled when stderr is no TTY."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=None,
        dynamic_ncols=True,
        leave=False,
        bar_format=bar_format,
    )


def track(items: Sequence[T], desc: str, unit: str = "条") -> Iterator[T]:
    """items, one by one, with a bar."""
    with bar(len(items), desc, unit) as b:
        for item in items:
            yield item
            b.update(1)


@contextmanager
def stopwatch(desc: str, estimate_s: float | None = None) -> Iterator[None]:
    """While the body runs, a bar over wall time: with an estimate (a previous run's seconds)
    the share done and the time left, without one the elapsed time only. For jobs with no
    countable steps, e.g. waiting for a child process."""
    total = max(1, round(estimate_s)) if estimate_s else None
    with bar(total, desc, "秒", _TIMED if total else _ELAPSED) as b:
        if b.disable:  # not a terminal: no thread, nothing printed
            yield
            return
        done = threading.Event()
        ticker = threading.Thread(target=_tick, args=(b, done), name="stopwatch", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()


def _tick(b: tqdm, done: threading.Event) -> None:
    """Redraw `b` every TICK_S with the whole seconds elapsed as its count."""
    began = time.monotonic()
    while not done.wait(TICK_S):
        seconds = int(time.monotonic() - began)
        if b.total is not None and seconds >= b.total:
            # Past the estimate a percentage or a time left would be wrong: show the clock.
            b.total = None
            b.bar_format = _OVERRUN
        b.n = seconds
        b.refresh()


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
