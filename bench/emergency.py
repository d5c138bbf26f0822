"""The emergency decision (nlu/emergency_decision.py): recall and false-alarm rate, one table.

    .venv/bin/python -m bench.emergency            # dev and held-out, kept in bench/RESULTS.md
    .venv/bin/python -m bench.emergency --sweep    # model thresholds, on the dev set only

The embedded parser trains on what the hub trains on (hub/data/nlu). Each file mixes present
emergencies (intent emergency_help) with ordinary sentences that use risky words (every other
intent): recall is over the first, the false-alarm rate over the second. emergency_dev.yml is
what the decision was tuned on; emergency_heldout.yml was written afterwards and run once.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from bench.results import markdown_table, update_section
from nlu.embedded import EmbeddedParser
from nlu.emergency_decision import EMERGENCY, EmergencyConfig, EmergencyDecision
from nlu.training_data import Example, load_training_data

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "nlu"
SHIPPED = REPO / "hub" / "data" / "nlu"
SETS = {
    "dev (tuned on)": DATA / "emergency_dev.yml",
    "held-out (looked at since: one idiom, missing-elder training sentences)": DATA
    / "emergency_heldout.yml",
    "held-out 2 (first run at 6160e72: recall 0.93, 1/60 false alarms; looked at since)": DATA
    / "emergency_heldout2.yml",
}
HEADERS = [
    "decision", "set", "emergencies", "recall", "ordinary", "false alarms",
    "false-alarm rate", "p50 ms (parse + decision)",
]  # fmt: skip


def score(
    parser: EmbeddedParser, decision: EmergencyDecision | None, examples: tuple[Example, ...]
) -> dict[str, Any]:
    """decision None: the model alone (emergency_help on top)."""
    hits = alarms = n_em = 0
    latencies: list[float] = []
    misses: list[str] = []
    false: list[str] = []
    for e in examples:
        began = time.perf_counter()
        parsed = parser.parse_blocking(e.text)
        if decision is not None:
            parsed = decision.apply(parsed)
        latencies.append(time.perf_counter() - began)
        fired = parsed.intent == EMERGENCY
        if e.intent == EMERGENCY:
            n_em += 1
            hits += fired
            if not fired:
                misses.append(e.text)
        elif fired:
            alarms += 1
            false.append(e.text)
    latencies.sort()
    n_ord = len(examples) - n_em
    return {
        "emergencies": n_em,
        "recall": round(hits / n_em, 3) if n_em else None,
        "ordinary": n_ord,
        "false_alarms": alarms,
        "false_alarm_rate": round(alarms / n_ord, 3) if n_ord else None,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3) if latencies else None,
        "misses": misses,
        "false": false,
    }


def main() -> None:
    args = _parse_args()
    logging.basicConfig(level=logging.WARNING)
    parser = EmbeddedParser.from_file(SHIPPED, cache_dir=REPO / "var" / "nlu-cache")
    parser.parse_blocking("预热")
    if args.sweep:
        _sweep(parser)
        return
    variants = {
        "model alone (emergency_help on top)": None,
        "decision (model ≥ 0.5 + lexicon, framed)": EmergencyDecision(),
    }
    rows, details = [], []
    for set_name, path in SETS.items():
        if not path.exists():
            continue
        examples = load_training_data(path).examples
        for name, decision in variants.items():
            r = score(parser, decision, examples)
            counts = [r["emergencies"], r["recall"], r["ordinary"], r["false_alarms"]]
            rows.append([name, set_name, *counts, r["false_alarm_rate"], r["p50_ms"]])
            if decision is not None:
                details.append(f"- {set_name}: missed {r['misses'] or 'none'}")
                details.append(f"- {set_name}: false alarms {r['false'] or 'none'}")
    table = markdown_table(HEADERS, rows)
    print(table)
    print("\n".join(details))
    if not args.no_save:
        update_section(
            "emergency", "Emergency decision (bench/emergency.py)", _notes(table, details)
        )


def _sweep(parser: EmbeddedParser) -> None:
    examples = load_training_data(SETS["dev (tuned on)"]).examples
    rows = []
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        decision = EmergencyDecision(
            dataclasses.replace(EmergencyConfig(), model_threshold=threshold)
        )
        r = score(parser, decision, examples)
        rows.append(
            [threshold, r["recall"], r["false_alarm_rate"], len(r["misses"]), len(r["false"])]
        )
    print(
        markdown_table(["model threshold", "recall", "false-alarm rate", "missed", "false"], rows)
    )


def _notes(table: str, details: list[str]) -> str:
    return f"""The embedded parser trained on `hub/data/nlu` (what the hub ships), then the one
emergency decision that runs after either backend (`nlu/emergency_decision.py`: the backend's
emergency_help score from 0.5, or a small reviewed lexicon of present situations, both voided by
a past / hypothetical / negated / habitual / reported / administrative frame or a figure of
speech). `emergency_dev.yml` (64 emergencies, half of them indirect elderly ones, + 99 ordinary
sentences with risky words) is what the threshold, the lexicon, the frames and the extra training
sentences were chosen on: its figures are optimistic. `emergency_heldout.yml` (40 + 40) was
written after all of that and never tuned on; its first run had three more training sentences,
removed afterwards only because a test found them near copies of older hold-outs (the decision
did not change): the rows below are the data as shipped, misses and false alarms as they came.
Since then (2026-12-05) one change was informed by it: training sentences added for other
sets moved 今天热得要死 over the model threshold, and the figure-of-speech forms X得要命 were
widened to X得要死 (the same idiom); the held-out is no longer strictly unseen.
`emergency_heldout2.yml` (60 + 60, a third of it regional speech; the ordinary half is
lasting conditions of relatives, past events, how-to questions, figures of speech, damaged
things, weather and negated danger) was written blind after the lasting-condition frame, the
8-character floor for the model alone and the lasting-condition training sentences, and run
once at 6160e72: recall 0.93 (56/60), false alarms 1/60 (a smashed parcel, "人倒没事");
model alone 0.98 and 8/60. Its misses were two indirect emergencies the model scored low,
one that the habitual frame voided (平时天天出来买菜，这都第四天了没见人) and one that the
new lasting frame voided (残疾大哥好几天没出门了). Since then, days without a sign of life
(N天没见/没出门/没接) reopen the lasting and habitual frames and 人倒没事 reads as resolved:
its rows below are no longer unseen.
"model alone" is the same parser with no decision (emergency_help on top), for comparison.
Latency is wall time on a shared machine (parse + decision, per sentence).

{table}

{chr(10).join(details)}"""


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="model thresholds on the dev set")
    parser.add_argument("--no-save", action="store_true", help="print only")
    return parser.parse_args()


if __name__ == "__main__":
    main()
