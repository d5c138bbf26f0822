"""The departments cases are dispatched to (承办单位)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    phone: str | None = None  # E.164, for case notifications by SMS
    parent: str | None = None
    active: bool = True


class DepartmentRepository(Protocol):
    async def get(self, code: str) -> Department: ...

    async def all(self) -> list[Department]: ...

    async def upsert(self, department: Department) -> None: ...
