"""Opening hours of a queue, in local time, with the holiday calendar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from cases.sla import WorkCalendar
from primitives.local_time import LOCAL_TZ

Span = tuple[time, time]


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """weekly[0] is Monday. Holidays are closed; a make-up workday (调休) uses Monday's hours."""

    weekly: Mapping[int, tuple[Span, ...]]
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def spans(self, day: date) -> tuple[Span, ...]:
        if day in self.calendar.extra_workdays:
            return self.weekly.get(0, ())
        if day in self.calendar.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(LOCAL_TZ)
        return any(start <= local.time() < end for start, end in self.spans(local.date()))

    def next_open(self, at: datetime, horizon_days: int = 30) -> datetime | None:
        """The next opening at or after at (None if closed for the whole horizon)."""
        local = at.astimezone(LOCAL_TZ)
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for start, end in sorted(self.spans(day)):
                opening = datetime.combine(day, start, LOCAL_TZ)
                closing = datetime.combine(day, end, LOCAL_TZ)
                if closing > local:
                    return max(opening, local).astimezone(at.tzinfo)
        return None

    def describe(self) -> str:
        """zh-CN summary such as 周一至周五 08:30-17:30."""
        names = "一二三四五六日"
        groups: list[tuple[list[int], tuple[Span, ...]]] = []
        for d in range(7):
            spans = self.weekly.get(d, ())
            if not spans:
                continue
            if groups and groups[-1][1] == spans and groups[-1][0][-1] == d - 1:
                groups[-1][0].append(d)
            else:
                groups.append(([d], spans))
        parts = []
        for days, spans in groups:
            label = f"周{names[days[0]]}" + (f"至周{names[days[-1]]}" if len(days) > 1 else "")
            hours = "、".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
            parts.append(f"{label} {hours}")
        return "；".join(parts) or "暂无服务时间"
