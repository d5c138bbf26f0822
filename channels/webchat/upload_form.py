"""Reading the one file of an upload form (multipart field "file") at the HTTP edge.

The body comes from anyone: a bad header (a NUL in the filename), a body cut off before its
closing boundary, a nested multipart or endless parts are refused with 4xx and a zh-CN
reason, never a 500; a body cut short is refused rather than stored as a truncated file.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from agent_web.auth import refusal
from channels.webchat import texts

_CHUNK = 64 * 1024
_MAX_PARTS = 8
_OTHER_FIELDS_BYTES = 64 * 1024  # all parts but the file together


@dataclass(frozen=True, slots=True)
class FormFile:
    filename: str
    data: bytes


async def read_form_file(request: web.Request, max_bytes: int) -> FormFile:
    """The "file" field of a multipart/form-data body, read to its closing boundary.
    Raises HTTP 400 (malformed, missing, empty) or 413 (over max_bytes)."""
    if request.content_length is not None and request.content_length > max_bytes + 4096:
        raise _refuse(413, texts.UPLOAD_TOO_BIG)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise _refuse(400, texts.UPLOAD_NOT_MULTIPART) from None
    try:
        found = await _read_parts(reader, max_bytes)
    except (ValueError, AssertionError, RuntimeError, HttpProcessingError):
        # aiohttp's words for a bad part header, a missing boundary or a body cut short
        raise _refuse(400, texts.UPLOAD_MALFORMED) from None
    if found is None:
        raise _refuse(400, texts.UPLOAD_NO_FILE)
    if not found.data:
        raise _refuse(400, texts.UPLOAD_EMPTY)
    return found


async def _read_parts(reader: MultipartReader, max_bytes: int) -> FormFile | None:
    found: FormFile | None = None
    other = 0
    for _ in range(_MAX_PARTS):
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise ValueError("nested multipart")
        is_file = part.name == "file" and found is None
        data = bytearray()
        while chunk := await part.read_chunk(_CHUNK):
            data += chunk
            if is_file and len(data) > max_bytes:
                raise _refuse(413, texts.UPLOAD_TOO_BIG)
            if not is_file and other + len(data) > _OTHER_FIELDS_BYTES:
                raise ValueError("too much besides the file")
        if is_file:
            found = FormFile(part.filename or "file", bytes(data))
        else:
            other += len(data)
    if not reader.at_eof():
        raise ValueError("no closing boundary, or too many parts")
    return found


def _refuse(status: int, reason: str) -> web.HTTPException:
    return refusal(status, "bad_upload", reason)
