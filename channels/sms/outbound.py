"""Outbound SMS: stored (pending) before the gateway sees them, sent within the per-number
rate, retried with backoff (the queue of primitives.delivery over the SMS records), and
followed to the handset by delivery receipts.

A receipt names only the SMSC's message id, and an SMSC hands its ids out again after a
restart. So each submit records which SMS its ids stand for (replacing an older SMS under the
same id), a receipt goes to the SMS submitted under its id most recently and within the
three days a receipt is valid, and a final state (delivered, failed) never changes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from channels.sms.gateway import SmsGateway
from channels.sms.limiter import PerNumberLimiter
from channels.sms.pdu import Receipt, segments
from channels.sms.records import SmsRecord, SmsRepository
from primitives.clock import Clock
from primitives.delivery import DEFAULT_BACKOFF_S, DeliveryQueue
from primitives.ids import new_id
from primitives.phone import mask_digits
from primitives.tasks import BackgroundTasks
from routing.messages import DeliveryState, MessageRepository

log = logging.getLogger(__name__)

OPTED_OUT = "已退订短信通知"
# How long an SMSC keeps trying a message and may still report on it (a common validity
# period); an id older than this matches no receipt and is purged.
RECEIPT_VALIDITY = timedelta(days=3)
_PURGE_EVERY = timedelta(hours=1)
_IN_PROGRESS = frozenset({"ENROUTE", "ACCEPTD"})

# What an accepted submit returns: the provider's id of each segment, and the receipts that
# were held for those ids (segment -> stat).
Accepted = tuple[list[str], dict[int, str]]


class _Notifications:
    """The SMS outbound's DeliveryStore: the SMS records, pending until the provider took
    them; a taken one then awaits its receipts."""

    def __init__(self, repo: SmsRepository, settle: Callable[[SmsRecord], Awaitable[None]]) -> None:
        self._repo = repo
        self._settle = settle

    async def pending(self) -> list[SmsRecord]:
        return await self._repo.pending()

    async def mark_sent(self, record: SmsRecord, accepted: Accepted, attempts: int) -> None:
        # the record says sent already (written with the ids, before a receipt may come)
        ids, held = accepted
        await self._settle(replace(record, state="sent", provider_ids=tuple(ids), receipts=held))

    async def mark_failed(self, record: SmsRecord, reason: str, attempts: int) -> None:
        await self._repo.mark(record.id, "failed", error=f"发送失败：{reason}", attempts=attempts)


class SmsOutbound:
    def __init__(
        self,
        repo: SmsRepository,
        gateway: SmsGateway,
        limiter: PerNumberLimiter,
        messages: MessageRepository,
        clock: Clock,
        *,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
        receipt_validity: timedelta = RECEIPT_VALIDITY,
    ) -> None:
        self._repo = repo
        self._gateway = gateway
        self._limiter = limiter
        self._messages = messages
        self._clock = clock
        self._validity = receipt_validity
        self._queue: DeliveryQueue[SmsRecord, Accepted] = DeliveryQueue(
            _Notifications(repo, self._settle),
            self._submit_pending,
            key=lambda record: record.id,
            name="sms",
            backoff_s=backoff_s,
        )
        self._tasks = BackgroundTasks()  # purges of expired SMSC ids
        # One future per submit from the gateway call until its ids are recorded.
        self._submitting: set[asyncio.Future[None]] = set()
        self._purged_at: datetime | None = None

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
            self._queue.submit(stored)
        return stored

    async def send_now(self, to: str, text: str, *, message_id: str) -> SmsRecord:
        """One attempt for a conversation message (the routing outbox retries it).
        Raises GatewayError."""
        await self._limiter.acquire(to)
        sms_id = new_id()
        async with self._submit() as started:
            ids = await self._gateway.send(to, text)
            record = SmsRecord(
                id=sms_id,
                to=to,
                text=text,
                purpose="reply",
                state="sent",
                created_at=self._clock.now(),
                message_id=message_id,
                provider_ids=tuple(ids),
                segments=len(ids),
                attempts=1,
                receipts=await self._record_ids(ids, sms_id, started),
            )
            await self._repo.add(record)
        await self._settle(record)
        return record

    async def resume(self) -> int:
        """Send what a previous run stored but did not send; drop expired SMSC ids."""
        await self._purge()
        resumed = await self._queue.resume()
        if resumed:
            log.info("sms.resumed", extra={"count": resumed})
        return resumed

    async def on_receipt(self, receipt: Receipt) -> None:
        """Apply a delivery receipt; returns once it is stored (the sender is acked after)."""
        if not receipt.message_id:
            log.info("sms.receipt_without_id", extra={"stat": receipt.stat})
            return
        at = self._now()
        if self._submitting:
            # A submit still in flight may have been handed this very id (reused after an
            # SMSC restart) without having recorded it yet: wait until those are recorded.
            await asyncio.wait(set(self._submitting))
        found = await self._repo.submission(receipt.message_id, at - self._validity)
        if found is None or found.submitted_at > at:
            await self._repo.hold_receipt(receipt.message_id, receipt.stat, at, at + self._validity)
            log.info("sms.receipt_unmatched", extra={"stat": receipt.stat})
            return
        record = await self._repo.add_receipt(found.sms_id, found.segment, receipt.stat)
        if record is not None:
            await self._settle(record)

    async def drain(self) -> None:
        """Wait until every SMS in flight is sent or given up (tests, shutdown)."""
        await self._queue.drain()
        await self._tasks.drain()

    async def _settle(self, record: SmsRecord) -> None:
        """Delivered once every segment's receipt says DELIVRD; failed on any final error."""
        if not record.provider_ids:
            return  # not accepted by the provider yet
        stats = record.receipts.values()
        failed = [s for s in stats if s != "DELIVRD" and s not in _IN_PROGRESS]
        if failed:
            state, error = DeliveryState.FAILED, f"短信未送达（{failed[0]}）"
        elif len(stats) == len(record.provider_ids) and all(s == "DELIVRD" for s in stats):
            state, error = DeliveryState.DELIVERED, ""
        else:
            return  # more receipts to come
        if not await self._repo.settle(record.id, state.value, error):
            return  # final already
        if record.message_id:
            await self._messages.set_delivery(record.message_id, state, error)
        log.info(
            "sms.receipt",
            extra={"sms": record.id, "to": mask_digits(record.to), "state": state.value},
        )

    @contextlib.asynccontextmanager
    async def _submit(self) -> AsyncIterator[datetime]:
        """Mark a submit in flight until its ids are recorded; yields when it started."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._submitting.add(done)
        try:
            yield self._now()
        finally:
            self._submitting.discard(done)
            done.set_result(None)

    async def _record_ids(self, ids: list[str], sms_id: str, started: datetime) -> dict[int, str]:
        """Record which SMS the ids stand for; the receipts held for them meanwhile."""
        held = await self._repo.record_ids(ids, sms_id, started, started + self._validity)
        if self._purged_at is None or started - self._purged_at >= _PURGE_EVERY:
            self._purged_at = started
            self._tasks.spawn(self._purge())
        return held

    async def _purge(self) -> None:
        purged = await self._repo.purge_ids(self._now())
        if purged:
            log.info("sms.ids_purged", extra={"count": purged})

    def _now(self) -> datetime:
        """The clock at the database's precision (milliseconds), so that times compare
        alike before and after they are stored."""
        now = self._clock.now()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    async def close(self) -> None:
        await self._queue.close()
        await self._tasks.cancel()

    async def _submit_pending(self, record: SmsRecord, attempt: int) -> Accepted:
        """One attempt at a stored SMS, within the number's rate; the record says sent (with
        its ids) before a receipt for them is looked for. Raises GatewayError."""
        await self._limiter.acquire(record.to)
        async with self._submit() as started:
            ids = await self._gateway.send(record.to, record.text)
            held = await self._record_ids(ids, record.id, started)
            await self._repo.sent(record.id, ids, self._clock.now(), attempt, held)
        return ids, held
