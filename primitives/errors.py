"""The bases of every domain error. They know nothing about HTTP: agent_web/errors.py maps
them to status codes."""

from __future__ import annotations


class HubError(Exception):
    """Base of every domain error."""


class NotFound(HubError):
    """Base of the 'no such thing' errors (404 at the HTTP edge)."""


class Conflict(HubError):
    """Base of the 'the state of the world refuses this' errors (409 at the HTTP edge)."""


class InvalidInput(HubError):
    """Input that is well-formed but not acceptable (400 at the HTTP edge)."""


class StaleWrite(Conflict):
    """An optimistic-concurrency write based on an outdated version."""

    def __init__(self, what: str, expected_version: int) -> None:
        super().__init__(
            f"{what} was changed by someone else (expected version {expected_version})"
        )
        self.expected_version = expected_version


class NotAllowed(HubError):
    """The actor may not do this (403 at the HTTP edge)."""
