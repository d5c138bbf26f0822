"""A channel sender that records what would have gone out, and can be told to fail."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from routing.outbox import DeliveryFailed, OutboundMessage


@dataclass
class RecordingSender:
    sent: list[OutboundMessage] = field(default_factory=list)
    fail_next: int = 0
    permanent: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: OutboundMessage) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise DeliveryFailed("provider said no", retryable=not self.permanent)
        self.sent.append(message)
        self.arrived.set()

    def texts(self) -> list[str]:
        return [m.text for m in self.sent]
