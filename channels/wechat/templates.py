"""Template messages for case events: the citizen hears when their case is accepted,
dispatched, completed, and is asked for the revisit survey."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from cases.model import Case
from channels.revisit import ASK, RevisitSurveys
from channels.wechat.api import WeChatApi, WeChatApiError
from routing.customers import CustomerRepository, IdentityKind
from routing.errors import CustomerNotFound

log = logging.getLogger(__name__)

# case workflow action -> template event
ACTIONS = {"accept": "accepted", "dispatch": "dispatched", "reply": "completed", "close": "closed"}

EVENTS = {
    "accepted": "您的诉求已受理",
    "dispatched": "您的诉求已转交承办单位办理",
    "completed": "您的诉求已办理完毕",
    "closed": "您的诉求已办结",
    "revisit": "请对本次诉求的办理进行评价",
}
REMARK = "如有疑问请拨打12345或在公众号留言。"
# the revisit question goes with the completion notice: one message, answered in the chat
REMARKS = {"completed": ASK, "revisit": ASK}


@dataclass(frozen=True, slots=True)
class TemplateIds:
    """One template id per event, as configured in the official account's back office."""

    case_update: str  # fields: first, keyword1 (case number), keyword2 (status), remark


async def send_case_event(
    api: WeChatApi, ids: TemplateIds, openid: str, case: Case, event: str, url: str = ""
) -> None:
    """Raises WeChatApiError (e.g. 43004: the user does not follow the account)."""
    if event not in EVENTS:
        raise ValueError(f"unknown case event {event!r}")
    data = {
        "first": EVENTS[event],
        "keyword1": case.number,
        "keyword2": case.title,
        "remark": REMARKS.get(event, REMARK),
    }
    await api.send_template(openid, ids.case_update, data, url)


class CaseTemplateNotifier:
    """A CaseDesk listener: the citizen who follows the account gets a template message
    when their case is accepted, dispatched and completed; the completion notice asks for the
    revisit rating (1/2/3 in the chat, see channels/revisit.py). A failed send is logged for
    the agents' attention (the SMS notification, when configured, still goes out)."""

    def __init__(
        self,
        api: WeChatApi,
        ids: TemplateIds,
        customers: CustomerRepository,
        surveys: RevisitSurveys | None = None,
    ) -> None:
        self._api = api
        self._ids = ids
        self._customers = customers
        self._surveys = surveys

    async def __call__(self, case: Case) -> None:
        event = ACTIONS.get(case.events[-1].action) if case.events else None
        if event is None or case.customer_id is None:
            return
        try:
            customer = await self._customers.get(case.customer_id)
        except CustomerNotFound:
            return
        identity = customer.identity(IdentityKind.WECHAT)
        if identity is None:
            return
        openid = identity.value.split(":", 1)[-1]  # "<appid>:<openid>"
        try:
            await send_case_event(self._api, self._ids, openid, case, event)
        except (WeChatApiError, aiohttp.ClientError, TimeoutError) as e:
            log.warning(
                "wechat.template_failed",
                extra={"case": case.number, "event": event, "reason": type(e).__name__},
            )
            return
        if event == "completed" and self._surveys is not None:
            await self._surveys.open(case.number, identity.value)
