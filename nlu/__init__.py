"""Intent and entity parsing for the hub: one Parser protocol, two backends (embedded and
Rasa over HTTP), a fallback between them, and an evaluation harness.

The value types and errors import eagerly; the backends (scikit-learn, jieba, aiohttp) load
on first use, so code that only needs the `Parser` seam stays cheap to import."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from nlu.errors import NluError, RasaNotInstalled, RasaUnavailable, TrainingDataError
from nlu.parser import Entity, IntentScore, Parser, ParseResult

if TYPE_CHECKING:
    from nlu.embedded import EmbeddedConfig, EmbeddedParser
    from nlu.fallback import FallbackParser
    from nlu.rasa_http import RasaHttpConfig, RasaHttpParser
    from nlu.training_data import Example, TrainingData, load_training_data

_LAZY = {
    "EmbeddedConfig": "nlu.embedded",
    "EmbeddedParser": "nlu.embedded",
    "FallbackParser": "nlu.fallback",
    "RasaHttpConfig": "nlu.rasa_http",
    "RasaHttpParser": "nlu.rasa_http",
    "Example": "nlu.training_data",
    "TrainingData": "nlu.training_data",
    "load_training_data": "nlu.training_data",
}

__all__ = [
    "EmbeddedConfig",
    "EmbeddedParser",
    "Entity",
    "Example",
    "FallbackParser",
    "IntentScore",
    "NluError",
    "ParseResult",
    "Parser",
    "RasaHttpConfig",
    "RasaHttpParser",
    "RasaNotInstalled",
    "RasaUnavailable",
    "TrainingData",
    "TrainingDataError",
    "load_training_data",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")
