"""Reading untrusted JSON bodies and query values: a 4xx naming the field, never a 500."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_web.auth import refusal
from primitives.untrusted_json import InvalidJson, decode_object

MAX_BODY = 64 * 1024


async def read_json(request: web.Request, *, max_bytes: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object. 415 if not sent as JSON, 413 if too large, 400 if broken."""
    if request.content_type != "application/json":
        raise refusal(415, "unsupported_media_type", "send the body as application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise refusal(413, "too_large", f"the body is larger than {max_bytes} bytes")
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise refusal(413, "too_large", f"the body is larger than {max_bytes} bytes")
    try:
        return decode_object(raw)
    except InvalidJson as e:
        raise refusal(400, "invalid_json", str(e)) from None


def text(
    body: dict[str, Any], name: str, *, max_len: int = 2000, default: str | None = None
) -> str:
    """A string field; required unless default is given."""
    value = body.get(name)
    if value is None:
        if default is None:
            raise refusal(400, "bad_request", f"field '{name}' is required")
        return default
    if not isinstance(value, str):
        raise refusal(400, "bad_request", f"field '{name}' must be a string")
    if len(value) > max_len:
        raise refusal(400, "bad_request", f"field '{name}' is longer than {max_len} characters")
    return value


def integer(body: dict[str, Any], name: str, *, low: int, high: int, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise refusal(400, "bad_request", f"field '{name}' must be an integer {low}–{high}")
    return value


def string_list(body: dict[str, Any], name: str, *, max_items: int = 20) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or len(value) > max_items:
        raise refusal(400, "bad_request", f"field '{name}' must be a list of ≤ {max_items} strings")
    if not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value):
        raise refusal(400, "bad_request", f"field '{name}' must hold short strings")
    return value


def query_int(request: web.Request, name: str, *, low: int, high: int, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise refusal(400, "bad_request", f"query parameter {name} must be an integer") from None
    if not low <= value <= high:
        raise refusal(400, "bad_request", f"query parameter {name} must be {low}–{high}")
    return value
