"""Every database command's duration, as the driver measures it (pymongo command monitoring),
handed to whoever wants it (the /metrics histogram). The callback is set after the client is
made, so a client made before the metrics exist is timed too. Runs in the driver's threads:
the callback must be thread-safe (prometheus_client's are)."""

from __future__ import annotations

from collections.abc import Callable

from pymongo import monitoring

Observe = Callable[[str, float], None]


def _ignore(command: str, seconds: float) -> None:
    return None


class CommandTimer(monitoring.CommandListener):
    def __init__(self) -> None:
        self.observe: Observe = _ignore

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        return None

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.observe(event.command_name, event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.observe(event.command_name, event.duration_micros / 1e6)
