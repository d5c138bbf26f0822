"""The fixed, calibrated numbers behind ranking and the answer/clarify/none decision.

They live in hub/data/kb/thresholds.yaml, one profile per embedder (scores of different
models are not comparable), and are only ever rewritten by kb/calibration.py from a dev
query set: nothing is tuned at run time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "hub" / "data" / "kb" / "thresholds.yaml"

# Query-level signals the abstainer weighs (kb/retriever.py::query_signals computes them).
SIGNALS = (
    "top",  # fused score of the best article
    "margin",  # best minus second best fused score
    "dense",  # dense similarity of the best article (max over its questions)
    "centroid",  # similarity to the best article's question centroid
    "lexical",  # BM25 share of the best article
    "pinyin",  # pinyin BM25 share of the best article
    "unknown_words",  # share of the query's word weight that no article contains
    "length",  # log(1 + characters of the query)
)


@dataclass(frozen=True, slots=True)
class RankWeights:
    """Fused score = a weighted sum of the per-article signals."""

    dense: float = 1.0
    centroid: float = 0.5
    lexical: float = 0.03
    pinyin: float = 0.02


@dataclass(frozen=True, slots=True)
class Abstainer:
    """Logistic model: P(the best article is the right answer) from query-level signals.
    Signals are standardised with the dev set's mean and scale before weighting."""

    intercept: float = 0.0
    weights: dict[str, float] = field(default_factory=lambda: {"top": 1.0})
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def probability(self, signals: Mapping[str, float]) -> float:
        z = self.intercept
        for name, w in self.weights.items():
            x = (signals[name] - self.mean.get(name, 0.0)) / (self.scale.get(name) or 1.0)
            z += w * x
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True, slots=True)
class Profile:
    rank: RankWeights = field(default_factory=RankWeights)
    abstainer: Abstainer = field(default_factory=Abstainer)
    answer_at: float = 0.5  # P ≥ answer_at: answer with the best article
    clarify_at: float = 0.25  # clarify_at ≤ P < answer_at: offer the top 3; below: none
    # P ≥ answer_at but the runner-up's fused score within this of the best: offer the top 3
    # (0: never). Chosen with answer_at / clarify_at on a real-phrasing dev set.
    clarify_margin: float = 0.0
    # A bare-topic query clarifies when its BM25 shares reach these (kb/decision.py).
    keyword_lexical: float = 0.4
    keyword_pinyin: float = 0.2
    note: str = ""  # where the numbers come from


def load_profile(path: Path | None, embedder_name: str) -> Profile:
    """The profile for an embedder. A missing file or embedder gives the built-in default
    (logged: decisions will be poorly calibrated until kb/calibration.py is run)."""
    path = path or DEFAULT_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        log.warning("kb.thresholds_missing", extra={"path": str(path)})
        return Profile()
    raw = (data.get("profiles") or {}).get(embedder_name)
    if raw is None:
        log.warning("kb.thresholds_no_profile", extra={"embedder": embedder_name})
        return Profile()
    return profile_from_mapping(raw)


def profile_from_mapping(raw: Mapping[str, Any]) -> Profile:
    ab = raw.get("abstainer") or {}
    return Profile(
        rank=RankWeights(**(raw.get("rank") or {})),
        abstainer=Abstainer(
            intercept=float(ab.get("intercept", 0.0)),
            weights={k: float(v) for k, v in (ab.get("weights") or {}).items()},
            mean={k: float(v) for k, v in (ab.get("mean") or {}).items()},
            scale={k: float(v) for k, v in (ab.get("scale") or {}).items()},
        ),
        answer_at=float(raw.get("answer_at", 0.5)),
        clarify_at=float(raw.get("clarify_at", 0.25)),
        clarify_margin=float(raw.get("clarify_margin", 0.0)),
        keyword_lexical=float(raw.get("keyword_lexical", 0.4)),
        keyword_pinyin=float(raw.get("keyword_pinyin", 0.2)),
        note=str(raw.get("note", "")),
    )


def write_profile(path: Path, embedder_name: str, profile: Profile) -> None:
    """Store (or replace) one embedder's profile, keeping the others."""
    data: dict[str, Any] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    profiles = data.setdefault("profiles", {})
    profiles[embedder_name] = _rounded(asdict(profile))
    header = (
        "# KB ranking weights and decision thresholds, one profile per embedder.\n"
        "# Written by `python -m kb.calibration` from a dev query set; do not edit by hand.\n"
    )
    text = yaml.safe_dump({"version": 1, "profiles": profiles}, allow_unicode=True, sort_keys=False)
    path.write_text(header + text, encoding="utf-8")


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
