"""What the web chat keeps: the files citizens sent (web chat, Telegram voice), their ratings
of a conversation, their requests for a transcript and the one-time codes that prove they hold
a phone number or a mailbox. The repositories are implemented in mongo/ (uploads.py,
ratings.py, transcripts.py, verifications.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    visitor: str  # the web visitor id, or "telegram:<user id>"
    name: str
    mime: str
    size: int
    conversations: tuple[str, ...] = ()  # where the uploader sent it


@dataclass(frozen=True, slots=True)
class UploadUsage:
    files: int
    bytes: int


class UploadRepository(Protocol):
    async def add(self, upload: Upload, at: datetime) -> None: ...

    async def find(self, upload_id: str) -> Upload | None: ...

    async def usage(self, visitor: str, since: datetime) -> UploadUsage: ...

    async def sent_in(self, upload_id: str, conversation_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Rating:
    """A citizen's rating of a conversation; a later one of the same conversation replaces
    the earlier one."""

    conversation_id: str
    customer_id: str
    agent: str | None
    value: str  # satisfied, neutral, unsatisfied
    comment: str
    at: datetime


class RatingRepository(Protocol):
    async def put(self, rating: Rating) -> None: ...


@dataclass(frozen=True, slots=True)
class TranscriptRequest:
    id: str
    conversation_id: str
    visitor: str
    email: str  # lower case, or ""
    phone: str  # E.164, or ""
    at: datetime


class TranscriptRequestRepository(Protocol):
    async def add(self, request: TranscriptRequest) -> None: ...

    async def settle(self, request_id: str, status: str, via: tuple[str, ...]) -> None: ...

    async def count_since(
        self,
        since: datetime,
        *,
        visitor: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class Verification:
    """A one-time code sent to a phone number or mailbox (only its keyed hash is kept)."""

    id: str
    visitor: str
    kind: str  # phone, email
    to: str  # E.164, or a lower-case e-mail address
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    verified_at: datetime | None = None


class VerificationRepository(Protocol):
    async def add(self, v: Verification) -> None: ...

    async def latest(self, visitor: str, to: str) -> Verification | None: ...

    async def count_since(
        self, since: datetime, *, visitor: str | None = None, to: str | None = None
    ) -> int: ...

    async def record_attempt(
        self, verification_id: str, max_attempts: int, verified_at: datetime | None
    ) -> int | None: ...

    async def is_verified(self, visitor: str, to: str) -> bool: ...
