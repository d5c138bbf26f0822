"""The hotline's local time: due dates, business hours and the times told to citizens."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_time(at: datetime) -> str:
    """A moment as a citizen reads it, e.g. 12月04日 14:30."""
    return at.astimezone(LOCAL_TZ).strftime("%m月%d日 %H:%M")
