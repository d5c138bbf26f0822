"""The `hub` commands hand kb/ and nlu/ their progress hooks (kb/ and nlu/ print nothing)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from hub import cli
from hub.progress import ProgressEmbedder
from hub.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(hub_var_dir=tmp_path)


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "set.yml"
    path.write_text("[]\n", encoding="utf-8")
    return path


def _capture(monkeypatch: pytest.MonkeyPatch, module: str, name: str = "run_eval") -> dict:
    seen: dict[str, Any] = {}

    def fake(*args: object, **kwargs: object) -> dict[str, int]:
        seen.update(kwargs)
        return {"n": 0}

    monkeypatch.setattr(f"{module}.{name}", fake)
    return seen


def _assert_a_counting_hook(progress: Any) -> None:
    assert list(progress(["甲", "乙", "丙"])) == ["甲", "乙", "丙"]


def test_eval_kb_passes_a_progress_bar_and_the_index_wrapper(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, a_file: Path
):
    seen = _capture(monkeypatch, "kb.evaluation")
    assert cli._cmd_eval_kb(argparse.Namespace(queries=a_file, json=True), settings) == 0
    _assert_a_counting_hook(seen["progress"])
    assert seen["wrap_embedder"] is ProgressEmbedder


def test_eval_nlu_passes_a_progress_bar_and_a_training_stopwatch(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, a_file: Path
):
    seen = _capture(monkeypatch, "nlu.evaluation")
    args = argparse.Namespace(test=a_file, backend="rasa", json=True)
    assert cli._cmd_eval_nlu(args, settings) == 0
    _assert_a_counting_hook(seen["progress"])
    with seen["on_training"](90.0):  # a context for `rasa train`, given the estimate
        pass


def test_nlu_rasa_passes_a_training_stopwatch(monkeypatch: pytest.MonkeyPatch, settings: Settings):
    seen = _capture(monkeypatch, "nlu.rasa_sidecar", "main")
    cli._cmd_nlu_rasa(argparse.Namespace(), settings)
    with seen["on_training"](None):
        pass
