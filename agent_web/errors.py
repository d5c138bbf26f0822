"""The only place that turns domain errors into HTTP responses (JSON with a reason)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

# pymongo's "no server answered" family: ServerSelectionTimeoutError, AutoReconnect and
# NetworkTimeout all derive from ConnectionFailure. Other pymongo errors are bugs (a 500).
from pymongo.errors import ConnectionFailure

from agent_web.login_guard import LoginThrottled
from primitives.errors import Conflict, HubError, InvalidInput, NotAllowed, NotFound

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS: dict[type[HubError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    NotAllowed: 403,
    LoginThrottled: 429,
}

DATABASE_DOWN = "数据库暂时不可用，请稍后重试"
DATABASE_RETRY_AFTER_S = 5


def json_error(status: int, reason: str, error: str = "bad_request") -> web.Response:
    return web.json_response({"error": error, "reason": reason}, status=status)


def database_unavailable() -> web.Response:
    """503 while the database does not answer; the browser (or a provider) retries later."""
    response = json_error(503, DATABASE_DOWN, "database_unavailable")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


@web.middleware
async def translate_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HubError as e:
        return _domain_error(e)
    except web.HTTPException as e:
        if e.status < 400 or e.content_type == "application/json" or not _wants_json(request):
            raise
        return json_error(e.status, e.reason, e.reason.lower().replace(" ", "_"))
    except json.JSONDecodeError:
        return json_error(400, "the request body is not valid JSON", "invalid_json")
    except ConnectionFailure as e:
        log.warning(
            "http.database_unavailable",
            extra={"path": request.path, "method": request.method, "error": type(e).__name__},
        )
        return database_unavailable()
    except Exception:
        log.exception("http.unhandled", extra={"path": request.path, "method": request.method})
        return json_error(500, "internal error", "internal_error")


def _domain_error(e: HubError) -> web.Response:
    status = next((s for t, s in STATUS.items() if isinstance(e, t)), 400)
    response = json_error(status, str(e), type(e).__name__)
    if isinstance(e, LoginThrottled):
        response.headers["Retry-After"] = str(e.retry_after_s)
    return response


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/healthz", "/channels/"))
