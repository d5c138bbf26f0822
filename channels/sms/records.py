"""What the SMS channel keeps: outbound SMS with their delivery state (notifications and
conversation replies), which SMS each SMSC message id stands for, inbound SMS already seen
(SMPP has no message id to dedupe on), parts of concatenated inbound SMS and opt-outs (退订).
The repository is implemented in mongo/sms.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SmsRecord:
    id: str
    to: str  # E.164
    text: str
    purpose: str  # reply, accepted, dispatched, department, completed, opt_out, survey_thanks …
    state: str  # pending, sent, delivered, failed, skipped
    created_at: datetime
    case_number: str | None = None
    message_id: str | None = None  # the conversation message this SMS carries
    provider_ids: tuple[str, ...] = ()
    segments: int = 0
    attempts: int = 0
    error: str = ""
    receipts: dict[int, str] = field(default_factory=dict)  # segment (0-based) -> stat


@dataclass(frozen=True, slots=True)
class Submission:
    """The segment of an SMS submitted under one SMSC message id."""

    sms_id: str
    segment: int  # 0-based, the index into the SMS's provider_ids
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class SeenSms:
    id: str  # the external id the router stores the message under
    done: bool


class SmsRepository(Protocol):
    # outbound
    async def add(self, record: SmsRecord, *, key: str | None = None) -> SmsRecord | None:
        """Store an SMS. With key, a second add of the same key is refused (None)."""
        ...

    async def get(self, sms_id: str) -> SmsRecord | None: ...

    async def pending(self) -> list[SmsRecord]:
        """Every SMS stored but not yet accepted by the provider nor given up, oldest first."""
        ...

    async def mark(self, sms_id: str, state: str, **changes: Any) -> None: ...

    async def sent(
        self,
        sms_id: str,
        provider_ids: list[str],
        at: datetime,
        attempts: int,
        receipts: dict[int, str],
    ) -> None:
        """A pending SMS was accepted by the provider under provider_ids (state sent)."""
        ...

    async def add_receipt(self, sms_id: str, segment: int, stat: str) -> SmsRecord | None:
        """Note a segment's receipt on an SMS still awaiting receipts (state sent). The SMS
        with it; None when the SMS is final already (a receipt never changes that)."""
        ...

    async def settle(self, sms_id: str, state: str, error: str) -> bool:
        """Move an SMS awaiting receipts to its final state; False if it was final already."""
        ...

    async def for_case(self, case_number: str) -> list[SmsRecord]: ...

    # SMSC message ids
    async def record_ids(
        self, provider_ids: list[str], sms_id: str, at: datetime, expires_at: datetime
    ) -> dict[int, str]:
        """Point each id at its segment of sms_id, submitted at `at`, replacing whatever was
        submitted under it before. Returns the receipts already held for these ids that
        arrived since `at`: segment -> stat."""
        ...

    async def submission(self, provider_id: str, since: datetime) -> Submission | None:
        """What was last submitted under provider_id, if that was at or after since."""
        ...

    async def hold_receipt(
        self, provider_id: str, stat: str, at: datetime, expires_at: datetime
    ) -> None:
        """Keep a receipt that matched no submission (yet)."""
        ...

    async def purge_ids(self, now: datetime) -> int: ...

    # inbound
    async def seen(self, key: str, now: datetime, window: timedelta) -> SeenSms:
        """The record of an inbound SMS with this content key received within window, or a
        new one. done=True: it was fully handled before (a redelivery)."""
        ...

    async def done(self, sms_id: str) -> None: ...

    async def add_part(
        self, group: str, index: int, total: int, text: str, at: datetime
    ) -> None: ...

    async def whole(self, group: str, total: int) -> str | None:
        """The assembled text once every part of group is stored."""
        ...

    async def drop_parts(self, group: str) -> None: ...

    # opt-outs
    async def opt_out(self, phone: str, at: datetime) -> None: ...

    async def opt_in(self, phone: str) -> None: ...

    async def opted_out(self, phone: str) -> bool: ...
