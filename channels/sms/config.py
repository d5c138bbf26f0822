"""What the SMS channel is configured with (hub builds it from its settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from channels.sms.smpp_client import SmppConfig
from primitives.delivery import DEFAULT_BACKOFF_S


@dataclass(frozen=True, slots=True)
class SmsConfig:
    source: str = "12345"  # the hotline's number: sender of every SMS, account of inbound
    per_number_limit: int = 6  # SMS to one number per window
    per_number_window_s: float = 60.0
    backoff_s: tuple[float, ...] = DEFAULT_BACKOFF_S  # retries of a failed send
    # One gateway: SMPP when smpp is set, else the HTTP provider when http_url is (with
    # webhook_secret, which signs its webhook and our sends), else the console (the log).
    smpp: SmppConfig | None = None
    http_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
