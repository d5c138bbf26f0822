"""POST /channels/sms/webhook: inbound SMS and delivery receipts from an HTTP SMS provider.

Signed with HMAC-SHA256 over "<X-Signature-Timestamp>.<body>" (X-Signature, 64 hex digits)
and refused when the timestamp (Unix seconds, ASCII digits) is more than five minutes off.
Body: {"type": "message", "message_id", "from", "text"} or {"type": "receipt", "message_id",
"status"} (SMPP stat words: DELIVRD …). The message is stored before the 200; the provider's
retries are recognised by message_id. Whatever is malformed gets a 4xx with a JSON reason:
400 malformed, 403 unsigned, stale or forged, 413 too large.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from datetime import timedelta
from typing import Any

from aiohttp import web

from channels.sms.gateway import sign
from channels.sms.inbound import SmsInbox
from channels.sms.outbound import SmsOutbound
from channels.sms.pdu import Receipt
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from primitives.untrusted_json import InvalidJson, decode_object

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_SKEW_S = 300
MAX_ID = 128
RETRY_WINDOW = timedelta(days=7)
# [0-9], not \d or str.isdigit(): int() also reads "²", "١" and full-width digits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class SmsWebhook:
    def __init__(self, secret: str, inbox: SmsInbox, outbound: SmsOutbound) -> None:
        self._secret = secret
        self._inbox = inbox
        self._outbound = outbound

    async def receive(self, request: web.Request) -> web.Response:
        try:
            data = await self._verified_body(request)
            kind, provider_id = _field(data, "type"), _field(data, "message_id", MAX_ID)
            if kind == "receipt":
                stat = _field(data, "status", 16).upper()
                await self._outbound.on_receipt(Receipt(provider_id, stat, ""))
            elif kind == "message":
                phone, text = _phone(_field(data, "from", 32)), _field(data, "text")
                await self._inbox.receive_once(phone, text, f"http:{provider_id}", RETRY_WINDOW)
            else:
                raise _Refused(400, "type must be message or receipt")
        except _Refused as e:
            return web.json_response(
                {"error": _ERRORS[e.status], "reason": str(e)}, status=e.status
            )
        return web.json_response({"ok": True})

    async def _verified_body(self, request: web.Request) -> dict[str, Any]:
        too_large = f"the body is larger than {MAX_BODY} bytes"
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise _Refused(413, too_large)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise _Refused(413, too_large)
        stamp = request.headers.get("X-Signature-Timestamp")
        given = request.headers.get("X-Signature")
        if stamp is None or given is None:
            raise _Refused(403, "X-Signature-Timestamp and X-Signature are required")
        if not _TIMESTAMP.fullmatch(stamp):
            raise _Refused(400, "X-Signature-Timestamp must be Unix seconds in ASCII digits")
        if not _SIGNATURE.fullmatch(given):
            raise _Refused(400, "X-Signature must be 64 hexadecimal characters")
        if abs(time.time() - int(stamp)) > MAX_SKEW_S:
            raise _Refused(403, "X-Signature-Timestamp is more than five minutes off")
        expected = sign(self._secret, stamp, body)
        if not hmac.compare_digest(given.lower().encode("ascii"), expected.encode("ascii")):
            log.warning("sms.webhook_bad_signature")
            raise _Refused(403, "bad signature")
        try:
            return decode_object(body)
        except InvalidJson as e:
            raise _Refused(400, str(e)) from None


_ERRORS = {400: "bad_request", 403: "forbidden", 413: "too_large"}


def _field(data: dict[str, Any], name: str, max_len: int | None = None) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _Refused(400, f"{name} is required (a non-empty string)")
    if max_len is not None and len(value) > max_len:
        raise _Refused(400, f"{name} is longer than {max_len} characters")
    return value


def _phone(value: str) -> str:
    try:
        return PhoneNumber.parse(value).e164
    except InvalidPhoneNumber:
        raise _Refused(400, "from is not a phone number") from None
