"""Case progress told in the chat the citizen used (web chat, Telegram, the REST channel):
the case number when it is accepted or merged, the department when dispatched, the answer when
replied, the close. SMS and WeChat have their own notices (channels/sms/notify.py,
channels/wechat/templates.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from cases.departments import DepartmentRepository
from cases.errors import DepartmentNotFound
from cases.model import Case
from primitives.errors import NotFound
from primitives.local_time import local_time
from routing.conversation_model import Conversation

log = logging.getLogger(__name__)

CHAT_CHANNELS = frozenset({"webchat", "telegram", "rest"})

ACCEPTED = "您反映的问题已受理，工单号{number}。如需了解进度，请发送“查询工单{number}”。"
MERGED = "您反映的问题与已登记的工单{number}为同一事项，已并入该工单一并办理。"
DISPATCHED = "工单{number}已转交{department}办理，预计{due}前答复。"
REPLIED = "工单{number}已有办理结果：{reply}"
CLOSED = "工单{number}已办结，感谢您对12345热线的支持。"

Tell = Callable[[Conversation, str, str], Awaitable[None]]  # (conversation, text, once-key)
Lookup = Callable[[str], Awaitable[Conversation]]


class CaseNotices:
    def __init__(self, conversation: Lookup, tell: Tell, departments: DepartmentRepository) -> None:
        self._conversation = conversation
        self._tell = tell
        self._departments = departments

    async def __call__(self, case: Case) -> None:
        if not case.events:
            return
        event = case.events[-1]
        conversation_id = dict(event.data).get("conversation_id") or case.conversation_id
        if not conversation_id:
            return
        text = await self._text(case, event.action)
        if text is None:
            return
        try:
            conv = await self._conversation(conversation_id)
        except NotFound:
            return
        if conv.channel not in CHAT_CHANNELS:
            return
        await self._tell(conv, text, f"case:{case.number}:{event.seq}")

    async def _text(self, case: Case, action: str) -> str | None:
        if action == "accept":
            return ACCEPTED.format(number=case.number)
        if action == "merge":
            return MERGED.format(number=case.number)
        if action == "dispatch":
            department = await self._department_name(case.department)
            return DISPATCHED.format(
                number=case.number, department=department, due=local_time(case.due_at)
            )
        if action == "reply":
            return REPLIED.format(number=case.number, reply=_short(case.reply, 200))
        if action == "close":
            return CLOSED.format(number=case.number)
        return None

    async def _department_name(self, code: str | None) -> str:
        if not code:
            return "承办单位"
        try:
            return (await self._departments.get(code)).name
        except DepartmentNotFound:
            return "承办单位"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
