"""Inbound SMS: delivery receipts, concatenated parts, opt-out (退订/TD) and opt-in (订阅),
revisit answers (1/2/3), and everything else to the router as the customer's message.

SMPP's deliver_sm carries no message id, so a redelivery (our ack was lost) is recognised by
its content within a short window; the record is marked done only after the message was
fully handled, so a crash in between is finished by the redelivery instead of being lost.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from smpplib.command import Command

from channels.revisit import RevisitSurveys
from channels.sms import pdu, texts
from channels.sms.keywords import fold, is_opt_in, is_opt_out
from channels.sms.outbound import SmsOutbound
from channels.sms.records import SmsRepository
from primitives.clock import Clock
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from routing.customers import Identity, IdentityKind
from routing.messages import InboundMessage
from routing.router import Router

log = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_TEXT = 2000


class SmsInbox:
    def __init__(
        self,
        repo: SmsRepository,
        router: Router,
        outbound: SmsOutbound,
        surveys: RevisitSurveys,
        clock: Clock,
        *,
        account: str = "12345",
        redelivery_window: timedelta = timedelta(minutes=10),
    ) -> None:
        self._repo = repo
        self._router = router
        self._outbound = outbound
        self._surveys = surveys
        self._clock = clock
        self.account = account
        self._redelivery_window = redelivery_window

    async def on_deliver(self, req: Command) -> None:
        """An SMPP deliver_sm; returns once it is stored (raise: the SMSC redelivers)."""
        text, concat = pdu.decode_short_message(req)
        if (req.esm_class or 0) & pdu.RECEIPT:
            await self._outbound.on_receipt(pdu.parse_receipt(req, text))
            return
        try:
            phone = PhoneNumber.parse(pdu.as_str(req.source_addr)).e164
        except InvalidPhoneNumber:
            log.info("sms.bad_source")  # acknowledged: a redelivery would not fix it
            return
        now = self._clock.now()
        group = ""
        if concat is not None:
            group = f"{phone}:{concat.ref}:{concat.total}"
            await self._repo.add_part(group, concat.index, concat.total, text, now)
            whole = await self._repo.whole(group, concat.total)
            if whole is None:
                return  # the part is stored; the message is handled with its last part
            text = whole
        key = hashlib.sha256(f"{phone}|{pdu.as_str(req.destination_addr)}|{group}|{text}".encode())
        await self.receive_once(phone, text, key.hexdigest(), self._redelivery_window)
        if group:
            await self._repo.drop_parts(group)

    async def receive_once(self, phone: str, text: str, key: str, window: timedelta) -> None:
        """receive() unless the message with this key was fully handled within window."""
        seen = await self._repo.seen(key, self._clock.now(), window)
        if not seen.done:
            await self.receive(phone, text, seen.id)
            await self._repo.done(seen.id)

    async def receive(self, phone: str, text: str, provider_id: str) -> None:
        """One whole inbound SMS from phone (E.164); provider_id is unique per message."""
        if is_opt_out(text):
            await self._repo.opt_out(phone, self._clock.now())
            await self._confirm(phone, texts.OPTED_OUT, "opt_out", provider_id)
            log.info("sms.opt_out", extra={"to": str(PhoneNumber(phone))})
            return
        if is_opt_in(text):
            await self._repo.opt_in(phone)
            await self._confirm(phone, texts.OPTED_IN, "opt_in", provider_id)
            return
        if await self._surveys.answer(phone, fold(text), key=provider_id):  # "１。" is 1
            await self._confirm(phone, texts.SURVEY_THANKS, "survey_thanks", provider_id)
            return
        await self._router.handle_inbound(
            InboundMessage(
                channel=CHANNEL,
                account=self.account,
                provider_id=provider_id,
                identity=Identity(IdentityKind.PHONE, phone),
                text=text[:MAX_TEXT],
                received_at=self._clock.now(),
            ),
            in_band=False,  # replies go out through the outbox as SMS
        )

    async def _confirm(self, phone: str, text: str, purpose: str, provider_id: str) -> None:
        await self._outbound.notify(
            phone, text, purpose, key=f"{purpose}:{provider_id}", respect_opt_out=False
        )
