"""JSON-lines logging, set up once at start, with phone numbers masked on the way out.

(Named logs.py, not logging.py: hub/dbserver.py runs as a script, and a hub/logging.py
would shadow the standard library module there.)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from primitives.phone import mask_digits

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_WORDS = ("password", "secret", "token", "aes_key", "api_key")


class MaskingFilter(logging.Filter):
    """Mask phone numbers that slipped into messages or extra fields; drop secret fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_digits(record.msg)
        if record.args:
            record.args = (
                tuple(_mask(a) for a in record.args)
                if isinstance(record.args, tuple)
                else record.args
            )
        for key, value in list(vars(record).items()):
            if key in _STANDARD:
                continue
            if any(w in key.lower() for w in _SECRET_WORDS):
                setattr(record, key, "***")
            else:
                setattr(record, key, _mask(value))
        return True


def _mask(value: Any) -> Any:
    return mask_digits(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, (int, float, bool, type(None))) else str(value)
                )
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "jieba", "pymongo", "motor"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
