"""The reminder pass: finds cases whose deadline is near or gone (completion, sign-off,
supervision, a todo's reminder time) and raises each alert once per deadline.

The alert is recorded on the case before anyone is told, so two hub processes or a restart
never raise it twice; a deadline that moves (an approved extension, a new dispatch) re-arms it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from cases.model import Case
from primitives.clock import Clock

log = logging.getLogger(__name__)


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"  # 即将超期
    OVERDUE = "overdue"  # 已超期
    SIGN_OFF_LATE = "sign_off_late"  # 签收超时
    SUPERVISE_DUE = "supervise_due"  # 督办到期
    TODO_DUE = "todo_due"  # 待办到期（预约回电等）


# The deadline each alert is about: when it changes, the alert is due again.
DEADLINE_OF: dict[AlertKind, str] = {
    AlertKind.DUE_SOON: "due_at",
    AlertKind.OVERDUE: "due_at",
    AlertKind.SIGN_OFF_LATE: "sign_by",
    AlertKind.SUPERVISE_DUE: "supervise_by",
    AlertKind.TODO_DUE: "remind_at",
}

LABELS: dict[AlertKind, str] = {
    AlertKind.DUE_SOON: "即将超期",
    AlertKind.OVERDUE: "已超期",
    AlertKind.SIGN_OFF_LATE: "签收超时",
    AlertKind.SUPERVISE_DUE: "督办到期",
    AlertKind.TODO_DUE: "待办提醒",
}


@dataclass(frozen=True, slots=True)
class CaseAlert:
    kind: AlertKind
    case: Case
    at: datetime

    @property
    def label(self) -> str:
        return LABELS[self.kind]


AlertListener = Callable[[CaseAlert], Awaitable[None]]


class CaseAlertRepository(Protocol):
    async def alert_candidates(
        self, kind: AlertKind, now: datetime, horizon: datetime, *, limit: int
    ) -> list[Case]:
        """Open cases whose deadline for kind is before horizon (now for all but DUE_SOON)
        and that have not had this alert for that deadline yet."""
        ...

    async def mark_alerted(self, number: str, kind: AlertKind, deadline: datetime) -> bool:
        """Record the alert; False when another pass recorded it first."""
        ...


class CaseReminders:
    def __init__(
        self,
        repo: CaseAlertRepository,
        clock: Clock,
        *,
        warn_before: timedelta = timedelta(hours=4),
        batch: int = 200,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._warn_before = warn_before
        self._batch = batch
        self._listeners: list[AlertListener] = []

    def on_alert(self, listener: AlertListener) -> None:
        self._listeners.append(listener)

    async def run_once(self) -> list[CaseAlert]:
        """One pass over every kind; returns the alerts raised."""
        now = self._clock.now()
        raised: list[CaseAlert] = []
        for kind in AlertKind:
            horizon = now + self._warn_before if kind is AlertKind.DUE_SOON else now
            candidates = await self._repo.alert_candidates(kind, now, horizon, limit=self._batch)
            for case in candidates:
                if kind is AlertKind.DUE_SOON and case.due_at <= now:
                    continue  # already overdue: that alert says it
                deadline = getattr(case, DEADLINE_OF[kind])
                if deadline is None or not await self._repo.mark_alerted(
                    case.number, kind, deadline
                ):
                    continue
                alert = CaseAlert(kind, case, now)
                raised.append(alert)
                await self._tell(alert)
        return raised

    async def _tell(self, alert: CaseAlert) -> None:
        log.info("case.alert", extra={"case": alert.case.number, "kind": alert.kind.value})
        for listener in self._listeners:
            try:
                await listener(alert)
            except Exception:
                log.exception("case.alert_listener_failed", extra={"case": alert.case.number})
