"""Domain values as the inbox's JSON. Text goes out as data; the browser never parses it as
HTML (textContent only), so nothing is escaped here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cases.model import Case
from routing.conversation_model import Conversation
from routing.customers import Customer, Identity, IdentityKind
from routing.messages import Attachment, DeliveryState, Direction, SenderKind, StoredMessage
from routing.waiting import QueueEntry


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def conversation_json(
    conv: Conversation,
    customer: Customer | None = None,
    last: StoredMessage | None = None,
    *,
    waiting_since: datetime | None = None,
    reply_due: datetime | None = None,
) -> dict[str, Any]:
    """waiting_since / reply_due: the customer waits for the agent's answer since then, and the
    conversation goes to another agent at reply_due unless the agent answers first."""
    return {
        "id": conv.id,
        "channel": conv.last_channel or conv.channel,
        "first_channel": conv.channel,
        "media": conv.media.value,
        "state": conv.state.value,
        "queue": conv.queue,
        "priority": conv.priority,
        "agent": conv.agent,
        "participants": list(conv.participants),
        "escalation_reason": conv.escalation_reason,
        "created_at": iso(conv.created_at),
        "updated_at": iso(conv.updated_at),
        "queued_at": iso(conv.queued_at),
        "closed_at": iso(conv.closed_at),
        "wrap_up_code": conv.wrap_up_code,
        "customer": customer_json(customer) if customer else {"id": conv.customer_id},
        "last_message": _preview(last) if last else None,
        "awaiting_reply_since": iso(waiting_since),
        "reply_due_at": iso(reply_due),
    }


def _preview(m: StoredMessage) -> dict[str, Any]:
    return {"sender": m.sender.value, "text": m.text[:120], "at": iso(m.created_at)}


def customer_json(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "tags": sorted(c.tags),
        "identities": [identity_json(i) for i in c.identities],
    }


def identity_json(identity: Identity) -> dict[str, str]:
    """Kind and a display value; phone digits are masked (the case form gets them apart)."""
    if identity.kind is IdentityKind.PHONE:
        shown = str(identity).removeprefix("phone:")
    elif identity.kind is IdentityKind.WECHAT:
        shown = identity.value.rsplit(":", 1)[-1]
    else:
        shown = identity.value
    return {"kind": identity.kind.value, "value": shown}


def entry_json(entry: QueueEntry, position: int, now: datetime) -> dict[str, Any]:
    return {
        "conversation_id": entry.conversation_id,
        "queue": entry.queue,
        "position": position,
        "priority": entry.priority,
        "media": entry.media.value,
        "queued_at": iso(entry.queued_at),
        "waited_s": max(0, int((now - entry.queued_at).total_seconds())),
    }


def message_json(m: StoredMessage, nlu: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = dict(m.meta)
    out: dict[str, Any] = {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "channel": m.channel,
        "direction": m.direction.value,
        "sender": m.sender.value,
        "sender_id": m.sender_id if m.sender is not SenderKind.CUSTOMER else "",
        "text": m.text,
        "kind": m.kind,
        "internal": m.channel == "internal",
        "created_at": iso(m.created_at),
        "delivery": m.delivery.value,
        "attachments": [attachment_json(a) for a in m.attachments],
    }
    if m.delivery is DeliveryState.FAILED:
        out["error"] = m.error  # why the citizen did not get it, for the agent (zh-CN)
    if m.sender is SenderKind.BOT and "intent" in meta:
        out["bot"] = bot_meta(meta)
    if nlu is not None:
        out["nlu"] = nlu
    return out


def attachment_json(a: Attachment) -> dict[str, Any]:
    """A citizen's file; its url only when the hub serves it itself (a same-origin path, which
    checks who may download it), never a provider's address."""
    served = ("/webchat/files/", "/api/v1/recordings/")  # both check who may download
    url = a.url if a.url.startswith(served) else ""
    return {"kind": a.kind, "name": a.name, "mime": a.mime, "size": a.size, "url": url}


def bot_meta(meta: dict[str, str]) -> dict[str, Any]:
    """What the bot understood, from a bot reply's meta."""
    try:
        confidence: float | None = float(meta.get("confidence", ""))
    except ValueError:
        confidence = None
    return {
        "intent": meta.get("intent", ""),
        "confidence": confidence,
        "entities": entities(meta),
        "kb_article_id": meta.get("kb_article_id"),
    }


def entities(meta: dict[str, str]) -> dict[str, str]:
    try:
        found = json.loads(meta.get("entities") or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if v is not None}


def transcript_json(messages: Sequence[StoredMessage]) -> list[dict[str, Any]]:
    """Messages oldest first; each customer message carries what the bot understood of it
    (the meta of the bot reply that answered it)."""
    understood: dict[str, dict[str, Any]] = {}
    for m in messages:
        meta = dict(m.meta)
        if m.sender is SenderKind.BOT and "intent" in meta and meta.get("in_reply_to"):
            understood.setdefault(meta["in_reply_to"], bot_meta(meta))
    return [
        message_json(m, understood.get(m.id) if m.direction is Direction.INBOUND else None)
        for m in messages
    ]


def case_json(c: Case, category_label: str = "") -> dict[str, Any]:
    return {
        "number": c.number,
        "type": c.type.value,
        "state": c.state.value,
        "title": c.title,
        "category": list(c.category),
        "category_label": category_label,
        "channel": c.channel,
        "conversation_id": c.conversation_id,
        "department": c.department,
        "created_at": iso(c.created_at),
        "due_at": iso(c.due_at),
        "version": c.version,
    }
