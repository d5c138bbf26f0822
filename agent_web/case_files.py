"""Files attached to cases, as the workbench stores and serves them.

Only a few kinds are accepted, recognised by their bytes (images, PDF, the old binary and the
new zipped office formats, which also need the matching extension) or, for plain text, by the
extension and bytes that decode as text. At most MAX_BYTES each. Stored under an unguessable id
and always served as a download, never inline.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Protocol

from cases.files import CaseFile, CaseFileRecords
from primitives.clock import Clock
from primitives.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
FILE_ID = r"[A-Za-z0-9_-]{16,64}"  # ours (32 url-safe chars) and the web chat's upload ids

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .xls
_ZIP = b"PK\x03\x04"  # .docx / .xlsx
_BY_EXTENSION = {
    ".doc": (_OLE, "application/msword"),
    ".xls": (_OLE, "application/vnd.ms-excel"),
    ".docx": (
        _ZIP,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xlsx": (_ZIP, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
_UNSAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff ()（）]")

ALLOWED_KINDS = "jpg、png、gif、webp、pdf、doc、docx、xls、xlsx、txt"


class UnsupportedFile(InvalidInput):
    def __init__(self) -> None:
        super().__init__(f"不支持的文件类型，仅支持 {ALLOWED_KINDS}")


@dataclass(frozen=True, slots=True)
class StoredCaseFile:
    file: CaseFile
    path: Path  # where its bytes are


class CaseFileStore(Protocol):
    """Where the workbench keeps the files staff attach to cases; it also finds the citizens'
    own uploads (ids on a case from a web chat) when the composition root can serve them."""

    async def save(self, case_number: str, name: str, data: bytes, actor: str) -> CaseFile:
        """Check the kind (UnsupportedFile) and store the bytes for case_number."""
        ...

    async def open(self, file_id: str) -> StoredCaseFile | None:
        """The record and the path of a stored file; None when there is no such file."""
        ...


def content_type_of(name: str, head: bytes) -> str:
    """The content type of an accepted file, from its first bytes (and extension); raises
    UnsupportedFile for anything else."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    ext = PurePath(name).suffix.lower()
    if ext in _BY_EXTENSION:
        magic, mime = _BY_EXTENSION[ext]
        if head.startswith(magic):
            return mime
    if ext == ".txt" and _is_text(head):
        return "text/plain; charset=utf-8" if _decodes(head, "utf-8") else "text/plain"
    raise UnsupportedFile()


def clean_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip()
    cleaned = _UNSAFE_NAME.sub("_", base)[:120].strip(". ")
    return cleaned or "附件"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    return _decodes(head, "utf-8") or _decodes(head, "gb18030")


def _decodes(head: bytes, encoding: str) -> bool:
    try:
        head.decode(encoding)
    except UnicodeDecodeError as e:
        # a multi-byte character cut at the end of the sample is still text
        return e.start >= len(head) - 3 and encoding == "utf-8"
    return True


class DiskCaseFileStore:
    """Bytes under root/<id>, records in a CaseFileRecords."""

    def __init__(self, records: CaseFileRecords, root: Path, clock: Clock) -> None:
        self._records = records
        self._root = root
        self._clock = clock

    async def save(self, case_number: str, name: str, data: bytes, actor: str) -> CaseFile:
        if len(data) > MAX_BYTES:
            raise InvalidInput("文件超过 10 MB")
        if not data:
            raise InvalidInput("文件是空的")
        mime = content_type_of(name, data[:4096])
        file = CaseFile(
            id=secrets.token_urlsafe(24),
            name=clean_name(name),
            content_type=mime,
            size=len(data),
            case_number=case_number,
            uploaded_by=actor,
            uploaded_at=self._clock.now(),
        )
        await asyncio.to_thread(self._write, file.id, data)
        await self._records.add(file)
        return file

    async def open(self, file_id: str) -> StoredCaseFile | None:
        if not re.fullmatch(FILE_ID, file_id):
            return None
        file = await self._records.find(file_id)
        if file is None:
            return None
        path = self._root / file_id
        return StoredCaseFile(file, path) if path.is_file() else None

    def _write(self, file_id: str, data: bytes) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        partial = self._root / f"{file_id}.part"
        partial.write_bytes(data)
        partial.replace(self._root / file_id)
