"""Chat transcripts on request, by SMS and/or e-mail, only to a number or address the visitor
verified (channels/webchat/verification.py) and a few times an hour per visitor and per
address: a chat can hold a name, an ID number, an address. Each goes out like any
notification: stored first, retried, its outcome kept (sms_outbound / mail_outbound). A
route with no transport configured (no SMS channel, no SMTP_HOST) leaves the request
pending in `transcript_requests` for an operator."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.mail.outbox import MailOutbox
from channels.sms.outbound import SmsOutbound
from channels.webchat.keyed_locks import KeyedLocks
from channels.webchat.records import TranscriptRequest, TranscriptRequestRepository
from channels.webchat.verification import EMAIL, PHONE, ContactVerifier, Destination
from primitives.clock import Clock
from primitives.errors import NotAllowed
from primitives.ids import new_id
from primitives.local_time import LOCAL_TZ
from routing.messages import MessageRepository, SenderKind, StoredMessage

log = logging.getLogger(__name__)

MAX_SMS_CHARS = 600  # about nine SMS segments: the latest part of the chat
MAX_MAIL_MESSAGES = 1000
SPEAKERS = {SenderKind.CUSTOMER: "我", SenderKind.BOT: "机器人", SenderKind.AGENT: "客服"}
SMS_HEAD = "【12345热线】您的聊天记录：\n"
MAIL_SUBJECT = "【12345热线】您的聊天记录"
MAIL_HEAD = "您好！以下是您与12345热线的聊天记录。\n\n"
MAIL_FOOT = "\n\n本邮件由系统自动发送，请勿直接回复。如需帮助，请拨打12345或继续在线咨询。"


@dataclass(frozen=True, slots=True)
class TranscriptStatus:
    status: str  # sent (every route asked for is on its way), partly_sent, pending
    via: tuple[str, ...]  # the routes it went out by: "sms", "email"


def transcript_lines(messages: list[StoredMessage], *, times: bool = False) -> list[str]:
    """'speaker：text' per message the citizen saw (internal notes left out)."""
    return [
        (f"[{m.created_at.astimezone(LOCAL_TZ):%m-%d %H:%M}] " if times else "")
        + f"{SPEAKERS[m.sender]}：{m.text}"
        for m in messages
        if m.channel != "internal" and m.sender in SPEAKERS and m.text
    ]


def transcript_text(messages: list[StoredMessage], limit: int = MAX_SMS_CHARS) -> str:
    """The conversation for an SMS, newest lines kept when it has to be cut."""
    kept: list[str] = []
    size = len(SMS_HEAD)
    for line in reversed(transcript_lines(messages)):
        if size + len(line) + 1 > limit:
            kept.append("……")
            break
        kept.append(line)
        size += len(line) + 1
    return SMS_HEAD + "\n".join(reversed(kept))


def transcript_mail(messages: list[StoredMessage]) -> str:
    """The whole conversation, with times (UTC+8), for an e-mail."""
    return MAIL_HEAD + "\n".join(transcript_lines(messages, times=True)) + MAIL_FOOT


class DestinationNotVerified(NotAllowed):
    def __init__(self, to: Destination) -> None:
        super().__init__(f"{to.kind} {to.masked} is not verified by this visitor")
        self.to = to


class TooManyTranscripts(NotAllowed):
    def __init__(self) -> None:
        super().__init__("too many transcripts this hour")


@dataclass(frozen=True, slots=True)
class TranscriptPolicy:
    per_visitor_hour: int = 3
    per_address_hour: int = 3


@dataclass(frozen=True, slots=True)
class Transports:
    """The outboxes configured now (either may be absent)."""

    sms: SmsOutbound | None
    mail: MailOutbox | None


@dataclass(frozen=True, slots=True)
class TranscriptAsk:
    visitor: str
    conversation_id: str
    to: tuple[Destination, ...]  # at most one phone and one e-mail address


class SendTranscript:
    def __init__(
        self,
        requests: TranscriptRequestRepository,
        messages: MessageRepository,
        verifier: ContactVerifier,
        clock: Clock,
        policy: TranscriptPolicy = TranscriptPolicy(),
    ) -> None:
        self._requests = requests
        self._messages = messages
        self._verifier = verifier
        self._clock = clock
        self._policy = policy
        self._locks = KeyedLocks()

    async def __call__(self, ask: TranscriptAsk, transports: Transports) -> TranscriptStatus:
        """Record the request, then send it by every route asked for that is configured.
        Raises DestinationNotVerified, TooManyTranscripts."""
        for to in ask.to:
            if not await self._verifier.is_verified(ask.visitor, to):
                raise DestinationNotVerified(to)
        phone = next((t.address for t in ask.to if t.kind == PHONE), "")
        email = next((t.address for t in ask.to if t.kind == EMAIL), "")
        async with self._locks.hold(ask.visitor):  # count-then-insert, not overrun in parallel
            now = self._clock.now()
            await self._check_limits(ask.visitor, phone, email, now - timedelta(hours=1))
            request = TranscriptRequest(
                new_id(), ask.conversation_id, ask.visitor, email, phone, now
            )
            await self._requests.add(request)
        history = await self._messages.list_for_conversation(
            ask.conversation_id, limit=MAX_MAIL_MESSAGES
        )
        via: list[str] = []
        key = f"transcript:{request.id}"
        if phone and transports.sms is not None:
            await transports.sms.notify(phone, transcript_text(history), "transcript", key=key)
            via.append("sms")
        if email and transports.mail is not None:
            body = transcript_mail(history)
            await transports.mail.send(email, MAIL_SUBJECT, body, "transcript", key=key)
            via.append("email")
        status = "pending" if not via else "sent" if len(via) == len(ask.to) else "partly_sent"
        await self._requests.settle(request.id, status, tuple(via))
        log.info("webchat.transcript_requested", extra={"status": status, "via": via})
        return TranscriptStatus(status, tuple(via))

    async def _check_limits(self, visitor: str, phone: str, email: str, since: datetime) -> None:
        limit = self._policy
        if await self._requests.count_since(since, visitor=visitor) >= limit.per_visitor_hour:
            raise TooManyTranscripts
        if phone and await self._requests.count_since(since, phone=phone) >= limit.per_address_hour:
            raise TooManyTranscripts
        if email and await self._requests.count_since(since, email=email) >= limit.per_address_hour:
            raise TooManyTranscripts
