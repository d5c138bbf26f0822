"""The SMS gateway interface and its two implementations: SMPP 3.4 (the carrier's SMSC) and
an HTTP provider (a JSON API with a signed webhook for inbound; a skeleton to fit to a
provider's documented fields)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Protocol

import aiohttp

from channels.sms.smpp_client import SmppClient, SmppError
from primitives.delivery import DeliveryFailed


class GatewayError(DeliveryFailed):
    """The provider did not take the SMS (reason, retryable: see DeliveryFailed)."""


class SmsGateway(Protocol):
    async def send(self, to: str, text: str) -> list[str]:
        """Submit text to the E.164 number to; the provider's id of every segment.
        Raises GatewayError."""
        ...

    async def close(self) -> None: ...


class SmppGateway:
    def __init__(self, client: SmppClient) -> None:
        self.client = client

    async def send(self, to: str, text: str) -> list[str]:
        try:
            return await self.client.submit(to, text)
        except SmppError as e:
            raise GatewayError(str(e), retryable=e.retryable) from e

    async def close(self) -> None:
        await self.client.close()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: how webhooks and requests are signed."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return mac.hexdigest()


class HttpSmsGateway:
    """POST {"to", "text", "sender"} to the provider's URL, signed like our webhook
    (X-Signature-Timestamp / X-Signature); expects {"message_ids": [...]}."""

    def __init__(self, url: str, secret: str, sender: str, *, timeout_s: float = 10) -> None:
        self._url = url
        self._secret = secret
        self._sender = sender
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))

    async def send(self, to: str, text: str) -> list[str]:
        body = json.dumps({"to": to, "text": text, "sender": self._sender}).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Signature-Timestamp": stamp,
            "X-Signature": sign(self._secret, stamp, body),
        }
        try:
            async with self._session.post(self._url, data=body, headers=headers) as resp:
                if resp.status >= 500 or resp.status == 429:
                    raise GatewayError(f"provider HTTP {resp.status}")
                if resp.status >= 400:
                    raise GatewayError(f"provider refused: HTTP {resp.status}", retryable=False)
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise GatewayError(f"provider unreachable: {type(e).__name__}") from e
        ids = data.get("message_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list):
            raise GatewayError("provider reply has no message_ids", retryable=False)
        return [str(i) for i in ids]

    async def close(self) -> None:
        await self._session.close()
