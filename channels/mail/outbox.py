"""Outbound e-mail: stored (pending) before the SMTP server sees it, retried with backoff on
connection trouble and temporary refusals, marked failed with the reason otherwise, and
resumed after a restart (the queue of primitives.delivery over the mail records)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from channels.mail.records import MailRecord, MailRepository
from channels.mail.smtp import SmtpTransport
from primitives.clock import Clock
from primitives.delivery import DEFAULT_BACKOFF_S, DeliveryQueue
from primitives.ids import new_id

log = logging.getLogger(__name__)


class _Mails:
    """The mail outbox's DeliveryStore: the mail records."""

    def __init__(self, repo: MailRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def pending(self) -> list[MailRecord]:
        return await self._repo.pending()

    async def mark_sent(self, record: MailRecord, result: None, attempts: int) -> None:
        await self._repo.sent(record.id, self._clock.now(), attempts)
        log.info("mail.sent", extra={"mail": record.id, "purpose": record.purpose})

    async def mark_failed(self, record: MailRecord, reason: str, attempts: int) -> None:
        await self._repo.failed(record.id, f"发送失败：{reason}", attempts)


class MailOutbox:
    def __init__(
        self,
        repo: MailRepository,
        transport: SmtpTransport,
        clock: Clock,
        *,
        backoff_s: Sequence[float] = DEFAULT_BACKOFF_S,
    ) -> None:
        self._repo = repo
        self._transport = transport
        self._clock = clock
        self._queue: DeliveryQueue[MailRecord, None] = DeliveryQueue(
            _Mails(repo, clock),
            self._send_once,
            key=lambda record: record.id,
            name="mail",
            backoff_s=backoff_s,
        )

    async def send(
        self, to: str, subject: str, body: str, purpose: str, *, key: str | None = None
    ) -> MailRecord | None:
        """Store and send. key makes it idempotent (None: that mail is already queued)."""
        record = MailRecord(
            id=new_id(),
            to=to,
            subject=subject,
            body=body,
            purpose=purpose,
            state="pending",
            created_at=self._clock.now(),
        )
        stored = await self._repo.add(record, key=key)
        if stored is not None:
            self._queue.submit(stored)
        return stored

    async def resume(self) -> int:
        """Send what a previous run stored but did not send."""
        resumed = await self._queue.resume()
        if resumed:
            log.info("mail.resumed", extra={"count": resumed})
        return resumed

    async def drain(self) -> None:
        """Wait until every mail in flight is sent or given up (tests, shutdown)."""
        await self._queue.drain()

    async def close(self) -> None:
        await self._queue.close()

    async def _send_once(self, record: MailRecord, attempt: int) -> None:
        await self._transport.send(record)  # MailError: retried unless permanent
