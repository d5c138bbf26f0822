"""The only place that turns domain errors into HTTP responses (JSON with a reason)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from routing.errors import Conflict, HubError, InvalidInput, NotAllowed, NotFound

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS: dict[type[HubError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    NotAllowed: 403,
}


def json_error(status: int, reason: str, error: str = "bad_request") -> web.Response:
    return web.json_response({"error": error, "reason": reason}, status=status)


@web.middleware
async def translate_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HubError as e:
        status = next((s for t, s in STATUS.items() if isinstance(e, t)), 400)
        return json_error(status, str(e), type(e).__name__)
    except web.HTTPException as e:
        if e.status < 400 or e.content_type == "application/json" or not _wants_json(request):
            raise
        return json_error(e.status, e.reason, e.reason.lower().replace(" ", "_"))
    except json.JSONDecodeError:
        return json_error(400, "the request body is not valid JSON", "invalid_json")
    except Exception:
        log.exception("http.unhandled", extra={"path": request.path, "method": request.method})
        return json_error(500, "internal error", "internal_error")


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/healthz", "/channels/"))
