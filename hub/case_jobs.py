"""Case work that runs beside the requests: progress notices in the citizen's chat and the
reminder pass over deadlines (every minute), whose alerts go to the staff's live feeds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from agent_web.keys import AGENT_DESK, CASE_DESK, CASES, CLOCK, DEPARTMENTS, EVENTS, ROUTER
from cases.reminders import CaseAlert, CaseReminders
from mongo.cases import MongoCaseRepository
from routing.case_notices import CaseNotices
from routing.conversation_model import Conversation
from routing.events import CaseAlertRaised

log = logging.getLogger(__name__)

REMINDER_PERIOD_S = 60.0
REMINDERS = web.AppKey("case_reminders", CaseReminders)


async def open_case_jobs(app: web.Application) -> AsyncIterator[None]:
    desk = app[AGENT_DESK]

    async def tell(conv: Conversation, text: str, key: str) -> None:
        await desk.tell_customer(conv, text, key=key)

    app[CASE_DESK].on_change(CaseNotices(app[ROUTER].conversation, tell, app[DEPARTMENTS]))
    repo = app[CASES]
    assert isinstance(repo, MongoCaseRepository)
    reminders = CaseReminders(repo, app[CLOCK])
    bus = app[EVENTS]

    async def publish(alert: CaseAlert) -> None:
        case = alert.case
        bus.publish(
            CaseAlertRaised(
                alert.at,
                alert.kind.value,
                alert.label,
                case.number,
                case.title,
                case.created_by,
                case.department,
            )
        )

    reminders.on_alert(publish)
    app[REMINDERS] = reminders
    task = asyncio.get_running_loop().create_task(_every(reminders, REMINDER_PERIOD_S))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _every(reminders: CaseReminders, period_s: float) -> None:
    while True:
        try:
            await reminders.run_once()
        except Exception:  # a database outage: try again next period
            log.exception("case.reminders_failed")
        await asyncio.sleep(period_s)
