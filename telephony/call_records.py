"""One row per call: who called, how long they waited and talked, how it ended. Reports and
the abandon rate are computed from these; the recording is linked here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class CallOutcome(StrEnum):
    IVR = "ivr"  # the caller finished in the IVR (answered by the bot, case progress …)
    ANSWERED = "answered"  # an agent talked with the caller
    ABANDONED = "abandoned"  # hung up while waiting in a queue
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    REFUSED = "refused"  # blacklisted caller


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    conversation_id: str
    customer_id: str
    caller: str  # E.164 or "" (withheld)
    dialed: str
    transport: str  # audiosocket | webcall
    started_at: datetime
    ended_at: datetime | None = None
    queue: str | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    agent: str | None = None
    outcome: CallOutcome = CallOutcome.IVR
    survey: str = ""  # 1/2/3
    recording: str | None = None  # file id of the talk's recording
    case_number: str | None = None

    @property
    def wait_s(self) -> float | None:
        if self.queued_at is None:
            return None
        until = self.answered_at or self.ended_at
        return (until - self.queued_at).total_seconds() if until else None

    @property
    def talk_s(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()


@dataclass(frozen=True, slots=True)
class CallQuery:
    caller: str | None = None  # E.164
    agent: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    with_recording: bool = False
    limit: int = 50


class CallRecordRepository(Protocol):
    async def save(self, record: CallRecord) -> None:
        """Insert or replace the record of call_id."""
        ...

    async def get(self, call_id: str) -> CallRecord | None: ...

    async def search(self, query: CallQuery) -> list[CallRecord]:
        """Newest first."""
        ...
