"""Agents' live state: status, skills, what they are serving, and whether they can take more.

Capacity is "one call or up to max_chats chats": a call is only offered to an agent with
nothing else open, and an agent on a call takes no chat. Pending offers count as load, so an
agent is never offered more than they could accept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from routing.agents import Agent
from routing.conversation_model import Media

MAX_LEVEL = 10


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    READY = "ready"  # 就绪
    BUSY = "busy"  # 示忙: signed in, takes nothing new
    AWAY = "away"  # 小休
    WRAP_UP = "wrap_up"  # 话后处理, back to ready after a timeout


@dataclass(slots=True, eq=False)
class AgentSeat:
    login: str
    name: str
    skills: dict[str, int]  # skill -> level 1..10; penalty = 10 - level (lower is preferred)
    max_chats: int
    status: AgentStatus = AgentStatus.OFFLINE
    chats: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    offers: dict[str, Media] = field(default_factory=dict)
    idle_since: datetime | None = None  # when they last finished (or signed in)
    signed_in_at: datetime | None = None
    missed_offers: int = 0
    consecutive_missed: int = 0
    assigned_total: int = 0
    connected: bool = False

    @property
    def load(self) -> int:
        return len(self.chats) + len(self.calls) + len(self.offers)

    def penalty(self, skill: str) -> int | None:
        level = self.skills.get(skill)
        return None if level is None else MAX_LEVEL - max(1, min(MAX_LEVEL, level))

    def serves(self, conversation_id: str) -> bool:
        return conversation_id in self.chats or conversation_id in self.calls

    def can_take(self, media: Media) -> bool:
        if self.status is not AgentStatus.READY:
            return False
        offered_calls = any(m is Media.VOICE for m in self.offers.values())
        if self.calls or offered_calls:
            return False
        if media is Media.VOICE:
            return not self.chats and not self.offers
        return len(self.chats) + len(self.offers) < self.max_chats


class Presence:
    """All seats, indexed by skill. Pure in-memory state; the router persists what matters."""

    def __init__(self) -> None:
        self.seats: dict[str, AgentSeat] = {}
        self._by_skill: dict[str, set[str]] = {}

    def seat(self, login: str) -> AgentSeat | None:
        return self.seats.get(login)

    def registered(self, login: str) -> AgentSeat:
        """The agent's seat; KeyError when the agent was never registered."""
        seat = self.seats.get(login)
        if seat is None:
            raise KeyError(f"agent {login} is not registered")
        return seat

    def register(self, agent: Agent) -> AgentSeat:
        """Add or refresh an agent's seat (skills and capacity), keeping live state."""
        seat = self.seats.get(agent.login)
        if seat is None:
            seat = AgentSeat(agent.login, agent.name, dict(agent.skills), agent.max_chats)
            self.seats[agent.login] = seat
        else:
            for skill in seat.skills:
                self._by_skill.get(skill, set()).discard(agent.login)
            seat.name, seat.skills, seat.max_chats = agent.name, dict(agent.skills), agent.max_chats
        for skill in seat.skills:
            self._by_skill.setdefault(skill, set()).add(agent.login)
        return seat

    def with_skill(self, skill: str) -> list[AgentSeat]:
        return [self.seats[login] for login in self._by_skill.get(skill, ())]

    def staffed(self, skill: str) -> int:
        """Signed-in agents holding skill (for wait estimates)."""
        return sum(1 for s in self.with_skill(skill) if s.status is not AgentStatus.OFFLINE)
