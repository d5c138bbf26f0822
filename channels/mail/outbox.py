"""Outbound e-mail: stored (pending) before the SMTP server sees it, retried with backoff on
connection trouble and temporary refusals, marked failed with the reason otherwise, and
resumed after a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from channels.mail.smtp import MailError, SmtpTransport
from mongo.mail import MailRecord, MongoMailRepository
from primitives.clock import Clock
from primitives.ids import new_id
from primitives.tasks import BackgroundTasks

log = logging.getLogger(__name__)


class MailOutbox:
    def __init__(
        self,
        repo: MongoMailRepository,
        transport: SmtpTransport,
        clock: Clock,
        *,
        backoff_s: Sequence[float] = (1, 2, 5, 15, 60),
    ) -> None:
        self._repo = repo
        self._transport = transport
        self._clock = clock
        self._backoff = tuple(backoff_s)
        self._tasks = BackgroundTasks()

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
            self._spawn(stored)
        return stored

    async def resume(self) -> int:
        """Send what a previous run stored but did not send."""
        pending = await self._repo.pending()
        for record in pending:
            self._spawn(record)
        return len(pending)

    async def close(self) -> None:
        await self._tasks.cancel()

    def _spawn(self, record: MailRecord) -> None:
        self._tasks.spawn(self._deliver(record))

    async def _deliver(self, record: MailRecord) -> None:
        error = ""
        attempt = 0
        for attempt, delay in enumerate((0.0, *self._backoff), start=1):
            if delay:
                await asyncio.sleep(delay)
            try:
                await self._transport.send(record)
            except MailError as e:
                error = str(e)
                log.info(
                    "mail.retry", extra={"mail": record.id, "attempt": attempt, "reason": error}
                )
                if not e.retryable:
                    break
                continue
            await self._repo.sent(record.id, self._clock.now(), attempt)
            log.info("mail.sent", extra={"mail": record.id, "purpose": record.purpose})
            return
        await self._repo.failed(record.id, f"发送失败：{error}", attempt)
        log.warning("mail.failed", extra={"mail": record.id, "reason": error})
