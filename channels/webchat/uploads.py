"""Visitor uploads: images and PDFs only (checked by their bytes, not their name), at most
MAX_BYTES each and a quota per visitor and hour, stored under var/uploads by an unguessable
id and always served as a download, never inline.

POST /webchat/upload?visitor=…&token=…   multipart field "file" → {"file": {id, name, mime, size}}
GET  /webchat/files/{id}?visitor=…&token=…  (or a staff session that may read the conversation)
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from channels.webchat.keyed_locks import KeyedLocks
from channels.webchat.records import Upload, UploadRepository
from primitives.clock import Clock
from primitives.errors import HubError

__all__ = ["MAX_BYTES", "Upload", "UploadQuota", "UploadQuotaExceeded", "UploadStore", "sniff"]

MAX_BYTES = 5 * 1024 * 1024
# Ids as stored before they were random (ObjectIds), and as now: both stay readable.
UPLOAD_ID = r"[0-9a-f]{24}|[A-Za-z0-9_-]{32}"
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_UNSAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff ]")


def sniff(head: bytes) -> str | None:
    for magic, mime in _SIGNATURES:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True, slots=True)
class UploadQuota:
    files: int = 20
    bytes: int = 30 * 1024 * 1024
    window: timedelta = timedelta(hours=1)


class UploadQuotaExceeded(HubError):
    def __init__(self, by: str) -> None:
        super().__init__(f"upload quota exceeded ({by})")
        self.by = by  # "files" or "bytes"


class UploadStore:
    def __init__(
        self,
        repo: UploadRepository,
        root: Path,
        clock: Clock,
        quota: UploadQuota = UploadQuota(),
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._quota = quota
        self._locks = KeyedLocks()
        self.root = root

    def path(self, upload_id: str) -> Path:
        return self.root / upload_id

    async def save(self, visitor: str, name: str, data: bytes, mime: str) -> Upload:
        """Store a file (no quota: channels that fetch files themselves call this)."""
        # A random id: a time-ordered one let anyone holding one id guess its neighbours.
        upload = Upload(secrets.token_urlsafe(24), visitor, _clean_name(name), mime, len(data))
        await asyncio.to_thread(self._write, upload.id, data)
        await self._repo.add(upload, self._clock.now())
        return upload

    async def check_quota(self, visitor: str, size: int = 0) -> None:
        """Raises UploadQuotaExceeded if visitor may not upload `size` more bytes now."""
        used = await self._repo.usage(visitor, self._clock.now() - self._quota.window)
        if used.files >= self._quota.files:
            raise UploadQuotaExceeded("files")
        if used.bytes + size > self._quota.bytes:
            raise UploadQuotaExceeded("bytes")

    async def save_within_quota(self, visitor: str, name: str, data: bytes, mime: str) -> Upload:
        """Store a visitor's file. Raises UploadQuotaExceeded."""
        async with self._locks.hold(visitor):  # parallel uploads cannot all pass the check
            await self.check_quota(visitor, len(data))
            return await self.save(visitor, name, data, mime)

    async def get(self, upload_id: str, visitor: str | None = None) -> Upload | None:
        """The upload; with visitor, only if that visitor sent it."""
        upload = await self._repo.find(upload_id)
        if upload is None or (visitor is not None and upload.visitor != visitor):
            return None
        return upload

    async def sent_in(self, upload: Upload, conversation_id: str) -> None:
        """Note the conversation the upload was sent in (staff who may read it may read it)."""
        if conversation_id not in upload.conversations:
            await self._repo.sent_in(upload.id, conversation_id)

    def _write(self, upload_id: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.path(upload_id).with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(self.path(upload_id))


def _clean_name(name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", Path(name or "file").name)[:80].strip()
    return cleaned or "file"
