"""Untrusted JSON from a webhook or an integration, decoded so that anything malformed is a
clear refusal (InvalidJson), never an exception from deep inside a handler or the database."""

from __future__ import annotations

import json
from typing import Any


class InvalidJson(ValueError):
    """The body is not a JSON object we can store; str() is the reason for the sender."""


def decode_object(raw: bytes | str) -> dict[str, Any]:
    """raw (bytes: strict UTF-8) as a JSON object. Raises InvalidJson."""
    body = decode(raw)
    if not isinstance(body, dict):
        raise InvalidJson("the body must be a JSON object")
    return body


def decode(raw: bytes | str) -> Any:
    """raw (bytes: strict UTF-8) as any JSON value whose strings are all valid Unicode.
    Raises InvalidJson."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text)
    except RecursionError:  # the C scanner recurses once per [ or {
        raise InvalidJson("the body is nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidJson("the body is not valid JSON") from None
    if _has_lone_surrogate(value):
        # "\ud800" is valid JSON but no valid UTF-8: storing it would fail in the driver.
        raise InvalidJson("the body holds a lone surrogate (\\ud800-\\udfff) in a string")
    return value


def _has_lone_surrogate(value: object) -> bool:
    pending = [value]  # iterative: the document may be as deep as the parser allowed
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
