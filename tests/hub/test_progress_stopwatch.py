"""The stopwatch shown while a child process works (Rasa training): quiet off a terminal; on one,
the share of the estimate and the time left, then only the elapsed time past the estimate."""

from __future__ import annotations

import io
import threading
import time

import pytest

from hub import progress
from hub.progress import stopwatch

LABEL = "训练 Rasa 模型"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal(monkeypatch: pytest.MonkeyPatch) -> Tty:
    """stderr as a terminal. Called in the test body: pytest's capture would replace a
    stderr patched in a fixture once the test starts."""
    err = Tty()
    monkeypatch.setattr(progress.sys, "stderr", err)
    monkeypatch.setattr(progress, "TICK_S", 0.05)
    return err


def _stopwatch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "stopwatch"]


def test_off_a_terminal_the_stopwatch_prints_nothing_and_starts_no_thread(capsys):
    with stopwatch(LABEL, 120.0):
        assert not _stopwatch_threads()
    assert capsys.readouterr().err == ""


def test_without_an_estimate_the_terminal_sees_the_elapsed_time(monkeypatch: pytest.MonkeyPatch):
    terminal = _terminal(monkeypatch)
    with stopwatch(LABEL, None):
        pass
    shown = terminal.getvalue()
    assert f"{LABEL}: 已用 00:00" in shown
    assert "%" not in shown
    assert not _stopwatch_threads()  # stopped with the body


def test_the_estimate_gives_a_share_and_time_left_until_it_is_overrun(
    monkeypatch: pytest.MonkeyPatch,
):
    terminal = _terminal(monkeypatch)
    with stopwatch(LABEL, 1.0):
        time.sleep(1.3)  # the estimate is one second: one tick past it
    shown = terminal.getvalue()
    assert "预计还需" in shown  # tqdm's time left, against the estimate
    assert "0%" in shown
    assert "已超出预计时间" in shown


def test_the_stopwatch_stops_when_the_body_fails(monkeypatch: pytest.MonkeyPatch):
    _terminal(monkeypatch)
    with pytest.raises(RuntimeError), stopwatch(LABEL, 60.0):
        raise RuntimeError("rasa train failed")
    assert not _stopwatch_threads()
