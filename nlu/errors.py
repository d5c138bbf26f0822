"""Errors raised by the nlu package. None of them ever reaches a citizen: the router's
FallbackParser and the CLI are the edges that handle them."""

from __future__ import annotations


class NluError(Exception):
    """Base of every nlu error."""


class TrainingDataError(NluError):
    """A training data file cannot be read at all (missing, not YAML, not a mapping)."""


class RasaUnavailable(NluError):
    """The Rasa server did not answer (down, timed out, HTTP error or malformed reply)."""


class RasaNotInstalled(NluError):
    """The Rasa sidecar venv (.venv-rasa) is missing: build it with `make rasa`."""
