"""Case progress by SMS (from the hotline manuals): the citizen at accepted, dispatched,
completed (with the revisit question 1/2/3) and closed, the department when a case is
dispatched to it.
Each notification is keyed by the case event, so replaying an event never sends it twice."""

from __future__ import annotations

import logging

from cases.departments import DepartmentRepository
from cases.errors import DepartmentNotFound
from cases.model import Case
from channels.revisit import RevisitSurveys
from channels.sms import texts
from channels.sms.outbound import SmsOutbound
from primitives.local_time import LOCAL_TZ

log = logging.getLogger(__name__)


class CaseNotifier:
    def __init__(
        self,
        outbound: SmsOutbound,
        surveys: RevisitSurveys,
        departments: DepartmentRepository,
    ) -> None:
        self._outbound = outbound
        self._surveys = surveys
        self._departments = departments

    async def __call__(self, case: Case) -> None:
        event = case.events[-1] if case.events else None
        if event is None:
            return
        if event.action == "accept":
            await self._citizen(case, event.seq, "accepted", texts.ACCEPTED.format(**_fields(case)))
        elif event.action == "dispatch":
            name, phone = await self._department(case.department)
            fields = {**_fields(case), "department": name}
            await self._citizen(case, event.seq, "dispatched", texts.DISPATCHED.format(**fields))
            if phone:
                await self._outbound.notify(
                    phone,
                    texts.DEPARTMENT.format(**fields),
                    "department",
                    case_number=case.number,
                    key=f"{case.number}:{event.seq}:department",
                    respect_opt_out=False,  # staff on duty, not a citizen
                )
        elif event.action == "reply":
            reply = _short(case.reply or "已答复", 120)
            sent = await self._citizen(
                case, event.seq, "completed", texts.COMPLETED.format(**_fields(case), reply=reply)
            )
            if sent and case.contact_phone:
                await self._surveys.open(case.number, case.contact_phone)
        elif event.action == "close":
            await self._citizen(case, event.seq, "closed", texts.CLOSED.format(**_fields(case)))

    async def _citizen(self, case: Case, seq: int, purpose: str, text: str) -> bool:
        if not case.contact_phone:
            return False
        record = await self._outbound.notify(
            case.contact_phone,
            text,
            purpose,
            case_number=case.number,
            key=f"{case.number}:{seq}:{purpose}",
        )
        return record is not None and record.state != "skipped"

    async def _department(self, code: str | None) -> tuple[str, str | None]:
        if not code:
            return "承办单位", None
        try:
            dept = await self._departments.get(code)
        except DepartmentNotFound:
            log.warning("sms.unknown_department", extra={"department": code})
            return code, None
        return dept.name, dept.phone


def _fields(case: Case) -> dict[str, str]:
    return {
        "number": case.number,
        "title": _short(case.title, 30),
        "due": case.due_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M"),
    }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
