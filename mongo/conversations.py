"""Conversations in MongoDB: the record of routing state (queue, place in line, agent)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument

from mongo.client import Database
from routing.conversation_model import (
    WAITING,
    Conversation,
    ConversationState,
    Media,
)
from routing.dialogue_state import DialogueState
from routing.errors import ConversationNotFound


class MongoConversationRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["conversations"]

    async def add(self, conversation: Conversation) -> None:
        await self._col.insert_one(_to_doc(conversation))

    async def get(self, conversation_id: str) -> Conversation:
        doc = await self._col.find_one({"_id": conversation_id})
        if doc is None:
            raise ConversationNotFound(conversation_id)
        return _from_doc(doc)

    async def latest_for_customer(self, customer_id: str) -> Conversation | None:
        cursor = (
            self._col.find({"customer_id": customer_id}).sort("updated_at", DESCENDING).limit(1)
        )
        docs = await cursor.to_list(1)
        return _from_doc(docs[0]) if docs else None

    async def for_customer(self, customer_id: str, *, limit: int = 20) -> list[Conversation]:
        cursor = (
            self._col.find({"customer_id": customer_id}).sort("updated_at", DESCENDING).limit(limit)
        )
        return [_from_doc(d) async for d in cursor]

    async def save(self, conversation: Conversation) -> None:
        """Write every routing field of the conversation (the router is its only writer)."""
        doc = _to_doc(conversation)
        doc.pop("_id")
        await self._col.update_one({"_id": conversation.id}, {"$set": doc})

    async def assign_if_waiting(
        self, conversation_id: str, agent: str, at: datetime
    ) -> Conversation | None:
        """Atomically hand a waiting conversation to agent; None if it is no longer waiting
        (closed meanwhile, or taken by another hub instance)."""
        doc = await self._col.find_one_and_update(
            {"_id": conversation_id, "state": {"$in": [s.value for s in WAITING]}},
            {"$set": {"state": ConversationState.ASSIGNED.value, "agent": agent, "updated_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        return _from_doc(doc) if doc else None

    async def in_states(self, states: frozenset[ConversationState]) -> list[Conversation]:
        cursor = self._col.find({"state": {"$in": [s.value for s in states]}}).sort("queued_at", 1)
        return [_from_doc(d) async for d in cursor]


def _to_doc(c: Conversation) -> dict[str, Any]:
    return {
        "_id": c.id,
        "customer_id": c.customer_id,
        "channel": c.channel,
        "media": c.media.value,
        "state": c.state.value,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "version": c.version,
        "queue": c.queue,
        "priority": c.priority,
        "queued_at": c.queued_at,
        "agent": c.agent,
        "participants": list(c.participants),
        "escalation_reason": c.escalation_reason,
        "closed_at": c.closed_at,
        "wrap_up_code": c.wrap_up_code,
        "last_channel": c.last_channel,
        "account": c.account,
        "reply_to": c.reply_to,
        "rating": c.rating,
        "tags": sorted(c.tags),
        "pending": c.pending,
        "dialogue": c.dialogue.to_doc(),
    }


def _from_doc(d: Mapping[str, Any]) -> Conversation:
    return Conversation(
        id=d["_id"],
        customer_id=d["customer_id"],
        channel=d["channel"],
        media=Media(d.get("media", "chat")),
        state=ConversationState(d["state"]),
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        version=d.get("version", 1),
        queue=d.get("queue"),
        priority=d.get("priority", 0),
        queued_at=d.get("queued_at"),
        agent=d.get("agent"),
        participants=tuple(d.get("participants", ())),
        escalation_reason=d.get("escalation_reason", ""),
        closed_at=d.get("closed_at"),
        wrap_up_code=d.get("wrap_up_code", ""),
        last_channel=d.get("last_channel", ""),
        account=d.get("account", ""),
        reply_to=d.get("reply_to", ""),
        rating=d.get("rating", ""),
        tags=frozenset(d.get("tags", ())),
        pending=d.get("pending", ""),
        dialogue=DialogueState.from_doc(d.get("dialogue")),
    )
