"""Progress of the operator's long jobs: the same results, a bar only on a terminal."""

from __future__ import annotations

import io

import numpy as np
import pytest

from hub import progress
from hub.progress import BATCH, ProgressEmbedder, track


class CountingEmbedder:
    name = "counting"
    dim = 2

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_queries(self, texts):
        return self.embed_passages(texts)

    def embed_passages(self, texts):
        self.calls.append(len(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_the_progress_embedder_embeds_in_batches_with_the_same_result(capsys):
    inner = CountingEmbedder()
    texts = [f"问题{i}" * (i % 3 + 1) for i in range(BATCH * 2 + 7)]
    wrapped = ProgressEmbedder(inner)
    assert (wrapped.name, wrapped.dim) == ("counting", 2)  # the same cache and thresholds
    got = wrapped.embed_passages(texts)
    assert inner.calls == [BATCH, BATCH, 7]
    np.testing.assert_array_equal(got, CountingEmbedder().embed_passages(texts))
    assert capsys.readouterr().err == ""  # not a terminal: quiet


def test_a_terminal_sees_the_bar_with_an_estimate(monkeypatch: pytest.MonkeyPatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(progress.sys, "stderr", err)
    assert list(track(list(range(5)), "导入知识库", "篇")) == [0, 1, 2, 3, 4]
    shown = err.getvalue()
    assert "导入知识库" in shown
    assert "0/5" in shown  # the count
    assert "篇/s" in shown  # the rate (and the time left)
