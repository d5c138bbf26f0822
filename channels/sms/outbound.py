"""Outbound SMS: stored (pending) before the gateway sees them, sent within the per-number
rate, retried with backoff, and followed to the handset by delivery receipts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from channels.sms.gateway import GatewayError, SmsGateway
from channels.sms.limiter import PerNumberLimiter
from channels.sms.pdu import Receipt, segments
from hub.clock import Clock
from hub.phone import mask_digits
from hub.tasks import BackgroundTasks
from mongo.sms import MongoSmsRepository, SmsRecord
from routing.ids import new_id
from routing.messages import DeliveryState, MessageRepository

log = logging.getLogger(__name__)

OPTED_OUT = "已退订短信通知"


class SmsOutbound:
    def __init__(
        self,
        repo: MongoSmsRepository,
        gateway: SmsGateway,
        limiter: PerNumberLimiter,
        messages: MessageRepository,
        clock: Clock,
        *,
        backoff_s: Sequence[float] = (1, 2, 5, 15, 60),
    ) -> None:
        self._repo = repo
        self._gateway = gateway
        self._limiter = limiter
        self._messages = messages
        self._clock = clock
        self._backoff = tuple(backoff_s)
        self._tasks = BackgroundTasks()

    async def notify(
        self,
        to: str,
        text: str,
        purpose: str,
        *,
        case_number: str | None = None,
        key: str | None = None,
        respect_opt_out: bool = True,
    ) -> SmsRecord | None:
        """Store and send a notification. key makes it idempotent (None: already queued).
        A number that opted out gets nothing; the record says so (state skipped)."""
        skipped = respect_opt_out and await self._repo.opted_out(to)
        record = SmsRecord(
            id=new_id(),
            to=to,
            text=text,
            purpose=purpose,
            state="skipped" if skipped else "pending",
            created_at=self._clock.now(),
            case_number=case_number,
            segments=segments(text),
            error=OPTED_OUT if skipped else "",
        )
        stored = await self._repo.add(record, key=key)
        if stored is not None and not skipped:
            self._spawn(stored)
        return stored

    async def send_now(self, to: str, text: str, *, message_id: str) -> SmsRecord:
        """One attempt for a conversation message (the routing outbox retries it).
        Raises GatewayError."""
        await self._limiter.acquire(to)
        ids = await self._gateway.send(to, text)
        record = SmsRecord(
            id=new_id(),
            to=to,
            text=text,
            purpose="reply",
            state="sent",
            created_at=self._clock.now(),
            message_id=message_id,
            provider_ids=tuple(ids),
            segments=len(ids),
            attempts=1,
        )
        await self._repo.add(record)
        await self._settle(record)
        return record

    async def resume(self) -> int:
        """Send what a previous run stored but did not send."""
        pending = await self._repo.pending()
        for record in pending:
            self._spawn(record)
        return len(pending)

    async def on_receipt(self, receipt: Receipt) -> None:
        await self._repo.add_receipt(receipt.message_id, receipt.stat, self._clock.now())
        record = await self._repo.find_by_provider_id(receipt.message_id)
        if record is not None:
            await self._settle(record)

    async def _settle(self, record: SmsRecord) -> None:
        """Delivered once every segment's receipt says DELIVRD; failed on any final error."""
        if not record.provider_ids:
            return  # not accepted by the provider yet
        stats = await self._repo.receipts_for(record.provider_ids)
        failed = [s for s in stats.values() if s not in ("DELIVRD", "ENROUTE", "ACCEPTD")]
        if failed:
            state, error = DeliveryState.FAILED, f"短信未送达（{failed[0]}）"
        elif len(stats) == len(record.provider_ids) and all(s == "DELIVRD" for s in stats.values()):
            state, error = DeliveryState.DELIVERED, ""
        else:
            return  # more receipts to come
        await self._repo.mark(record.id, state.value, error=error)
        if record.message_id:
            await self._messages.set_delivery(record.message_id, state, error)
        log.info(
            "sms.receipt",
            extra={"sms": record.id, "to": mask_digits(record.to), "state": state.value},
        )

    async def close(self) -> None:
        await self._tasks.cancel()

    def _spawn(self, record: SmsRecord) -> None:
        self._tasks.spawn(self._deliver(record))

    async def _deliver(self, record: SmsRecord) -> None:
        error = ""
        for attempt, delay in enumerate((0.0, *self._backoff)):
            if delay:
                await asyncio.sleep(delay)
            await self._limiter.acquire(record.to)
            try:
                ids = await self._gateway.send(record.to, record.text)
            except GatewayError as e:
                error = str(e)
                log.info(
                    "sms.retry",
                    extra={"sms": record.id, "attempt": attempt + 1, "reason": error},
                )
                if not e.retryable:
                    break
                continue
            await self._repo.sent(record.id, ids, self._clock.now(), attempt + 1)
            await self._settle(replace(record, provider_ids=tuple(ids)))
            return
        await self._repo.mark(record.id, "failed", error=f"发送失败：{error}", attempts=attempt + 1)
        log.warning("sms.failed", extra={"sms": record.id, "to": mask_digits(record.to)})
