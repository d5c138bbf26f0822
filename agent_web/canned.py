"""Canned replies (快捷回复): text an agent inserts by typing `/shortcut` in the composer.

Personal replies belong to one agent; shared ones (owner None) are kept by supervisors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from primitives.errors import Conflict, InvalidInput, NotFound

SHORTCUT = re.compile(r"^[\w\-]{1,32}$")  # letters (Chinese too), digits, _ and -
MAX_TITLE = 60
MAX_TEXT = 2000


class CannedReplyNotFound(NotFound):
    def __init__(self, reply_id: str) -> None:
        super().__init__(f"canned reply {reply_id} does not exist")


class ShortcutTaken(Conflict):
    def __init__(self, shortcut: str) -> None:
        super().__init__(f"shortcut /{shortcut} is already used")


@dataclass(frozen=True, slots=True)
class CannedReply:
    id: str
    shortcut: str
    title: str
    text: str
    owner: str | None  # None: shared with every agent
    updated_at: datetime

    @property
    def shared(self) -> bool:
        return self.owner is None


class CannedReplyRepository(Protocol):
    async def visible_to(self, login: str) -> list[CannedReply]:
        """The shared replies and login's own, by shortcut."""
        ...

    async def get(self, reply_id: str) -> CannedReply:
        """Raises CannedReplyNotFound."""
        ...

    async def add(self, reply: CannedReply) -> None:
        """Raises ShortcutTaken when the owner (or the shared set) already has the shortcut."""
        ...

    async def save(self, reply: CannedReply) -> None:
        """Raises ShortcutTaken, CannedReplyNotFound."""
        ...

    async def remove(self, reply_id: str) -> None: ...


def checked_fields(shortcut: str, title: str, text: str) -> tuple[str, str, str]:
    """The fields, trimmed; raises InvalidInput naming what is wrong."""
    shortcut, title, text = shortcut.strip().lstrip("/"), title.strip(), text.strip()
    if not SHORTCUT.match(shortcut):
        raise InvalidInput("shortcut must be 1–32 letters, digits, _ or -")
    if not text:
        raise InvalidInput("the reply text is empty")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise InvalidInput(f"title ≤ {MAX_TITLE} and text ≤ {MAX_TEXT} characters")
    return shortcut, title or shortcut, text
