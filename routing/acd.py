"""ACD strategies: which of the eligible agents gets the next conversation.

Modelled on Asterisk app_queue (leastrecent, rrmemory, fewestcalls, ringall, wrandom) and
Rocket.Chat's manual selection. Penalty tiers work as in app_queue: only agents with the
lowest penalty (highest skill level) among those free are considered, except for wrandom,
which uses the penalty as a weight instead.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from routing.presence import AgentSeat


class Strategy(StrEnum):
    LEAST_RECENT = "leastrecent"  # longest idle
    ROUND_ROBIN = "rrmemory"  # round robin, remembering where it stopped
    FEWEST = "fewest"  # fewest active conversations (load balancing)
    RING_ALL = "ringall"  # offer to every eligible agent; first to accept wins (voice)
    WEIGHTED_RANDOM = "wrandom"  # random, weighted by penalty
    MANUAL = "manual"  # nobody is chosen: agents pick from the shared list


@dataclass(frozen=True, slots=True)
class Candidate:
    seat: AgentSeat
    penalty: int


_EPOCH = datetime.min.replace(tzinfo=None)


def choose_agents(
    strategy: Strategy,
    candidates: Sequence[Candidate],
    *,
    last_pick: str | None = None,
    rng: random.Random | None = None,
) -> list[AgentSeat]:
    """The agent(s) to offer to, best first; empty when nobody should be offered."""
    if not candidates or strategy is Strategy.MANUAL:
        return []
    if strategy is Strategy.WEIGHTED_RANDOM:
        r = rng or random.Random()
        weights = [1.0 / (1 + c.penalty) for c in candidates]
        return [r.choices(list(candidates), weights=weights, k=1)[0].seat]
    best = min(c.penalty for c in candidates)
    tier = [c.seat for c in candidates if c.penalty == best]
    if strategy is Strategy.RING_ALL:
        return sorted(tier, key=lambda s: s.login)
    if strategy is Strategy.ROUND_ROBIN:
        ordered = sorted(tier, key=lambda s: s.login)
        after = [s for s in ordered if last_pick is not None and s.login > last_pick]
        return [(after or ordered)[0]]
    if strategy is Strategy.FEWEST:
        return [min(tier, key=lambda s: (s.load, _idle_key(s), s.login))]
    return [min(tier, key=lambda s: (_idle_key(s), s.load, s.login))]  # LEAST_RECENT


def _idle_key(seat: AgentSeat) -> datetime:
    since = seat.idle_since
    return since.replace(tzinfo=None) if since is not None else _EPOCH
