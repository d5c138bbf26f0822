"""Files attached to cases: a department's reply documents and photos, a centre's notes. The
bytes live on disk; the record (name, type, size, the case it was uploaded for) in the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CaseFile:
    id: str  # random, unguessable
    name: str  # the uploader's file name, cleaned
    content_type: str  # as sniffed from the bytes (or the extension for office documents)
    size: int
    case_number: str | None  # the case it was uploaded for; None: a citizen's chat upload
    uploaded_by: str = ""  # staff login, or "" for a citizen
    uploaded_at: datetime | None = None


class CaseFileRecords(Protocol):
    async def add(self, file: CaseFile) -> None: ...

    async def find(self, file_id: str) -> CaseFile | None: ...
