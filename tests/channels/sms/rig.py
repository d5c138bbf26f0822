"""What the SMS channel tests share: the hub bound to the SMSC emulator, numbers, and signed
webhook requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.sms.gateway import sign
from channels.sms.pdu import Receipt
from mongo.client import Database
from primitives.tasks import BackgroundTasks
from tests.agent_web.conftest import Hub
from tests.emulators.smsc import SmscEmulator

CITIZEN = "+8613812345678"
CITIZEN_SMPP = "8613812345678"
DEPT_PHONE = "+8613900001111"
WEBHOOK_SECRET = "webhook-secret-123"
WEBHOOK = "/channels/sms/webhook"


@dataclass
class Rig:
    smsc: SmscEmulator
    hub: Hub
    db: Database

    @property
    def app(self) -> Any:
        return self.hub.app

    async def inbound(self) -> list[dict[str, Any]]:
        cursor = self.db["messages"].find({"channel": "sms", "direction": "in"})
        return [d async for d in cursor.sort("_id", 1)]

    async def sms_for_case(self, number: str) -> list[dict[str, Any]]:
        return [d async for d in self.db["sms_outbound"].find({"case_number": number})]

    async def sms(self, sms_id: str) -> dict[str, Any]:
        return await self.db["sms_outbound"].find_one({"_id": sms_id})


def async_value(fn: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def check() -> Any:
        return fn()

    return check


async def is_(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


def signed(body: str, *, secret: str = WEBHOOK_SECRET, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp or str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Signature-Timestamp": stamp,
        "X-Signature": sign(secret, stamp, body.encode()),
    }


async def raw_post(port: int, path: str, headers: bytes, body: bytes) -> tuple[int, bytes]:
    """POST with header bytes as given (aiohttp's client only sends valid UTF-8 headers);
    returns (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n"
            + headers
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


class FakeSmsGateway:
    """The SmsGateway protocol handing out ids m1, m2 … (restart_ids(): from m1 again, as an
    SMSC after a restart). With receipt_during_send set, a receipt for the id being handed
    out is delivered to that handler while the submit is still in flight."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.receipt_during_send: tuple[Callable[[Receipt], Awaitable[None]], str] | None = None
        self._next = 0
        self._tasks = BackgroundTasks()

    def restart_ids(self) -> None:
        self._next = 0

    async def send(self, to: str, text: str) -> list[str]:
        self._next += 1
        smsc_id = f"m{self._next}"
        self.sent.append((to, text))
        if self.receipt_during_send is not None:
            handler, stat = self.receipt_during_send
            self._tasks.spawn(handler(Receipt(smsc_id, stat, "")))
            await asyncio.sleep(0)  # the receipt is handled before the submit returns
        return [smsc_id]

    async def close(self) -> None:
        await self._tasks.drain()
