"""What the case workbench and the department portal ask for: worklists, search filters, paging,
and the counters on the supervisor's wallboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from cases.model import Case, CaseState, CaseType

S = CaseState

# A case a department is working on (its inbox); the centre's own states are NEW and ACCEPTED.
DEPARTMENT_STATES = frozenset({S.DISPATCHED, S.CONFIRMED, S.IN_PROGRESS})
# States in which the due date runs against someone (a light that can go red).
RUNNING_STATES = frozenset({S.ACCEPTED, S.DISPATCHED, S.CONFIRMED, S.IN_PROGRESS, S.REOPENED})
OPEN_STATES = frozenset(s for s in S if s is not S.CLOSED)
MAX_PER_PAGE = 100


class Worklist(StrEnum):
    ALL = "all"  # 全部（配合检索条件）
    MINE = "mine"  # 我的工单: filed by me, still open
    TO_ACCEPT = "to_accept"  # 待受理
    OVERDUE = "overdue"  # 已超期
    AUDIT = "audit"  # 待审核: returns and extension requests
    RETURNED = "returned"  # 退单待审
    TO_REVISIT = "to_revisit"  # 待回访
    TODO_DUE = "todo_due"  # 到期待办（预约回电等）
    SIGN_OFF_LATE = "sign_off_late"  # 签收超时
    SUPERVISED = "supervised"  # 督办件
    DEPARTMENT = "department"  # 部门收件箱: the department's cases (lead or assisting)


@dataclass(frozen=True, slots=True)
class CaseQuery:
    worklist: Worklist = Worklist.ALL
    actor: str = ""  # MINE: whose cases
    department: str | None = None  # filter; DEPARTMENT: the department whose inbox it is
    number: str = ""
    phone: str = ""  # E.164
    address: str = ""  # substring
    text: str = ""  # substring of title or description
    type: CaseType | None = None
    category: str = ""  # a taxonomy code at any level
    state: CaseState | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: list[Case]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True, slots=True)
class Wallboard:
    """The supervisor's counters."""

    open: int
    overdue: int
    due_today: int
    awaiting_audit: int
    sign_off_late: int
    to_revisit: int


class CaseFinder(Protocol):
    """The read side of the case store the workbench, the portal and the wallboard use."""

    async def search(self, query: CaseQuery, now: datetime) -> CasePage:
        """One page of a worklist or search, most urgent first."""
        ...

    async def similar_open(
        self, *, phone: str | None, address: str, category: str, since: datetime, limit: int = 10
    ) -> list[Case]:
        """Open cases of a category from the same phone or at the same address since a date."""
        ...

    async def wallboard(self, now: datetime, day_end: datetime) -> Wallboard: ...
