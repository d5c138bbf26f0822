"""Chat transcripts on request, by SMS and/or e-mail. Each goes out like any notification:
stored first, retried, its outcome kept (sms_outbound / mail_outbound). A route with no
transport configured (no SMS channel, no SMTP_HOST) leaves the request pending in
`transcript_requests` for an operator."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from channels.mail import MAILER
from channels.sms import OUTBOUND
from hub.phone import InvalidPhoneNumber, PhoneNumber
from mongo.client import Database
from routing.messages import MessageRepository, SenderKind, StoredMessage
from routing.sla import LOCAL_TZ

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


async def request_transcript(
    app: web.Application,
    db: Database,
    messages: MessageRepository,
    conversation_id: str,
    *,
    email: str,
    phone: str,
) -> TranscriptStatus:
    """Record the request, then send it by every route asked for that is configured."""
    doc = {
        "conversation_id": conversation_id,
        "email": email,
        "phone": phone,
        "status": "pending",
        "at": datetime.now(UTC),
    }
    request_id = (await db["transcript_requests"].insert_one(doc)).inserted_id
    asked = [route for route, address in (("sms", phone), ("email", email)) if address]
    via: list[str] = []
    history: list[StoredMessage] = []
    if asked:
        history = await messages.list_for_conversation(conversation_id, limit=MAX_MAIL_MESSAGES)
    sms = app.get(OUTBOUND)
    to = _e164(phone)
    if to and sms is not None:
        await sms.notify(to, transcript_text(history), "transcript", key=f"transcript:{request_id}")
        via.append("sms")
    mailer = app.get(MAILER)
    if email and mailer is not None:
        await mailer.send(
            email,
            MAIL_SUBJECT,
            transcript_mail(history),
            "transcript",
            key=f"transcript:{request_id}",
        )
        via.append("email")
    status = "pending" if not via else "sent" if len(via) == len(asked) else "partly_sent"
    await db["transcript_requests"].update_one(
        {"_id": request_id}, {"$set": {"status": status, "via": via}}
    )
    log.info("webchat.transcript_requested", extra={"status": status, "via": via})
    return TranscriptStatus(status, tuple(via))


def _e164(phone: str) -> str:
    try:
        return PhoneNumber.parse(phone).e164 if phone else ""
    except InvalidPhoneNumber:
        return ""
