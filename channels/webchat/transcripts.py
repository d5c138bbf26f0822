"""Chat transcripts on request. By SMS when the SMS channel is configured (sent like any
notification: stored, rate-limited, retried, receipt kept); e-mail requests stay pending in
`transcript_requests` for an operator, as the hub has no mail server configured."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiohttp import web

from channels.sms import OUTBOUND
from hub.phone import InvalidPhoneNumber, PhoneNumber
from mongo.client import Database
from routing.messages import MessageRepository, SenderKind, StoredMessage

log = logging.getLogger(__name__)

MAX_SMS_CHARS = 600  # about nine SMS segments: the latest part of the chat
SPEAKERS = {SenderKind.CUSTOMER: "我", SenderKind.BOT: "机器人", SenderKind.AGENT: "客服"}


def transcript_text(messages: list[StoredMessage], limit: int = MAX_SMS_CHARS) -> str:
    """The conversation as lines 'speaker：text', newest kept when it has to be cut."""
    lines = [
        f"{SPEAKERS[m.sender]}：{m.text}"
        for m in messages
        if m.channel != "internal" and m.sender in SPEAKERS and m.text
    ]
    head = "【12345热线】您的聊天记录：\n"
    kept: list[str] = []
    size = len(head)
    for line in reversed(lines):
        if size + len(line) + 1 > limit:
            kept.append("……")
            break
        kept.append(line)
        size += len(line) + 1
    return head + "\n".join(reversed(kept))


async def request_transcript(
    app: web.Application,
    db: Database,
    messages: MessageRepository,
    conversation_id: str,
    *,
    email: str,
    phone: str,
) -> str:
    """Record the request and send it by SMS when possible; returns the request's status."""
    outbound = app.get(OUTBOUND)
    status = "pending"
    doc = {
        "conversation_id": conversation_id,
        "email": email,
        "phone": phone,
        "status": status,
        "at": datetime.now(UTC),
    }
    result = await db["transcript_requests"].insert_one(doc)
    to = _e164(phone)
    if to and outbound is not None:
        history = await messages.list_for_conversation(conversation_id, limit=200)
        key = f"transcript:{result.inserted_id}"
        await outbound.notify(to, transcript_text(history), "transcript", key=key)
        status = "sent_by_sms" if not email else "sent_by_sms_email_pending"
        await db["transcript_requests"].update_one(
            {"_id": result.inserted_id}, {"$set": {"status": status}}
        )
    log.info("webchat.transcript_requested", extra={"status": status})
    return status


def _e164(phone: str) -> str:
    try:
        return PhoneNumber.parse(phone).e164 if phone else ""
    except InvalidPhoneNumber:
        return ""
