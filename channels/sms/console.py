"""The console SMS gateway: what `hub demo` and a single machine without an SMSC or an HTTP
provider use. Each SMS is written to the log (INFO, event "sms.console", the number masked)
and reported delivered, so case notices, replies and verification codes can be followed in
the log and every SMS record reaches its final state."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from channels.sms.pdu import Receipt, segments
from primitives.ids import new_id
from primitives.phone import PhoneNumber
from primitives.tasks import BackgroundTasks

log = logging.getLogger(__name__)

ReceiptHandler = Callable[[Receipt], Awaitable[None]]


class ConsoleSmsGateway:
    def __init__(self) -> None:
        self._on_receipt: ReceiptHandler | None = None
        self._tasks = BackgroundTasks()

    def start(self, on_receipt: ReceiptHandler) -> None:
        """Report every SMS sent from now on to on_receipt as delivered."""
        self._on_receipt = on_receipt

    async def send(self, to: str, text: str) -> list[str]:
        ids = [f"console-{new_id()}" for _ in range(segments(text))]
        log.info(
            "sms.console",
            extra={"to": str(PhoneNumber(to)), "text": text, "segments": len(ids)},
        )
        if self._on_receipt is not None:
            for smsc_id in ids:  # after send returns, as an SMSC's receipt would
                self._tasks.spawn(self._on_receipt(Receipt(smsc_id, "DELIVRD", "")))
        return ids

    async def close(self) -> None:
        await self._tasks.cancel()
