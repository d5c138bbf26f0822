"""Small bot dialogs that span turns: after hours, leave a message or book a callback."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from cases.desk import CaseDesk
from cases.model import CaseType, NewCase
from primitives.clock import Clock
from primitives.local_time import local_time
from primitives.phone import PhoneNumber
from routing import replies
from routing.config import RoutingConfig
from routing.conversation_model import Conversation
from routing.customers import Customer, IdentityKind
from routing.messages import StoredMessage

_LEAVE_WORDS = ("留言", "留个言")
_CALLBACK_WORDS = ("回电", "预约回电", "回拨", "打给我")
CALLBACK_QUEUE = "callback"

Outcome = tuple[Conversation, str, tuple[str, ...]]


class DialogRouter(Protocol):
    """What the dialogs need from the router that hands them a message."""

    @property
    def config(self) -> RoutingConfig: ...

    @property
    def clock(self) -> Clock: ...

    async def save_conversation(self, conversation: Conversation) -> Conversation: ...

    def callback_at(self) -> datetime: ...


class PendingDialogs:
    def __init__(self, cases: CaseDesk) -> None:
        self._cases = cases

    @property
    def cases(self) -> CaseDesk:
        return self._cases

    async def handle(
        self, router: DialogRouter, conv: Conversation, customer: Customer, inbound: StoredMessage
    ) -> Outcome | None:
        """The reply for a message that answers a pending question; None when the customer
        moved on (the bot then handles the message as usual)."""
        text = inbound.text.strip()
        if conv.pending == "after_hours":
            if any(w in text for w in _LEAVE_WORDS):
                return await _set(router, conv, "leave_message"), replies.LEAVE_MESSAGE_ASK, ()
            if any(w in text for w in _CALLBACK_WORDS):
                return await self._callback(router, conv, customer, None)
            return None
        if conv.pending == "leave_message":
            case = await self._cases.open(
                NewCase(
                    type=CaseType.CONSULT,
                    title=text[:40],
                    description=text,
                    customer_id=customer.id,
                    conversation_id=conv.id,
                    channel=inbound.channel,
                    contact_phone=_phone_of(customer),
                ),
                actor="bot",
            )
            return (
                await _set(router, conv, ""),
                replies.LEAVE_MESSAGE_DONE.format(case=case.number),
                (),
            )
        if conv.pending == "callback_phone":
            try:
                phone = PhoneNumber.parse(text)
            except ValueError:
                return None
            return await self._callback(router, conv, customer, phone)
        return None

    async def _callback(
        self,
        router: DialogRouter,
        conv: Conversation,
        customer: Customer,
        phone: PhoneNumber | None,
    ) -> Outcome:
        number = phone.e164 if phone else _phone_of(customer)
        if number is None:
            return await _set(router, conv, "callback_phone"), replies.CALLBACK_NEED_PHONE, ()
        # A typed number is where to call back (the case's contact), never an identity: a
        # later SMS from that number must not join a history it never proved to own.
        when = router.callback_at()
        case = await self._cases.open(
            NewCase(
                type=CaseType.TODO,
                title="预约回电",
                description=f"市民预约回电（{conv.channel}）",
                customer_id=customer.id,
                conversation_id=conv.id,
                channel=conv.channel,
                contact_phone=number,
                remind_at=when,
            ),
            actor="bot",
        )
        text = replies.CALLBACK_DONE.format(case=case.number, when=local_time(when))
        return await _set(router, conv, ""), text, ()


async def _set(router: DialogRouter, conv: Conversation, pending: str) -> Conversation:
    return await router.save_conversation(
        replace(conv, pending=pending, updated_at=router.clock.now())
    )


def _phone_of(customer: Customer) -> str | None:
    identity = customer.identity(IdentityKind.PHONE)
    return identity.value if identity else None
