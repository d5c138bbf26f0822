"""Agents, supervisors, department staff and admins: who they are and what they can do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DEPARTMENT = "department"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Agent:
    login: str
    name: str
    roles: frozenset[Role]
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> level 1..10
    max_chats: int = 3
    department: str | None = None  # department staff belong to one department
    active: bool = True
    endpoint: str = ""  # the agent's phone for calls, as Asterisk dials it (e.g. PJSIP/1001)

    def has_role(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles


class AgentRepository(Protocol):
    async def get(self, login: str) -> Agent: ...

    async def all(self) -> list[Agent]: ...

    async def upsert(self, agent: Agent, *, password_hash: str | None = None) -> None: ...

    async def password_hash(self, login: str) -> str | None: ...
