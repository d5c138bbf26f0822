"""The bot answering "where is my case?" — only about the asking customer's own cases."""

from __future__ import annotations

from cases.desk import CaseRepository
from cases.errors import CaseNotFound
from cases.model import Case, CaseState
from primitives.local_time import local_time

STATE_LABELS = {
    CaseState.NEW: "已登记",
    CaseState.ACCEPTED: "已受理",
    CaseState.DISPATCHED: "已派发至承办单位",
    CaseState.CONFIRMED: "承办单位已签收",
    CaseState.IN_PROGRESS: "办理中",
    CaseState.RETURNED: "退回中心重新派发",
    CaseState.REPLIED: "承办单位已回复，待回访",
    CaseState.REVISITED: "已回访",
    CaseState.CLOSED: "已办结",
    CaseState.REOPENED: "重新办理中",
}


# Steps a citizen may be told of (the centre's audits and supervision are internal).
PUBLIC_STEPS = {
    "create": "已登记",
    "accept": "已受理",
    "dispatch": "已派发至承办单位",
    "confirm": "承办单位已签收",
    "start": "承办单位开始办理",
    "reply": "承办单位已回复",
    "revisit": "已回访",
    "close": "已办结",
    "reopen": "重新办理",
}


NO_CASES = "您目前没有登记的工单。如需查询，请提供工单号（如20261124-000123）。"


class CaseStatusDesk:
    def __init__(self, cases: CaseRepository) -> None:
        self._cases = cases

    async def describe(
        self, customer_id: str, case_no: str | None, *, phone: str | None = None
    ) -> str:
        """phone: the customer's proven number (an SMS sender, a verified web-chat visitor):
        cases an agent filed with it as the contact are theirs too."""
        if case_no:
            try:
                case = await self._cases.get(case_no)
            except CaseNotFound:
                case = None
            if case is None or not (
                case.customer_id == customer_id or (phone and case.contact_phone == phone)
            ):
                return (
                    f"没有查到您名下的工单{case_no}，请核对工单号，或回复“转人工”由客服为您查询。"
                )
            return _line(case)
        mine = await self._cases.find_for_customer(customer_id, phone=phone, limit=5)
        if not mine:
            return NO_CASES
        return "您最近的工单：\n" + "\n".join(_line(c) for c in mine)


def _line(case: Case) -> str:
    text = f"工单{case.number}（{case.title}）：{STATE_LABELS[case.state]}"
    if case.state is not CaseState.CLOSED:
        text += f"，预计{local_time(case.due_at)}前办结"
    progress = next((e for e in reversed(case.events) if e.action in PUBLIC_STEPS), None)
    if progress is not None and progress.action != "create":
        text += f"。最新进展：{local_time(progress.at)} {PUBLIC_STEPS[progress.action]}"
    if case.reply and case.state in (CaseState.REPLIED, CaseState.REVISITED, CaseState.CLOSED):
        text += f"。办理结果：{case.reply}"
    return text + "。"
