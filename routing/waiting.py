"""Skills queues held in memory: priority levels, FIFO within a level, ageing across levels.

Each queue keeps one list per priority level, sorted by the time the conversation queued.
A conversation's effective priority is its level plus one point per `ageing_step_s` waited,
so a normal conversation eventually overtakes newer VIP ones and nobody starves; within a
level the order is strictly first come, first served. `queued_at` is the stored ordering key:
a conversation put back at the head gets a queued_at just before the current head, so the
order after a restart (sorted from the database) is the order in memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sortedcontainers import SortedKeyList

from routing.conversation_model import Conversation, Media

_seq = itertools.count()


@dataclass(slots=True, eq=False)
class QueueEntry:
    conversation_id: str
    queue: str
    priority: int
    queued_at: datetime
    media: Media = Media.CHAT
    customer_id: str = ""
    skills: tuple[str, ...] = ()  # skills accepted besides the queue's own (after widening)
    excluded: set[str] = field(default_factory=set)  # agents who missed or declined it
    seq: int = field(default_factory=lambda: next(_seq))

    def sort_key(self) -> tuple[datetime, int]:
        return (self.queued_at, self.seq)

    def accepts_skill(self, skill: str) -> bool:
        return skill == self.queue or skill in self.skills


class WaitingQueue:
    """One skills queue."""

    def __init__(self, name: str, ageing_step_s: float = 30.0) -> None:
        self.name = name
        self.ageing_step_s = ageing_step_s
        self._levels: dict[tuple[int, Media], SortedKeyList] = {}
        self._entries: dict[str, QueueEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._entries

    def get(self, conversation_id: str) -> QueueEntry | None:
        return self._entries.get(conversation_id)

    def add(self, entry: QueueEntry, *, at_head: bool = False) -> QueueEntry:
        """Queue entry (FIFO in its level) or, with at_head, before everyone in its level."""
        if entry.conversation_id in self._entries:
            raise ValueError(f"{entry.conversation_id} is already in queue {self.name}")
        level = self._levels.setdefault(
            (entry.priority, entry.media), SortedKeyList(key=QueueEntry.sort_key)
        )
        if at_head:
            heads = [
                lv[0].queued_at for (p, _), lv in self._levels.items() if p == entry.priority and lv
            ]
            if heads and min(heads) <= entry.queued_at:
                entry.queued_at = min(heads) - timedelta(milliseconds=1)
        level.add(entry)
        self._entries[entry.conversation_id] = entry
        return entry

    def remove(self, conversation_id: str) -> QueueEntry | None:
        entry = self._entries.pop(conversation_id, None)
        if entry is not None:
            key = (entry.priority, entry.media)
            level = self._levels[key]
            level.remove(entry)
            if not level:
                del self._levels[key]
        return entry

    def effective_priority(self, entry: QueueEntry, now: datetime) -> float:
        waited = max(0.0, (now - entry.queued_at).total_seconds())
        return entry.priority + waited / self.ageing_step_s

    def _service_key(self, entry: QueueEntry, now: datetime) -> tuple[float, datetime, int]:
        """Smaller is served first."""
        return (-self.effective_priority(entry, now), entry.queued_at, entry.seq)

    def media(self) -> set[Media]:
        return {m for _, m in self._levels}

    def ordered(self, now: datetime, media: Media | None = None) -> Iterator[QueueEntry]:
        """Entries in service order: highest effective priority first, FIFO within a level.

        Only entries of one media when media is given. Do not add or remove entries while
        iterating (collect first)."""
        cursors = {k: 0 for k in self._levels if media is None or k[1] is media}
        while True:
            best: QueueEntry | None = None
            best_key: tuple[float, datetime, int] | None = None
            for p, i in cursors.items():
                level = self._levels[p]
                if i < len(level):
                    key = self._service_key(level[i], now)
                    if best_key is None or key < best_key:
                        best, best_key = level[i], key
            if best is None:
                return
            cursors[(best.priority, best.media)] += 1
            yield best

    def head(self, now: datetime) -> QueueEntry | None:
        return next(self.ordered(now), None)

    def position(self, conversation_id: str, now: datetime) -> int:
        """1-based place in the service order (0 if not queued). O(levels · log n)."""
        entry = self._entries.get(conversation_id)
        if entry is None:
            return 0
        mine = self._service_key(entry, now)
        ahead = 0
        for level in self._levels.values():
            # Within a level the service key grows with the index, so "ahead of entry" holds
            # for a prefix of the level: find its length by bisection.
            lo, hi = 0, len(level)
            while lo < hi:
                mid = (lo + hi) // 2
                if self._service_key(level[mid], now) < mine:
                    lo = mid + 1
                else:
                    hi = mid
            ahead += lo
        return ahead + 1

    def __iter__(self) -> Iterator[QueueEntry]:
        return iter(list(self._entries.values()))


def entry_for(conv: Conversation) -> QueueEntry:
    """The queue entry a stored conversation stands for (restore, transfer, take-over)."""
    return QueueEntry(
        conv.id,
        conv.queue or "general",
        conv.priority,
        conv.queued_at or conv.created_at,
        media=conv.media,
        customer_id=conv.customer_id,
    )
