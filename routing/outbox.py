"""Outbound messages that are not a synchronous reply: stored as pending, then delivered
through the channel's sender, retried with backoff, and marked sent or failed (the queue of
primitives.delivery over the message repository).

Bot replies that go back in the same HTTP response (REST channel, WeChat passive reply) do
not pass through here: they are stored once, already sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from primitives.clock import Clock
from primitives.delivery import DEFAULT_BACKOFF_S, DeliveryFailed, DeliveryQueue
from primitives.errors import NotFound
from routing.conversation_model import Conversation
from routing.messages import (
    DeliveryState,
    Direction,
    MessageRepository,
    SenderKind,
    StoredMessage,
)

__all__ = ["ChannelSender", "DeliveryFailed", "OutboundMessage", "Outbox"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    message_id: str
    conversation_id: str
    channel: str
    account: str
    to: str  # the customer's address on that channel (openid, phone, chat id, visitor id)
    text: str
    sender: SenderKind
    sender_name: str = ""
    quick_replies: tuple[str, ...] = ()
    kind: str = "text"
    meta: tuple[tuple[str, str], ...] = field(default=())


# Reasons an agent reads (zh-CN): channel senders give their own; these cover the rest.
NO_SENDER = "该渠道当前不可用，消息未能发送"
SEND_FAILED = "消息发送失败，请稍后重试或改用其他渠道联系"


def _is_chinese(reason: str) -> bool:
    """A sender's own reason is shown when it is written for people (any CJK in it)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in reason)


class ConversationLookup(Protocol):
    async def get(self, conversation_id: str) -> Conversation: ...


class ChannelSender(Protocol):
    async def send(self, message: OutboundMessage) -> None:
        """Deliver message or raise DeliveryFailed."""
        ...


FailureListener = Callable[[OutboundMessage, str], Awaitable[None]]


class _Replies:
    """The outbox's DeliveryStore: messages in the message repository, whose delivery state
    is the record; the conversation says where a resumed one goes."""

    def __init__(self, messages: MessageRepository, listeners: list[FailureListener]) -> None:
        self._messages = messages
        self._listeners = listeners
        self.conversations: ConversationLookup | None = None

    async def pending(self) -> list[OutboundMessage]:
        if self.conversations is None:
            return []
        found: list[OutboundMessage] = []
        for stored in await self._messages.pending_outbound():
            if stored.conversation_id is None:
                continue
            try:
                conv = await self.conversations.get(stored.conversation_id)
            except NotFound:  # nowhere to deliver it: say so on the message
                await self._messages.set_delivery(
                    stored.id, DeliveryState.FAILED, "conversation not found"
                )
                continue
            meta = dict(stored.meta)
            found.append(
                OutboundMessage(
                    stored.id,
                    conv.id,
                    stored.channel,
                    conv.account,
                    conv.reply_to,
                    stored.text,
                    stored.sender,
                    meta.get("sender_name", ""),
                    tuple(b for b in meta.get("quick_replies", "").split("\n") if b),
                    stored.kind,
                    stored.meta,
                )
            )
        return found

    async def mark_sent(self, out: OutboundMessage, result: None, attempts: int) -> None:
        await self._messages.set_delivery(out.message_id, DeliveryState.SENT)

    async def mark_failed(self, out: OutboundMessage, reason: str, attempts: int) -> None:
        shown = reason if _is_chinese(reason) else SEND_FAILED
        await self._messages.set_delivery(out.message_id, DeliveryState.FAILED, shown)
        for listener in self._listeners:
            try:
                await listener(out, shown)
            except Exception:  # a listener must not undo the record of the failure
                log.exception("outbox.failure_listener", extra={"msg_id": out.message_id})


class Outbox:
    def __init__(
        self,
        messages: MessageRepository,
        clock: Clock,
        *,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
    ) -> None:
        self._messages = messages
        self._clock = clock
        self._senders: dict[str, ChannelSender] = {}
        # Told of every message that failed for good (the router shows it to the agents).
        self.failure_listeners: list[FailureListener] = []
        self._store = _Replies(messages, self.failure_listeners)
        self._queue: DeliveryQueue[OutboundMessage, None] = DeliveryQueue(
            self._store,
            self._send_once,
            key=lambda out: out.message_id,
            name="outbox",
            backoff_s=backoff_s,
        )

    def register(self, channel: str, sender: ChannelSender) -> None:
        self._senders[channel] = sender

    async def send(
        self,
        conversation: Conversation,
        text: str,
        *,
        sender: SenderKind,
        sender_id: str,
        external_id: str,
        message_id: str,
        sender_name: str = "",
        quick_replies: tuple[str, ...] = (),
        meta: tuple[tuple[str, str], ...] = (),
    ) -> StoredMessage | None:
        """Store the message as pending, then deliver it in the background.

        Returns None if external_id was already stored (a retried request)."""
        channel = conversation.last_channel or conversation.channel
        stored = StoredMessage(
            id=message_id,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            channel=channel,
            external_id=external_id,
            direction=Direction.OUTBOUND,
            sender=sender,
            sender_id=sender_id,
            text=text,
            created_at=self._clock.now(),
            delivery=DeliveryState.PENDING,
            meta=meta,
        )
        if not await self._messages.add(stored):
            return None
        out = OutboundMessage(
            message_id,
            conversation.id,
            channel,
            conversation.account,
            conversation.reply_to,
            text,
            sender,
            sender_name,
            quick_replies,
            meta=meta,
        )
        self._queue.submit(out)
        return stored

    async def _send_once(self, out: OutboundMessage, attempt: int) -> None:
        sender = self._senders.get(out.channel)
        if sender is None:
            log.warning(
                "outbox.no_sender", extra={"channel": out.channel, "msg_id": out.message_id}
            )
            raise DeliveryFailed(NO_SENDER, retryable=False)
        await sender.send(out)

    def deliver(self, pending: Sequence[OutboundMessage]) -> None:
        """Deliver messages already stored as pending, in the background (a WeChat answer
        that missed the passive-reply window: stored as sent in band, then set pending)."""
        for out in pending:
            self._queue.submit(out)

    async def resume(self, conversations: ConversationLookup) -> int:
        """After a restart: deliver every message stored but never handed to its channel
        (the conversation says where to). Returns how many."""
        self._store.conversations = conversations
        resumed = await self._queue.resume()
        if resumed:
            log.info("outbox.resumed", extra={"messages": resumed})
        return resumed

    async def drain(self) -> None:
        """Wait for deliveries under way (tests, shutdown)."""
        await self._queue.drain()

    async def close(self) -> None:
        await self._queue.close()
