"""One dispatch pass: which waiting conversations go to which free agents, right now.

Pure and synchronous. Every (queue, media) pair is a stream in service order; streams are
merged by queue weight, then effective priority, then queue time. When a plain entry (no
exclusions, no widened skills) finds nobody, every later plain entry of that stream would
fail the same way, so the stream is dropped. A pass therefore costs about the number of
conversations it assigns plus one per blocked stream, not the number waiting.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from routing.acd import Candidate, Strategy, choose_agents
from routing.config import QueueConfig
from routing.conversation_model import Media
from routing.presence import AgentSeat, AgentStatus, Presence
from routing.waiting import QueueEntry, WaitingQueue

WIDENED_PENALTY = 10  # agents matched through a widened skill come after the queue's own


@dataclass(frozen=True, slots=True)
class Planned:
    entry: QueueEntry
    seats: tuple[AgentSeat, ...]


class FreeSeats:
    """Seats that can take something now, indexed by skill; shrinks as the pass reserves."""

    def __init__(self, presence: Presence) -> None:
        self.by_skill: dict[str, list[AgentSeat]] = {}
        self.count = 0
        by_skill = self.by_skill
        for seat in filter(_has_room, presence.seats.values()):
            self.count += 1
            for skill in seat.skills:
                if (lst := by_skill.get(skill)) is None:
                    by_skill[skill] = [seat]
                else:
                    lst.append(seat)

    def any_for(self, skills: tuple[str, ...]) -> bool:
        return any(self.by_skill.get(s) for s in skills)

    def candidates(self, entry: QueueEntry) -> list[Candidate]:
        found: dict[str, Candidate] = {}
        for skill in (entry.queue, *entry.skills):
            extra = 0 if skill == entry.queue else WIDENED_PENALTY
            for seat in self.by_skill.get(skill, ()):
                if seat.login in entry.excluded or not seat.can_take(entry.media):
                    continue
                penalty = (seat.penalty(skill) or 0) + extra
                known = found.get(seat.login)
                if known is None or penalty < known.penalty:
                    found[seat.login] = Candidate(seat, penalty)
        return list(found.values())

    def reserved(self, seat: AgentSeat) -> None:
        if not _has_room(seat):
            self._drop(seat)

    def drain_for_voice(self, skill: str) -> None:
        """A call waits for an agent of skill who is busy with chats: give those agents no new
        chats this pass, so they come free for the call (calls are not starved by chats)."""
        for seat in list(self.by_skill.get(skill, ())):
            if seat.chats:
                self._drop(seat)

    def _drop(self, seat: AgentSeat) -> None:
        self.count -= 1
        for skill in seat.skills:
            lst = self.by_skill.get(skill)
            if lst is not None and seat in lst:
                lst.remove(seat)


def _has_room(seat: AgentSeat) -> bool:
    """seat.can_take(CHAT) or seat.can_take(VOICE), with the common cases first: every pass
    asks it of every seat, so it must stay cheap (bench/acd.py)."""
    if not seat.connected or seat.status is not AgentStatus.READY or seat.calls:
        return False
    if not seat.offers:  # no offer pending: a chat fits below capacity, a call when idle
        return len(seat.chats) < seat.max_chats or not seat.chats
    return seat.can_take(Media.CHAT) or seat.can_take(Media.VOICE)


def choose_for(
    entry: QueueEntry,
    cfg: QueueConfig,
    free: FreeSeats,
    last_pick: Mapping[str, str],
    rng: random.Random,
) -> list[AgentSeat]:
    candidates = free.candidates(entry)
    if not candidates and entry.excluded:
        # Everyone eligible already missed or declined it: go round again rather than strand it.
        entry.excluded.clear()
        candidates = free.candidates(entry)
    return choose_agents(cfg.strategy, candidates, last_pick=last_pick.get(entry.queue), rng=rng)


def plan_pass(
    queues: Mapping[str, WaitingQueue],
    configs: Mapping[str, QueueConfig],
    presence: Presence,
    now: datetime,
    last_pick: dict[str, str],
    rng: random.Random,
) -> list[Planned]:
    """Choose agents for waiting conversations and reserve their capacity (seat.offers).

    Planned entries are still in their queues: the caller removes them.
    """
    free = FreeSeats(presence)
    plan: list[Planned] = []
    if free.count == 0:
        return plan
    heap: list[
        tuple[tuple[float, float, datetime, int], int, QueueEntry, Iterator[QueueEntry]]
    ] = []
    for name, queue in queues.items():
        cfg = configs[name]
        if not len(queue) or cfg.strategy is Strategy.MANUAL:
            continue
        if not free.any_for((name, *cfg.widen_skills)):
            continue
        for media in queue.media():
            _push(heap, queue, cfg, queue.ordered(now, media), now)
    while heap and free.count > 0:
        _, _, entry, stream = heapq.heappop(heap)
        cfg = configs[entry.queue]
        seats = choose_for(entry, cfg, free, last_pick, rng)
        plain = not entry.skills and not entry.excluded
        if seats:
            last_pick[entry.queue] = seats[0].login
            for seat in seats:
                seat.offers[entry.conversation_id] = entry.media
                free.reserved(seat)
            plan.append(Planned(entry, tuple(seats)))
        elif plain:
            if entry.media is Media.VOICE:
                free.drain_for_voice(entry.queue)
            continue  # the whole stream is blocked: drop it
        _push(heap, queues[entry.queue], cfg, stream, now)
    return plan


def _push(
    heap: list, queue: WaitingQueue, cfg: QueueConfig, stream: Iterator[QueueEntry], now: datetime
) -> None:
    entry = next(stream, None)
    if entry is not None:
        key = (-cfg.weight, -queue.effective_priority(entry, now), entry.queued_at, entry.seq)
        heapq.heappush(heap, (key, entry.seq, entry, stream))
