"""Sending one stored mail through an SMTP server (aiosmtplib): plain-text UTF-8, a stable
Message-ID per record so a mail resent after a crash can be recognised by the receiver."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Literal

import aiosmtplib

from channels.mail.records import MailRecord
from primitives.delivery import DeliveryFailed

Security = Literal["starttls", "tls", "none"]


class MailError(DeliveryFailed):
    """The SMTP server did not take the mail (reason, retryable: see DeliveryFailed)."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: Security = "starttls"  # starttls (587), tls (465), none (a local relay)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "noreply@localhost"
    sender_name: str = "12345热线"
    timeout_s: float = 30.0


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def compose(self, record: MailRecord) -> EmailMessage:
        c = self.config
        message = EmailMessage()
        message["From"] = formataddr((c.sender_name, c.sender))
        message["To"] = record.to
        message["Subject"] = record.subject
        message["Date"] = formatdate(record.created_at.timestamp(), usegmt=True)
        domain = c.sender.rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{record.id}@{domain}>"
        message.set_content(record.body)
        return message

    async def send(self, record: MailRecord) -> None:
        """Raises MailError: retryable for connection trouble and 4xx, not for 5xx refusals."""
        c = self.config
        try:
            await aiosmtplib.send(
                self.compose(record),
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.security == "tls",
                start_tls=c.security == "starttls",
                timeout=c.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            raise MailError(
                f"收件地址被拒绝（{codes[0] if codes else '?'}）",
                retryable=all(400 <= code < 500 for code in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as e:
            raise MailError(f"邮件服务器拒绝（{e.code}）", retryable=e.code < 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise MailError(f"无法连接邮件服务器（{type(e).__name__}）", retryable=True) from None
