"""Outbound messages that are not a synchronous reply: stored as pending, then delivered
through the channel's sender, retried with backoff, and marked sent or failed.

Bot replies that go back in the same HTTP response (REST channel, WeChat passive reply) do
not pass through here: they are stored once, already sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from primitives.clock import Clock
from primitives.errors import NotFound
from primitives.tasks import BackgroundTasks
from routing.conversation_model import Conversation
from routing.messages import (
    DeliveryState,
    Direction,
    MessageRepository,
    SenderKind,
    StoredMessage,
)

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


class DeliveryFailed(Exception):
    """A send that did not go through. retryable=False: retrying cannot help (e.g. WeChat's
    48-hour window has closed); the message is marked failed at once."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class ConversationLookup(Protocol):
    async def get(self, conversation_id: str) -> Conversation: ...


class ChannelSender(Protocol):
    async def send(self, message: OutboundMessage) -> None:
        """Deliver message or raise DeliveryFailed."""
        ...


class Outbox:
    def __init__(
        self,
        messages: MessageRepository,
        clock: Clock,
        *,
        backoff_s: Sequence[float] = (1, 2, 5, 15, 60),
    ) -> None:
        self._messages = messages
        self._clock = clock
        self._backoff = tuple(backoff_s)
        self._senders: dict[str, ChannelSender] = {}
        self._tasks = BackgroundTasks()
        # Told of every message that failed for good (the router shows it to the agents).
        self.failure_listeners: list[Callable[[OutboundMessage, str], Awaitable[None]]] = []

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
        self._spawn(out)
        return stored

    def _spawn(self, out: OutboundMessage) -> None:
        self._tasks.spawn(self._deliver(out))

    async def _deliver(self, out: OutboundMessage) -> None:
        sender = self._senders.get(out.channel)
        if sender is None:
            log.warning(
                "outbox.no_sender", extra={"channel": out.channel, "msg_id": out.message_id}
            )
            await self._failed(out, NO_SENDER)
            return
        error = ""
        for attempt, delay in enumerate((0.0, *self._backoff)):
            if delay:
                await asyncio.sleep(delay)
            try:
                await sender.send(out)
            except DeliveryFailed as e:
                error = str(e)
                log.info(
                    "outbox.retry",
                    extra={"msg_id": out.message_id, "attempt": attempt + 1, "reason": error},
                )
                if not e.retryable:
                    break
                continue
            except Exception as e:  # a sender bug must not lose the message silently
                error = f"{type(e).__name__}: {e}"
                log.exception("outbox.sender_error", extra={"msg_id": out.message_id})
                continue
            await self._messages.set_delivery(out.message_id, DeliveryState.SENT)
            return
        log.warning("outbox.failed", extra={"msg_id": out.message_id, "channel": out.channel})
        await self._failed(out, error if _is_chinese(error) else SEND_FAILED)

    async def _failed(self, out: OutboundMessage, reason: str) -> None:
        await self._messages.set_delivery(out.message_id, DeliveryState.FAILED, reason)
        for listener in self.failure_listeners:
            try:
                await listener(out, reason)
            except Exception:  # a listener must not undo the record of the failure
                log.exception("outbox.failure_listener", extra={"msg_id": out.message_id})

    def deliver(self, pending: Sequence[OutboundMessage]) -> None:
        """Deliver messages already stored as pending, in the background (a WeChat answer
        that missed the passive-reply window: stored as sent in band, then set pending)."""
        for out in pending:
            self._spawn(out)

    async def resume(self, conversations: ConversationLookup) -> int:
        """After a restart: deliver what was stored but never handed to its channel (the
        conversation says where to). Returns how many."""
        pending = await self._messages.pending_outbound()
        for stored in pending:
            if stored.conversation_id is None:
                continue
            try:
                conv = await conversations.get(stored.conversation_id)
            except NotFound:  # nowhere to deliver it: say so on the message
                await self._messages.set_delivery(
                    stored.id, DeliveryState.FAILED, "conversation not found"
                )
                continue
            meta = dict(stored.meta)
            self._spawn(
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
        if pending:
            log.info("outbox.resumed", extra={"messages": len(pending)})
        return len(pending)

    async def drain(self) -> None:
        """Wait for deliveries under way (tests, shutdown)."""
        await self._tasks.drain()

    async def close(self) -> None:
        await self._tasks.cancel()
