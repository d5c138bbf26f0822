"""The agent must answer a waiting customer within the queue's reply_timeout_s, or the
conversation goes to another agent (Rocket.Chat and Chatwoot users ask for exactly this)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from primitives.clock import Clock
from routing.assignment import Acd
from routing.config import RoutingConfig
from routing.conversation_book import ConversationBook
from routing.conversation_model import Conversation, ConversationState
from routing.timers import Scheduler

log = logging.getLogger(__name__)


class AgentReplyWatch:
    def __init__(
        self,
        config: RoutingConfig,
        clock: Clock,
        timers: Scheduler,
        book: ConversationBook,
        acd: Acd,
    ) -> None:
        self.config = config
        self.clock = clock
        self.timers = timers
        self.book = book
        self.acd = acd
        self._awaiting_agent: dict[str, datetime] = {}  # conversation -> customer waits since
        self._due: dict[str, datetime] = {}  # conversation -> the agent must answer by

    def customer_waits(self, conv: Conversation) -> None:
        """Start the 'agent must answer within N s' clock unless it is already running."""
        cfg = self.config.queues.get(conv.queue or "")
        if cfg is None or cfg.reply_timeout_s is None or conv.id in self._awaiting_agent:
            return
        now = self.clock.now()
        self._awaiting_agent[conv.id] = now
        when = now + timedelta(seconds=cfg.reply_timeout_s)
        self._due[conv.id] = when
        self.timers.call_at(when, f"noreply:{conv.id}", lambda: self._agent_silent(conv.id))

    def waiting_since(self, conversation_id: str) -> datetime | None:
        """Since when the customer waits for an agent's answer (None: nobody waits)."""
        return self._awaiting_agent.get(conversation_id)

    def reply_due(self, conversation_id: str) -> datetime | None:
        """When the conversation goes to another agent unless its agent answers first."""
        return self._due.get(conversation_id)

    def agent_answered(self, conversation_id: str) -> None:
        self._awaiting_agent.pop(conversation_id, None)
        self._due.pop(conversation_id, None)
        self.timers.cancel(f"noreply:{conversation_id}")

    async def _agent_silent(self, conversation_id: str) -> None:
        self._due.pop(conversation_id, None)
        if self._awaiting_agent.pop(conversation_id, None) is None:
            return
        conv = await self.book.get(conversation_id)
        if conv.state is ConversationState.ASSIGNED and conv.agent:
            log.info(
                "routing.reassign_no_reply", extra={"conversation": conv.id, "agent": conv.agent}
            )
            await self.acd.reclaim(conv.agent, conv.id, "no_reply")
