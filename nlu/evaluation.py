"""Evaluation harness: intent accuracy, macro F1, entity F1, emergency recall and latency of a
Parser over Rasa NLU YAML test examples. `hub eval nlu` calls run_eval."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nlu.emergency_decision import EmergencyGuardedParser
from nlu.errors import RasaUnavailable
from nlu.parser import Entity, Parser
from nlu.training_data import Example, load_training_data

if TYPE_CHECKING:  # rasa_sidecar (aiohttp, subprocesses) is imported only for backend rasa
    from nlu.rasa_sidecar import TrainingProgress

log = logging.getLogger(__name__)

EMERGENCY = "emergency_help"
RASA_EVAL_TIMEOUT_S = 30.0  # the first parse after a model load can be slow

# A hook for the caller's progress display (the hub's terminal bar); nlu/ prints nothing itself.
# It gets the examples and yields them back one by one, as it shows them done.
Progress = Callable[[Sequence[Example]], Iterable[Example]]


async def evaluate(
    parser: Parser, examples: Sequence[Example], *, progress: Progress | None = None
) -> dict[str, Any]:
    """Parse every example once, in order (`progress` sees each once). Returns the keys n,
    intent_accuracy, macro_f1, entity_f1, emergency_recall (None without emergency examples),
    p50_ms and p99_ms."""
    gold: list[str] = []
    predicted: list[str] = []
    latencies: list[float] = []
    matched = n_pred = n_gold = 0
    # The progress wrapper advances between examples, so its drawing is outside the latencies.
    for example in progress(examples) if progress else examples:
        began = time.perf_counter()
        result = await parser.parse(example.text)
        latencies.append(time.perf_counter() - began)
        gold.append(example.intent)
        predicted.append(result.intent)
        matched += count_entity_matches(example.entities, result.entities)
        n_pred += len(result.entities)
        n_gold += len(example.entities)
    emergencies = [p == EMERGENCY for g, p in zip(gold, predicted, strict=True) if g == EMERGENCY]
    ms = np.asarray(latencies) * 1000 if latencies else np.asarray([np.nan])
    return {
        "n": len(gold),
        "intent_accuracy": _ratio(
            sum(g == p for g, p in zip(gold, predicted, strict=True)), len(gold)
        ),
        "macro_f1": macro_f1(gold, predicted),
        "entity_f1": _f1(matched, n_pred, n_gold),
        "emergency_recall": _ratio(sum(emergencies), len(emergencies)) if emergencies else None,
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def count_entity_matches(gold: Sequence[Entity], predicted: Sequence[Entity]) -> int:
    """One-to-one matches: same entity type, and the same value or the same span. The span
    rule credits a right span whose value a backend canonicalised differently (住家保姆)."""
    used: set[int] = set()
    for g in gold:
        for i, p in enumerate(predicted):
            same = p.value == g.value or (p.start, p.end) == (g.start, g.end)
            if i not in used and p.entity == g.entity and same:
                used.add(i)
                break
    return len(used)


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over every label that occurs in gold or predicted."""
    labels = sorted(set(gold) | set(predicted))
    if not labels:
        return 0.0
    pairs = list(zip(gold, predicted, strict=True))
    tp = Counter(g for g, p in pairs if g == p)
    gold_n, pred_n = Counter(gold), Counter(predicted)
    return round(sum(_f1(tp[k], pred_n[k], gold_n[k]) for k in labels) / len(labels), 4)


def run_eval(
    test_file: Path,
    *,
    backend: Literal["embedded", "rasa"],
    nlu_data: Path,
    rasa_url: str | None,
    var_dir: Path | None = None,
    rasa_bin: Path | None = None,
    progress: Progress | None = None,
    on_training: TrainingProgress | None = None,
) -> dict[str, Any]:
    """Evaluate `test_file` with the embedded parser trained on `nlu_data`, or with the Rasa
    server at `rasa_url` (trained on the same data by `hub nlu rasa`). Without `rasa_url`,
    a temporary Rasa sidecar is trained (model cached under var_dir) and served for the run;
    `on_training` is shown while that model trains (see rasa_sidecar.ensure_model).
    Raises RasaUnavailable / RasaNotInstalled for backend rasa when no server can answer."""
    examples = load_training_data(test_file).examples
    if backend == "embedded":
        from nlu.embedded import EmbeddedParser

        parser = EmergencyGuardedParser(EmbeddedParser.from_file(nlu_data))
        return asyncio.run(evaluate(parser, examples, progress=progress))
    if backend == "rasa":
        if rasa_url:
            return asyncio.run(_eval_rasa(examples, rasa_url, progress))
        return asyncio.run(
            _eval_rasa_sidecar(
                examples, nlu_data, var_dir, rasa_bin, progress=progress, on_training=on_training
            )
        )
    raise ValueError(f"unknown backend {backend!r}")


async def _eval_rasa(
    examples: Sequence[Example], rasa_url: str | None, progress: Progress | None = None
) -> dict[str, Any]:
    from nlu.rasa_http import RasaHttpConfig, RasaHttpParser

    if not rasa_url:
        raise RasaUnavailable("RASA_URL is not set; start a server with `hub nlu rasa`")
    config = RasaHttpConfig(url=rasa_url, timeout_s=RASA_EVAL_TIMEOUT_S)
    async with RasaHttpParser(config) as parser:
        if not await parser.is_up():
            raise RasaUnavailable(
                f"no Rasa server answers at {rasa_url}; start one with `hub nlu rasa`"
            )
        return await evaluate(EmergencyGuardedParser(parser), examples, progress=progress)


async def _eval_rasa_sidecar(
    examples: Sequence[Example],
    nlu_data: Path,
    var_dir: Path | None,
    rasa_bin: Path | None,
    *,
    progress: Progress | None,
    on_training: TrainingProgress | None,
) -> dict[str, Any]:
    from nlu.rasa_sidecar import REPO_DIR, RasaServer, SidecarConfig, ensure_model
    from primitives.net import free_port

    config = SidecarConfig(var_dir=var_dir or REPO_DIR / "var", port=free_port())
    if rasa_bin is not None:
        config = dataclasses.replace(config, rasa_bin=rasa_bin)
    model = await ensure_model(nlu_data, config, on_training=on_training)
    async with RasaServer(model, config) as server:
        return await _eval_rasa(examples, server.url, progress)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _f1(tp: int, n_pred: int, n_gold: int) -> float:
    if n_pred == 0 and n_gold == 0:
        return 1.0
    return round(2 * tp / (n_pred + n_gold), 4) if n_pred + n_gold else 0.0
