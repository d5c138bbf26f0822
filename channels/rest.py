"""The REST integration channel (like Rasa's REST channel).

POST /api/v1/channels/rest/messages   {"sender_id", "text", ["message_id"], ["name"]}
  → 200 {"conversation_id", "state", "message_id", "duplicate", "replies": [...]}
GET  /api/v1/channels/rest/messages?sender_id=…&after=<message id>
  → 200 {"messages": [...]}: what agents and the system sent since `after`.

A client that sends its own message_id gets retries deduplicated (same answer, stored once);
message ids are scoped to their sender, so two senders' ids never collide.

Access: with HUB_REST_TOKEN set, every request needs `Authorization: Bearer <token>` (401
otherwise). Without a token the channel is open only while the hub listens on a loopback
address (HUB_HOST 127.0.0.1, ::1, localhost); on any other address it answers 403
`token_required` until a token is configured, whoever asks.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from agent_web.keys import CUSTOMERS, MESSAGES, ROUTER
from primitives.ids import new_id
from primitives.untrusted_json import InvalidJson, decode_object
from routing.conversation_model import ConversationState
from routing.customers import Identity, IdentityKind
from routing.messages import Direction, InboundMessage, StoredMessage
from routing.turns import InboundResult

CHANNEL = "rest"
PATH = "/api/v1/channels/rest/messages"
_SENDER = re.compile(r"^[A-Za-z0-9_.@:\-]{1,128}$")
_MAX_BODY = 64 * 1024
# The API's public states; internal steps map onto the nearest one.
_PUBLIC_STATE = {
    ConversationState.BOT: "bot",
    ConversationState.QUEUED: "queued",
    ConversationState.OFFERED: "queued",
    ConversationState.ASSIGNED: "assigned",
    ConversationState.WRAP_UP: "assigned",
    ConversationState.CLOSED: "closed",
}


@dataclass(frozen=True, slots=True)
class RestConfig:
    """HUB_REST_TOKEN and HUB_HOST, as the channel uses them."""

    token: str = field(default="", repr=False)  # "": no token (open only on a loopback host)
    host: str = "127.0.0.1"  # the address the hub listens on


CONFIG = web.AppKey("rest_config", RestConfig)


class RestPollingSender:
    """Agent and system messages wait in the database until the client polls for them."""

    async def send(self, message: object) -> None:
        return None


def _bad(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=_json({"error": "bad_request", "reason": reason}), content_type="application/json"
    )


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def _check_token(request: web.Request) -> None:
    config = request.app[CONFIG]
    token = config.token
    if not token:
        if _is_loopback(config.host):
            return
        raise _refuse(
            web.HTTPForbidden,
            "token_required",
            "the REST channel is closed: set HUB_REST_TOKEN (a bearer token) "
            "when HUB_HOST is not a loopback address",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Header values arrive surrogate-escaped when they are not UTF-8: compare their bytes.
    given_bytes = given.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given_bytes, token.encode()):
        raise _refuse(web.HTTPUnauthorized, "unauthorized", "a valid bearer token is required")


def _is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _refuse(kind: type[web.HTTPException], error: str, reason: str) -> web.HTTPException:
    return kind(text=_json({"error": error, "reason": reason}), content_type="application/json")


async def _read_json(request: web.Request) -> dict[str, Any]:
    too_large = f"the body is larger than {_MAX_BODY} bytes"
    if request.content_length is not None and request.content_length > _MAX_BODY:
        raise _too_large(too_large)
    raw = await request.content.read(_MAX_BODY + 1)
    if len(raw) > _MAX_BODY:
        raise _too_large(too_large)
    try:
        return decode_object(raw)
    except InvalidJson as e:
        raise _bad(str(e)) from None


def _too_large(reason: str) -> web.HTTPException:
    return web.HTTPRequestEntityTooLarge(
        max_size=_MAX_BODY,
        actual_size=0,
        text=_json({"error": "too_large", "reason": reason}),
        content_type="application/json",
    )


def _field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _bad(f"field '{name}' is required")
        return None
    if not isinstance(value, str):
        raise _bad(f"field '{name}' must be a string")
    return value


async def post_message(request: web.Request) -> web.Response:
    _check_token(request)
    router = request.app[ROUTER]
    body = await _read_json(request)
    sender_id = _field(body, "sender_id")
    text = _field(body, "text")
    message_id = _field(body, "message_id", required=False)
    name = _field(body, "name", required=False) or ""
    assert sender_id is not None
    assert text is not None
    if not _SENDER.match(sender_id):
        raise _bad("sender_id must be 1–128 characters of letters, digits and _.@:-")
    text = text.strip()
    if not text:
        raise _bad("field 'text' is empty")
    limit = router.max_text_chars
    if len(text) > limit:
        raise _bad(f"field 'text' is longer than {limit} characters")
    if message_id is not None and not _SENDER.match(message_id):
        raise _bad("message_id must be 1–128 characters of letters, digits and _.@:-")
    msg = InboundMessage(
        channel=CHANNEL,
        account="api",
        # Scoped to the sender ("/" is no character of a sender id), so one sender's ids
        # never meet another's. Without a client message id a retry cannot be recognised:
        # each POST is new.
        provider_id=f"{sender_id}/{message_id or 'auto-' + new_id()}",
        identity=Identity(IdentityKind.REST, sender_id),
        text=text,
        received_at=datetime.now(UTC),
        display_name=name[:64],
    )
    result = await router.handle_inbound(msg)
    return web.json_response(_result_json(result), dumps=_json)


def _result_json(result: InboundResult) -> dict[str, Any]:
    return {
        "conversation_id": result.conversation_id,
        "state": _PUBLIC_STATE[result.state],
        "message_id": result.message_id,
        "duplicate": result.duplicate,
        "replies": [
            {
                "id": r.message_id,
                "text": r.text,
                "intent": r.intent,
                "kb_article_id": r.kb_article_id,
                "quick_replies": list(r.quick_replies),
            }
            for r in result.replies
        ],
    }


async def get_messages(request: web.Request) -> web.Response:
    _check_token(request)
    sender_id = request.query.get("sender_id", "")
    after = request.query.get("after") or None
    if not _SENDER.match(sender_id):
        raise _bad(
            "query parameter sender_id is required (1–128 characters of letters, digits and _.@:-)"
        )
    if after is not None and not re.fullmatch(r"[0-9a-f]{24}", after):
        raise _bad("query parameter after must be a message id")
    identity = Identity(IdentityKind.REST, sender_id)
    customer = await request.app[CUSTOMERS].find_by_identity(identity)
    if customer is None:
        return web.json_response({"messages": []})
    messages = await request.app[MESSAGES].list_for_customer(customer.id, after=after, limit=200)
    shown = [m for m in messages if m.direction is Direction.OUTBOUND and m.channel != "internal"]
    return web.json_response({"messages": [_message_json(m) for m in shown]}, dumps=_json)


def _message_json(m: StoredMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "text": m.text,
        "sender": m.sender.value,
        "created_at": m.created_at.isoformat(),
    }


def add_routes(app: web.Application, config: RestConfig) -> None:
    app[CONFIG] = config
    app.router.add_post(PATH, post_message)
    app.router.add_get(PATH, get_messages)
