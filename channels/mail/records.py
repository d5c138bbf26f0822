"""What the mail channel keeps: each mail stored (pending) before the SMTP server sees it,
then marked sent or failed with the reason. The repository is implemented in mongo/mail.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MailRecord:
    id: str  # also the local part of the Message-ID header
    to: str
    subject: str
    body: str
    purpose: str  # transcript, …
    state: str  # pending, sent, failed
    created_at: datetime
    attempts: int = 0
    error: str = ""
    sent_at: datetime | None = None


class MailRepository(Protocol):
    async def add(self, record: MailRecord, *, key: str | None = None) -> MailRecord | None:
        """Store a pending mail. With key, a second add of the same key is refused (None)."""
        ...

    async def get(self, mail_id: str) -> MailRecord | None: ...

    async def pending(self) -> list[MailRecord]:
        """Every mail neither sent nor failed, oldest first."""
        ...

    async def sent(self, mail_id: str, at: datetime, attempts: int) -> None: ...

    async def failed(self, mail_id: str, error: str, attempts: int) -> None: ...
