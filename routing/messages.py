"""Messages as every channel hands them to the router, and as they are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from routing.customers import Identity


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class SenderKind(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class DeliveryState(StrEnum):
    RECEIVED = "received"  # inbound, stored
    PENDING = "pending"  # outbound, stored, not yet handed to the provider
    SENT = "sent"  # accepted by the provider / written to the socket
    DELIVERED = "delivered"  # provider receipt (SMS DELIVRD, …)
    FAILED = "failed"  # gave up after retries


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # image, file, voice, location, link
    url: str = ""  # where the hub stored it (never served inline as HTML)
    mime: str = ""
    size: int = 0
    name: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a citizen, as a channel adapter decoded and verified it."""

    channel: str  # wechat, sms, webchat, telegram, voice, rest
    account: str  # which official account / short code / bot / site received it
    provider_id: str  # the provider's own id: WeChat MsgId, SMPP message_id, update_id …
    identity: Identity
    text: str
    received_at: datetime
    kind: str = "text"  # text, image, voice, location, link, event, file
    attachments: tuple[Attachment, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    display_name: str = ""

    @property
    def external_id(self) -> str:
        """Unique per channel: the same provider message always maps to the same id."""
        return f"{self.account}:{self.provider_id}"

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: str
    conversation_id: str | None
    customer_id: str | None
    channel: str
    external_id: str
    direction: Direction
    sender: SenderKind
    sender_id: str
    text: str
    created_at: datetime
    kind: str = "text"
    delivery: DeliveryState = DeliveryState.RECEIVED
    attachments: tuple[Attachment, ...] = ()
    meta: tuple[tuple[str, str], ...] = field(default=())
    error: str = ""


class MessageRepository(Protocol):
    async def add(self, msg: StoredMessage) -> bool:
        """Store msg. False when (channel, external_id) was already stored (a retry)."""
        ...

    async def find_by_external(self, channel: str, external_id: str) -> StoredMessage | None: ...

    async def list_for_conversation(
        self, conversation_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[StoredMessage]: ...

    async def find_many(self, channel: str, external_ids: list[str]) -> list[StoredMessage]: ...

    async def set_delivery(
        self, message_id: str, state: DeliveryState, error: str = ""
    ) -> None: ...

    async def recent_inbound(self, since: datetime, until: datetime) -> list[StoredMessage]:
        """Inbound messages received between since and until, oldest first."""
        ...

    async def latest_meta(self, conversation_id: str, key: str) -> str | None:
        """meta[key] of the conversation's newest bot message that carries it (among its
        last few messages), or None."""
        ...

    async def pending_outbound(self, limit: int = 1000) -> list[StoredMessage]:
        """Outbound messages stored but not yet handed to their channel."""
        ...
