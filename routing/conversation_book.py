"""Open conversations held in memory and written through to the repository.

The router is the only writer of conversations, so the cache cannot go stale in a single
hub process; the one write that can race with another process (assignment) is a
conditional update in the repository.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime

from routing.conversation_model import Conversation, ConversationRepository, ConversationState
from routing.dialogue_state import DIALOGUE_META, DialogueState
from routing.messages import MessageRepository

_MAX_CACHED = 50_000


class ConversationBook:
    def __init__(self, repo: ConversationRepository, messages: MessageRepository) -> None:
        self._repo = repo
        self._messages = messages
        self._by_id: OrderedDict[str, Conversation] = OrderedDict()
        self._latest: dict[str, str] = {}  # customer_id -> newest conversation id
        self._activity: dict[str, datetime] = {}  # conversation_id -> last message time

    def _remember(self, conv: Conversation) -> Conversation:
        self._by_id[conv.id] = conv
        self._by_id.move_to_end(conv.id)
        current = self._latest.get(conv.customer_id)
        if current is None or current <= conv.id:
            self._latest[conv.customer_id] = conv.id
        while len(self._by_id) > _MAX_CACHED:
            old_id, old = self._by_id.popitem(last=False)
            if self._latest.get(old.customer_id) == old_id:
                del self._latest[old.customer_id]
            self._activity.pop(old_id, None)
        return conv

    async def get(self, conversation_id: str) -> Conversation:
        conv = self._by_id.get(conversation_id)
        if conv is None:
            conv = self._remember(await self._with_dialogue(await self._repo.get(conversation_id)))
        return conv

    def hold(self, conv: Conversation) -> Conversation:
        """Keep a change in memory only: the dialogue state, which the bot's next reply stores
        (routing/turns.py), so a citizen's turn costs no conversation write."""
        return self._remember(conv)

    async def _with_dialogue(self, conv: Conversation) -> Conversation:
        """The dialogue state the newest bot reply carries (newer than the conversation's own
        copy, which is written only with the conversation's other changes)."""
        stored = await self._messages.latest_meta(conv.id, DIALOGUE_META)
        if stored is None:
            return conv
        try:
            return replace(conv, dialogue=DialogueState.from_doc(json.loads(stored)))
        except (ValueError, TypeError, AttributeError):
            return conv

    def cached(self, conversation_id: str) -> Conversation | None:
        return self._by_id.get(conversation_id)

    async def latest_for(self, customer_id: str) -> Conversation | None:
        cid = self._latest.get(customer_id)
        if cid is not None and cid in self._by_id:
            return self._by_id[cid]
        conv = await self._repo.latest_for_customer(customer_id)
        return self._remember(conv) if conv else None

    async def add(self, conv: Conversation) -> Conversation:
        await self._repo.add(conv)
        self.touch(conv.id, conv.created_at)
        return self._remember(conv)

    async def put(self, conv: Conversation) -> Conversation:
        await self._repo.save(conv)
        return self._remember(conv)

    async def assign_if_waiting(
        self, conversation_id: str, agent: str, at: datetime
    ) -> Conversation | None:
        stored = await self._repo.assign_if_waiting(conversation_id, agent, at)
        if stored is None:
            self._by_id.pop(conversation_id, None)  # someone else changed it: reload next time
            return None
        cached = self._by_id.get(conversation_id)
        merged = (
            replace(cached, state=stored.state, agent=agent, updated_at=at) if cached else stored
        )
        return self._remember(merged)

    async def in_states(self, states: frozenset[ConversationState]) -> list[Conversation]:
        return [self._remember(c) for c in await self._repo.in_states(states)]

    def touch(self, conversation_id: str, at: datetime) -> None:
        self._activity[conversation_id] = at

    async def last_activity(self, conv: Conversation) -> datetime:
        at = self._activity.get(conv.id)
        if at is None:
            at = await self._messages.last_at(conv.id) or conv.updated_at
            self._activity[conv.id] = at
        return max(at, conv.updated_at)
