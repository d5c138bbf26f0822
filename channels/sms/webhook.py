"""POST /channels/sms/webhook: inbound SMS and delivery receipts from an HTTP SMS provider.

Signed with HMAC-SHA256 over "<X-Signature-Timestamp>.<body>" (X-Signature, hex) and refused
when the timestamp is more than five minutes off. Body: {"type": "message", "message_id",
"from", "text"} or {"type": "receipt", "message_id", "status"} (SMPP stat words: DELIVRD …).
The message is stored before the 200; the provider's retries are recognised by message_id.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any

from aiohttp import web

from channels.sms.gateway import sign
from channels.sms.inbound import SmsInbox
from channels.sms.outbound import SmsOutbound
from channels.sms.pdu import Receipt
from hub.phone import InvalidPhoneNumber, PhoneNumber

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_SKEW_S = 300
RETRY_WINDOW = timedelta(days=7)


class SmsWebhook:
    def __init__(self, secret: str, inbox: SmsInbox, outbound: SmsOutbound) -> None:
        self._secret = secret
        self._inbox = inbox
        self._outbound = outbound

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _refuse(413, "body too large")
        stamp = request.headers.get("X-Signature-Timestamp", "")
        given = request.headers.get("X-Signature", "")
        if not (stamp.isdigit() and abs(time.time() - int(stamp)) <= MAX_SKEW_S):
            return _refuse(403, "missing or stale X-Signature-Timestamp")
        if not hmac.compare_digest(given.encode(), sign(self._secret, stamp, body).encode()):
            log.warning("sms.webhook_bad_signature")
            return _refuse(403, "bad signature")
        try:
            data = json.loads(body)
            kind, provider_id = _field(data, "type"), _field(data, "message_id")
        except (ValueError, TypeError) as e:
            return _refuse(400, f"bad body: {e}")
        if kind == "receipt":
            stat = _field(data, "status").upper()
            await self._outbound.on_receipt(Receipt(provider_id, stat, ""))
            return web.json_response({"ok": True})
        if kind != "message":
            return _refuse(400, "type must be message or receipt")
        try:
            phone = PhoneNumber.parse(_field(data, "from")).e164
            text = _field(data, "text")
        except (InvalidPhoneNumber, ValueError, TypeError) as e:
            return _refuse(400, f"bad message: {e}")
        await self._inbox.receive_once(phone, text, f"http:{provider_id}", RETRY_WINDOW)
        return web.json_response({"ok": True})


def _field(data: Any, name: str) -> str:
    if not isinstance(data, dict):
        raise TypeError("body must be a JSON object")
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is required")
    return value


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)
