"""What the mail channel is configured with (hub builds it from its settings)."""

from __future__ import annotations

from dataclasses import dataclass

from channels.mail.smtp import SmtpConfig
from primitives.delivery import DEFAULT_BACKOFF_S


@dataclass(frozen=True, slots=True)
class MailConfig:
    smtp: SmtpConfig | None = None  # None (no SMTP_HOST): mail requests stay pending
    backoff_s: tuple[float, ...] = DEFAULT_BACKOFF_S  # retries of a failed send
