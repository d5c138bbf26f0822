"""Working-day arithmetic, due dates per case type and the SLA traffic light.

Days are counted in the hotline's local time (Asia/Shanghai) on a calendar with weekends,
public holidays and the make-up working days (调休) that China moves onto weekends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from cases.model import Case, CaseType
from primitives.local_time import LOCAL_TZ
from primitives.yaml_io import load_yaml


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()  # weekend days worked in exchange (调休)

    @classmethod
    def from_lists(cls, holidays: Iterable[date], workdays: Iterable[date]) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local clock time `days` working days after start (end of a working day)."""
        local = start.astimezone(LOCAL_TZ)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)

    def working_days_between(self, start: datetime, end: datetime) -> float:
        """Elapsed working time in days (fractional), counting only working days."""
        if end <= start:
            return 0.0
        cursor = start.astimezone(LOCAL_TZ)
        stop = end.astimezone(LOCAL_TZ)
        total = 0.0
        while cursor < stop:
            next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time(), LOCAL_TZ)
            segment_end = min(next_midnight, stop)
            if self.is_working_day(cursor.date()):
                total += (segment_end - cursor).total_seconds() / 86400
            cursor = segment_end
        return total


def load_calendar(path: Path) -> WorkCalendar:
    """The `calendar:` section (holidays, workdays: lists of ISO dates) of a YAML file such as
    hub/data/routing.yaml; an empty calendar when the file has none."""
    data = load_yaml(path) or {}
    spec = (data.get("calendar") or {}) if isinstance(data, Mapping) else {}
    try:
        return WorkCalendar.from_lists(
            [date.fromisoformat(str(d)) for d in spec.get("holidays") or []],
            [date.fromisoformat(str(d)) for d in spec.get("workdays") or []],
        )
    except ValueError as e:
        raise ValueError(f"{path}: calendar dates must be YYYY-MM-DD ({e})") from None


DEFAULT_DUE_DAYS: Mapping[CaseType, float] = {
    CaseType.CONSULT: 1,
    CaseType.COMPLAINT: 5,
    CaseType.SUGGESTION: 10,
    CaseType.PRAISE: 5,
    CaseType.DOMESTIC_SERVICE_ORDER: 3,
    CaseType.REPAIR: 3,
    CaseType.EMERGENCY: 0,  # measured in hours, see emergency_hours
    CaseType.TODO: 5,  # replaced by remind_at when the case has one
    CaseType.PUBLIC_AFFAIRS: 10,
}


@dataclass(frozen=True, slots=True)
class DuePolicy:
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    due_days: Mapping[CaseType, float] = field(default_factory=lambda: dict(DEFAULT_DUE_DAYS))
    emergency_hours: float = 2.0

    def due_at(
        self, case_type: CaseType, opened: datetime, remind_at: datetime | None = None
    ) -> datetime:
        if case_type is CaseType.EMERGENCY:
            return opened + timedelta(hours=self.emergency_hours)  # emergencies ignore weekends
        if case_type is CaseType.TODO and remind_at is not None:
            return remind_at
        return self.calendar.add_working_days(opened, round(self.due_days[case_type]))

    def dispatch_due(self, case_type: CaseType, dispatched: datetime, days: int | None) -> datetime:
        """The deadline set at dispatch: the catalogue's working days, else the type's."""
        if days is not None and case_type is not CaseType.EMERGENCY:
            return self.calendar.add_working_days(dispatched, days)
        return self.due_at(case_type, dispatched)

    def extend(self, due: datetime, days: int) -> datetime:
        return self.calendar.add_working_days(due, days)


class SlaLight(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Traffic light from the working days a case has been open.

    ≤ green_max_days: green; > yellow_after_days: yellow; > red_after_days: red. Between
    green_max and yellow_after the light turns yellow only when the due date is within
    warn_before_due_days; a case past its due date is red whatever its age.
    """

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    green_max_days: float = 3
    yellow_after_days: float = 5
    red_after_days: float = 7
    warn_before_due_days: float = 1

    def light(self, case: Case, now: datetime) -> SlaLight:
        end = case.closed_at or now
        if end > case.due_at:
            return SlaLight.RED
        age = self.calendar.working_days_between(case.accepted_at or case.created_at, end)
        if age > self.red_after_days:
            return SlaLight.RED
        if age > self.yellow_after_days:
            return SlaLight.YELLOW
        if age <= self.green_max_days:
            return SlaLight.GREEN
        left = self.calendar.working_days_between(end, case.due_at)
        return SlaLight.YELLOW if left <= self.warn_before_due_days else SlaLight.GREEN
