"""Template messages for case events: the citizen hears when their case is accepted,
dispatched, completed, and is asked for the revisit survey."""

from __future__ import annotations

from dataclasses import dataclass

from channels.wechat.api import WeChatApi
from routing.case_model import Case

EVENTS = {
    "accepted": "您的诉求已受理",
    "dispatched": "您的诉求已转交承办单位办理",
    "completed": "您的诉求已办结",
    "revisit": "请对本次诉求办理进行评价：回复1满意、2一般、3不满意",
}


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
        "remark": "如有疑问请拨打12345或在公众号留言。",
    }
    await api.send_template(openid, ids.case_update, data, url)
