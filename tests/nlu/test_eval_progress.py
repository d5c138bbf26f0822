"""`hub eval nlu` and `hub nlu rasa` show progress through hooks: every example passes the
caller's progress once, in order, and Rasa training runs inside the caller's context with the
last training's duration as its estimate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from nlu.evaluation import evaluate, run_eval
from nlu.rasa_sidecar import ensure_model, last_training_seconds, training_seconds
from nlu.training_data import Example, load_training_data
from tests.fakes.progress import Counting
from tests.nlu.conftest import SPLIT
from tests.nlu.test_evaluation import TableParser
from tests.nlu.test_rasa_sidecar import fake_config

T = TypeVar("T")
TINY = SPLIT / "tiny.yml"
TIMINGS = {"p50_ms", "p99_ms"}  # wall time: differs from run to run


class Watch:
    """A training-progress hook: the estimates it was given, and whether it was left."""

    def __init__(self) -> None:
        self.estimates: list[float | None] = []
        self.open = False

    @contextmanager
    def __call__(self, estimate_s: float | None) -> Iterator[None]:
        self.estimates.append(estimate_s)
        self.open = True
        try:
            yield
        finally:
            self.open = False


async def test_evaluate_passes_every_example_through_progress_once():
    examples = [Example("你好", "greet"), Example("救命", "emergency_help")]
    parser = TableParser({"你好": ("greet", ()), "救命": ("emergency_help", ())})
    counting = Counting()
    result = await evaluate(parser, examples, progress=counting)
    assert (counting.calls, counting.seen) == (1, examples)
    plain = await evaluate(parser, examples)
    assert {k: v for k, v in result.items() if k not in TIMINGS} == {
        k: v for k, v in plain.items() if k not in TIMINGS
    }


def test_run_eval_embedded_shows_every_test_example():
    counting = Counting()
    result = run_eval(TINY, backend="embedded", nlu_data=TINY, rasa_url=None, progress=counting)
    assert counting.seen == list(load_training_data(TINY).examples)
    assert result["n"] == len(counting.seen)


def test_run_eval_with_a_sidecar_shows_training_then_every_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    journal = tmp_path / "journal.txt"
    config = fake_config(tmp_path, journal)
    monkeypatch.setenv("FAKE_RASA_JOURNAL", str(journal))  # run_eval takes no extra_env
    counting, watch = Counting(), Watch()
    result = run_eval(
        TINY,
        backend="rasa",
        nlu_data=TINY,
        rasa_url=None,
        var_dir=config.var_dir,
        rasa_bin=config.rasa_bin,
        progress=counting,
        on_training=watch,
    )
    assert watch.estimates == [None]  # first training here: nothing to estimate from
    assert not watch.open
    assert counting.seen == list(load_training_data(TINY).examples)
    assert result["n"] == len(counting.seen)


async def test_training_runs_inside_the_hook_with_the_last_duration_as_estimate(tmp_path: Path):
    config = fake_config(tmp_path, tmp_path / "journal.txt")
    watch = Watch()
    assert last_training_seconds(config) is None
    first = await ensure_model(TINY, config, on_training=watch)
    assert await ensure_model(TINY, config, on_training=watch) == first  # cached: no training
    assert watch.estimates == [None]
    await ensure_model(SPLIT / "train.yml", config, on_training=watch)  # other data: trains
    assert watch.estimates == [None, training_seconds(first)]
    assert not watch.open
