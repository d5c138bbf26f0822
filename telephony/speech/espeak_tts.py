"""Prompt synthesis with espeak-ng, resampled by sox to slin 8 kHz, cached on disk and in memory.

IVR prompts are a small fixed set (menus, confirmations): each renders once per cache
directory, then plays from disk or memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path

from primitives.errors import HubError
from telephony.media import SAMPLE_RATE

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
SOX = "sox"
_MEMORY_PROMPTS = 256  # a hotline's prompts, with room for per-call text (case numbers)
_TIMEOUT_S = 15.0  # espeak renders a long prompt in well under a second; a hang is a bug
# espeak-ng writes a 22.05 kHz WAV; the phone path carries headerless signed 16-bit LE mono.
_TO_SLIN = ["-t", "wav", "-", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-L", "-t", "raw", "-"]  # fmt: skip


class TtsError(HubError):
    """espeak-ng or sox is missing, failed or hung."""


def tts_available() -> bool:
    """True when both espeak-ng and sox are on PATH."""
    return shutil.which(ESPEAK) is not None and shutil.which(SOX) is not None


class EspeakSynthesizer:
    """Implements Synthesizer. Safe to share between calls on one event loop."""

    def __init__(self, cache_dir: Path, voice: str = "cmn", rate_wpm: int | None = None) -> None:
        self._cache_dir = cache_dir
        self._voice = voice
        self._rate_wpm = rate_wpm
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        # One lock per text being rendered: twenty callers hearing the same greeting at once
        # start one espeak-ng, and a cancelled caller doesn't cancel the others' render.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.espeak_runs = 0  # renders that reached espeak-ng (not served by a cache)

    async def render(self, text: str) -> bytes:
        """slin 8 kHz mono for `text` (b"" for blank text). Raises TtsError."""
        text = text.strip()
        if not text:
            return b""
        key = self._key(text)
        if (pcm := self._remembered(key)) is not None:
            return pcm
        lock = self._acquire_lock(key)
        try:
            async with lock:
                if (pcm := self._remembered(key)) is not None:
                    return pcm  # another caller rendered it while we waited
                pcm = await self._from_disk(key)
                if pcm is None:
                    pcm = await self._synthesize(text)
                    await asyncio.to_thread(_write_atomically, self._path(key), pcm)
                self._remember(key, pcm)
                return pcm
        finally:
            self._release_lock(key)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._voice}|{self._rate_wpm}|{text}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self._cache_dir / f"{key}.slin"

    def _remembered(self, key: str) -> bytes | None:
        pcm = self._memory.get(key)
        if pcm is not None:
            self._memory.move_to_end(key)
        return pcm

    def _remember(self, key: str, pcm: bytes) -> None:
        self._memory[key] = pcm
        self._memory.move_to_end(key)
        while len(self._memory) > _MEMORY_PROMPTS:
            self._memory.popitem(last=False)

    def _acquire_lock(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        return lock

    def _release_lock(self, key: str) -> None:
        lock, users = self._locks[key]
        if users == 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)

    async def _from_disk(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def _synthesize(self, text: str) -> bytes:
        self.espeak_runs += 1
        speed = [] if self._rate_wpm is None else ["-s", str(self._rate_wpm)]
        # --stdin: the text never reaches argv, so a prompt starting with "-" is not an option.
        wav = await _run([ESPEAK, "-v", self._voice, *speed, "--stdin", "--stdout"], text.encode())
        pcm = await _run([SOX, *_TO_SLIN], wav)
        log.info("tts.rendered", extra={"voice": self._voice, "bytes": len(pcm)})
        return pcm


async def _run(argv: list[str], stdin: bytes) -> bytes:
    """stdout of argv fed `stdin`; raises TtsError on a missing tool, failure or timeout."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as e:
        raise TtsError(f"{argv[0]} is not installed") from e
    try:
        async with asyncio.timeout(_TIMEOUT_S):
            out, err = await proc.communicate(stdin)
    except BaseException as e:  # timeout or cancellation: don't leave the child running
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if isinstance(e, TimeoutError):
            raise TtsError(f"{argv[0]} took over {_TIMEOUT_S} s") from e
        raise
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip()
        raise TtsError(f"{argv[0]} exited with {proc.returncode}: {reason}")
    return out


def _write_atomically(path: Path, data: bytes) -> None:
    # Another process (a second hub worker) may read the same cache: it must never see half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
