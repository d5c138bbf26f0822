"""Records of files attached to cases (`case_files`); the bytes are on disk under the hub's
var directory (agent_web/case_files.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cases.files import CaseFile
from mongo.client import Database


class MongoCaseFileRecords:
    def __init__(self, db: Database) -> None:
        self._col = db["case_files"]

    async def add(self, file: CaseFile) -> None:
        await self._col.insert_one(
            {
                "_id": file.id,
                "name": file.name,
                "content_type": file.content_type,
                "size": file.size,
                "case_number": file.case_number,
                "uploaded_by": file.uploaded_by,
                "uploaded_at": file.uploaded_at,
            }
        )

    async def find(self, file_id: str) -> CaseFile | None:
        doc = await self._col.find_one({"_id": file_id})
        return _from_doc(doc) if doc else None


def _from_doc(d: Mapping[str, Any]) -> CaseFile:
    return CaseFile(
        id=str(d["_id"]),
        name=d.get("name", ""),
        content_type=d.get("content_type", "application/octet-stream"),
        size=int(d.get("size", 0)),
        case_number=d.get("case_number"),
        uploaded_by=d.get("uploaded_by", ""),
        uploaded_at=d.get("uploaded_at"),
    )
