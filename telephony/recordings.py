"""Call recordings and voicemails on disk: an unguessable id per file, a WAV for each, and a
small side file saying which call it belongs to (so serving it can check who may listen)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import wave
from dataclasses import dataclass
from pathlib import Path

from telephony.media import SAMPLE_RATE, SAMPLE_WIDTH

RECORDING_ID = r"[A-Za-z0-9_-]{32}"


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    id: str
    call_id: str
    conversation_id: str
    kind: str  # talk | voicemail
    path: Path


class RecordingStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def save(
        self, audio: bytes, *, call_id: str, conversation_id: str, kind: str, wav: bool = False
    ) -> str:
        """Keep audio (raw slin 8 kHz, or a WAV file when wav) and return its id."""
        file_id = secrets.token_urlsafe(24)  # 32 characters
        data = audio if wav else slin_to_wav(audio)
        meta = {"call_id": call_id, "conversation_id": conversation_id, "kind": kind}
        await asyncio.to_thread(self._write, file_id, data, meta)
        return file_id

    async def find(self, file_id: str) -> RecordingInfo | None:
        meta_path = self._root / f"{file_id}.json"
        try:
            meta = json.loads(await asyncio.to_thread(meta_path.read_text, "utf-8"))
        except (OSError, ValueError):
            return None
        return RecordingInfo(
            file_id,
            meta["call_id"],
            meta["conversation_id"],
            meta["kind"],
            self._root / f"{file_id}.wav",
        )

    async def size(self, file_id: str) -> int:
        try:
            return (await asyncio.to_thread(os.stat, self._root / f"{file_id}.wav")).st_size
        except OSError:
            return 0

    @staticmethod
    def url(file_id: str) -> str:
        return f"/api/v1/recordings/{file_id}"

    def _write(self, file_id: str, data: bytes, meta: dict[str, str]) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        for name, body in (
            (f"{file_id}.wav", data),
            (f"{file_id}.json", json.dumps(meta).encode()),
        ):
            tmp = self._root / f".{name}.tmp"
            tmp.write_bytes(body)
            os.replace(tmp, self._root / name)


def slin_to_wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH])
    return out.getvalue()
