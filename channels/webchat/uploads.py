"""Visitor uploads: images and PDFs only (checked by their bytes, not their name), at most
MAX_BYTES, stored under var/uploads and always served as a download, never inline.

POST /webchat/upload?visitor=…&token=…   multipart field "file" → {"file": {id, name, mime, size}}
GET  /webchat/files/{id}?visitor=…&token=…  (or a signed-in staff session)
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from mongo.client import Database
from routing.ids import new_id

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
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
class Upload:
    id: str
    visitor: str
    name: str
    mime: str
    size: int


class UploadStore:
    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self._col = db["uploads"]
        self.root = root

    def path(self, upload_id: str) -> Path:
        return self.root / upload_id

    async def save(self, visitor: str, name: str, data: bytes, mime: str) -> Upload:
        upload = Upload(new_id(), visitor, _clean_name(name), mime, len(data))
        await asyncio.to_thread(self._write, upload.id, data)
        await self._col.insert_one(
            {
                "_id": upload.id,
                "visitor": visitor,
                "name": upload.name,
                "mime": mime,
                "size": upload.size,
                "at": datetime.now(UTC),
            }
        )
        return upload

    async def get(self, upload_id: str, visitor: str | None = None) -> Upload | None:
        """The upload; with visitor, only if that visitor sent it."""
        query: dict[str, str] = {"_id": upload_id}
        if visitor is not None:
            query["visitor"] = visitor
        doc = await self._col.find_one(query)
        if doc is None:
            return None
        return Upload(doc["_id"], doc["visitor"], doc["name"], doc["mime"], doc["size"])

    def _write(self, upload_id: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.path(upload_id).with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(self.path(upload_id))


def _clean_name(name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", Path(name or "file").name)[:80].strip()
    return cleaned or "file"


def refuse(status: int, reason: str) -> web.HTTPException:
    import json

    body = json.dumps(
        {"error": "bad_upload" if status < 500 else "error", "reason": reason}, ensure_ascii=False
    )
    cls = {
        400: web.HTTPBadRequest,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        413: web.HTTPRequestEntityTooLarge,
        415: web.HTTPUnsupportedMediaType,
    }[status]
    if cls is web.HTTPRequestEntityTooLarge:
        return cls(max_size=MAX_BYTES, actual_size=0, text=body, content_type="application/json")
    return cls(text=body, content_type="application/json")
