"""Revisit surveys answered from a channel: the citizen was asked (SMS or WeChat) to rate a
completed case with 1/2/3, and the reply is recorded on the case as its revisit.

A redelivered reply (same key) is recognised and not applied twice; a case that was
revisited another way meanwhile keeps what it has (the reply is still thanked). A 1/2/3 sent
after the citizen went on chatting since the survey (the bot offered numbered choices, say)
belongs to that chat, not to the survey."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web

from agent_web.keys import CASE_DESK, CLOCK, CONVERSATIONS, CUSTOMERS, MESSAGES
from cases.desk import CaseDesk
from cases.model import Satisfaction
from cases.workflow import CaseAction, CaseCommand
from channels.keys import SURVEYS
from channels.surveys import SurveyRepository
from primitives.clock import Clock
from primitives.errors import HubError
from routing.conversation_model import ConversationRepository
from routing.customers import CustomerRepository, Identity, IdentityKind
from routing.messages import MessageRepository

log = logging.getLogger(__name__)

ANSWERS = {"1": Satisfaction.SATISFIED, "2": Satisfaction.NEUTRAL, "3": Satisfaction.DISSATISFIED}
SATISFACTION = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.NEUTRAL: "一般",
    Satisfaction.DISSATISFIED: "不满意",
}
ASK = "请对办理结果评价，回复1满意，2一般，3不满意。"
WINDOW = timedelta(days=7)  # a 1/2/3 later than this is an ordinary message

# (address, since) -> whether the citizen at address exchanged chat messages since then
ChattedSince = Callable[[str, datetime], Awaitable[bool]]


def chatted_since(
    customers: CustomerRepository,
    conversations: ConversationRepository,
    messages: MessageRepository,
    kind: IdentityKind,
) -> ChattedSince:
    """Whether the customer holding (kind, address) chatted after a given time."""

    async def check(address: str, since: datetime) -> bool:
        customer = await customers.find_by_identity(Identity(kind, address))
        if customer is None:
            return False
        conv = await conversations.latest_for_customer(customer.id)
        last = await messages.last_at(conv.id) if conv is not None else None
        return last is not None and last > since

    return check


class RevisitSurveys:
    def __init__(
        self,
        repo: SurveyRepository,
        desk: CaseDesk,
        clock: Clock,
        *,
        channel: str,
        label: str,
        chatted: ChattedSince | None = None,
        window: timedelta = WINDOW,
    ) -> None:
        self._repo = repo
        self._desk = desk
        self._clock = clock
        self._channel = channel  # whose surveys, and who the audit trail names: "sms", "wechat"
        self._label = label  # how the comment names the channel: 短信回访, 微信回访
        self._chatted = chatted
        self._window = window

    @classmethod
    def for_channel(
        cls, app: web.Application, channel: str, kind: IdentityKind, label: str
    ) -> RevisitSurveys:
        """The surveys of one channel whose citizens are known by identities of `kind`."""
        chatted = chatted_since(app[CUSTOMERS], app[CONVERSATIONS], app[MESSAGES], kind)
        return cls(
            app[SURVEYS],
            app[CASE_DESK],
            app[CLOCK],
            channel=channel,
            label=label,
            chatted=chatted,
        )

    async def open(self, case_number: str, address: str) -> None:
        await self._repo.open(self._channel, case_number, address, self._clock.now())

    async def answer(self, address: str, text: str, key: str) -> str | None:
        """Record `text` as the answer to the latest survey sent to address. Returns the case
        number, or None when text is no survey answer or nothing awaits one."""
        answer = ANSWERS.get(text.strip())
        if answer is None:
            return None
        since = self._clock.now() - self._window
        survey = await self._repo.latest(self._channel, address, since, key)
        if survey is None:
            return None
        if survey.answer is not None:
            return survey.case_number  # a redelivery of a reply already recorded
        if self._chatted is not None and await self._chatted(address, survey.sent_at):
            return None
        number = survey.case_number
        try:
            await self._desk.act(
                number,
                CaseCommand(
                    CaseAction.REVISIT,
                    actor=self._channel,
                    comment=f"{self._label}：{SATISFACTION[answer]}",
                    satisfaction=answer,
                ),
            )
        except HubError as e:  # revisited by phone meanwhile, reopened …: keep what is there
            log.info("revisit.not_applied", extra={"case": number, "reason": str(e)})
        await self._repo.answer(self._channel, number, answer.value, self._clock.now(), key)
        log.info("revisit.answer", extra={"case": number, "answer": answer.value})
        return number
