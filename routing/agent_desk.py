"""What agents and supervisors do to conversations, and how the ACD's decisions land."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from primitives.errors import Conflict, InvalidInput, NotAllowed
from primitives.ids import new_id
from routing import replies
from routing.agents import Agent, AgentRepository, Role
from routing.conversation_model import WAITING, WITH_AGENT, Conversation, ConversationState
from routing.events import (
    ConversationClosed,
    MessageAdded,
)
from routing.messages import Attachment, DeliveryState, Direction, SenderKind, StoredMessage
from routing.presence import AgentStatus
from routing.router import Router
from routing.transfers import TransferDesk
from routing.waiting import QueueEntry, entry_for

log = logging.getLogger(__name__)


class PresenceLog(Protocol):
    async def record(self, login: str, status: str, at: datetime) -> None:
        """Keep sign-in, sign-out and status changes for reports."""
        ...

    async def last(self, login: str) -> str | None:
        """The last status recorded for login, or None."""
        ...


class AgentDesk:
    def __init__(self, router: Router, agents: AgentRepository, presence_log: PresenceLog) -> None:
        self.router = router
        self._agents_repo = agents
        self._presence_log = presence_log
        self._agents: dict[str, Agent] = {}
        self._transfers = TransferDesk(router, self)
        router.acd.bind(self)
        router.acd.signed_out_listeners.append(self._record_signed_out)

    # ---------------------------------------------------------------- AssignmentLog

    async def assigned(self, entry: QueueEntry, agent: str) -> bool:
        r = self.router
        conv = await r.book.assign_if_waiting(entry.conversation_id, agent, r.clock.now())
        if conv is None:
            return False
        name = self._agents[agent].name if agent in self._agents else agent
        await self.tell_customer(
            conv, replies.ASSIGNED.format(agent=name), key=f"assigned:{agent}:{entry.seq}"
        )
        return True

    async def requeued(self, entry: QueueEntry, reason: str) -> None:
        r = self.router
        conv = await r.book.get(entry.conversation_id)
        await r.book.put(
            replace(
                conv,
                state=ConversationState.QUEUED,
                queue=entry.queue,
                priority=entry.priority,
                queued_at=entry.queued_at,
                agent=None,
                updated_at=r.clock.now(),
            )
        )
        r.agent_answered(conv.id)
        if reason in ("no_reply", "disconnected"):
            await self.tell_customer(
                conv, "正在为您转接其他客服，请稍候。", key=f"requeued:{entry.seq}:{reason}"
            )

    # ---------------------------------------------------------------- presence

    async def load_agents(self) -> None:
        for agent in await self._agents_repo.all():
            self._agents[agent.login] = agent
            if agent.active:
                self.router.acd.register(agent)

    def agent(self, login: str) -> Agent:
        agent = self._agents.get(login)
        if agent is None or not agent.active:
            raise NotAllowed(f"{login} is not an active agent")
        return agent

    async def refresh_agent(self, login: str) -> None:
        agent = await self._agents_repo.get(login)
        self._agents[login] = agent
        self.router.acd.register(agent)

    async def set_status(self, login: str, status: AgentStatus) -> None:
        self.agent(login)
        await self.router.acd.set_status(login, status)
        await self._presence_log.record(login, status.value, self.router.clock.now())

    async def connected(self, login: str) -> None:
        await self.router.acd.connection_restored(login)

    def stop(self) -> None:
        """The hub is shutting down: agents' sockets closing now keep their work and status
        for the restart (restore gives them a fresh grace period)."""
        self.router.acd.stopping = True

    async def _record_signed_out(self, login: str) -> None:
        """The grace period passed without a reconnect: signed out, for reports and restarts."""
        await self._presence_log.record(login, AgentStatus.OFFLINE.value, self.router.clock.now())

    async def disconnected(self, login: str) -> None:
        await self.router.acd.connection_lost(login)

    # ---------------------------------------------------------------- offers

    async def accept(self, login: str, conversation_id: str) -> Conversation:
        if not await self.router.acd.accept(login, conversation_id):
            raise Conflict(f"conversation {conversation_id} is no longer offered to {login}")
        return await self.router.book.get(conversation_id)

    async def decline(self, login: str, conversation_id: str) -> None:
        await self.router.acd.decline(login, conversation_id)

    async def pick(self, login: str, conversation_id: str) -> Conversation:
        self.agent(login)
        if not await self.router.acd.pick(login, conversation_id):
            raise Conflict(f"conversation {conversation_id} cannot be picked by {login} now")
        return await self.router.book.get(conversation_id)

    # ---------------------------------------------------------------- messages

    async def reply(
        self, login: str, conversation_id: str, text: str, client_id: str
    ) -> StoredMessage | None:
        """Send text to the customer. client_id makes a retried send a no-op (returns None)."""
        conv = await self.serving_conversation(login, conversation_id)
        text = _clean(text, self.router.config.max_text_chars)
        self.router.agent_answered(conv.id)
        stored = await self.router.outbox.send(
            conv,
            text,
            sender=SenderKind.AGENT,
            sender_id=login,
            sender_name=self.agent(login).name,
            external_id=f"agent:{login}:{client_id}",
            message_id=new_id(),
        )
        if stored is not None:
            self.router.book.touch(conv.id, stored.created_at)
            self._announce(conv, stored)
        return stored

    async def note(
        self, login: str, conversation_id: str, text: str, *, whisper: bool = False
    ) -> StoredMessage:
        """An internal note (agents only); a supervisor's whisper is a note to the agent."""
        conv = await self.router.book.get(conversation_id)
        if whisper:
            self.require_role(login, Role.SUPERVISOR)
        elif not self._may_act(login, conv):
            raise NotAllowed(f"{login} does not serve conversation {conversation_id}")
        text = _clean(text, self.router.config.max_text_chars)
        kind = "whisper" if whisper else "note"
        return await self._internal(conv, text, SenderKind.AGENT, login, kind)

    async def end(self, login: str, conversation_id: str) -> Conversation:
        """The talk is over; the agent writes notes (wrap-up), then closes."""
        conv = await self.serving_conversation(login, conversation_id)
        conv = await self.router.book.put(
            replace(conv, state=ConversationState.WRAP_UP, updated_at=self.router.clock.now())
        )
        self.router.agent_answered(conv.id)
        when = self.router.clock.now() + timedelta(
            seconds=self.router.config.conversation_wrap_up_s
        )
        self.router.timers.call_at(
            when, f"wrapup_close:{conv.id}", lambda: self._auto_close(conv.id, login)
        )
        return conv

    async def close(self, login: str, conversation_id: str, wrap_up_code: str = "") -> Conversation:
        conv = await self.router.book.get(conversation_id)
        waiting = conv.state in WAITING
        if not waiting and not self._may_act(login, conv):
            raise NotAllowed(f"{login} does not serve conversation {conversation_id}")
        if waiting:
            self.require_role(login, Role.SUPERVISOR)
            self.router.acd.withdraw(conversation_id, "closed")
        return await self._close(conv, login, wrap_up_code)

    async def customer_left(self, conversation_id: str) -> None:
        """The citizen closed the chat or hung up."""
        conv = await self.router.book.get(conversation_id)
        if conv.state in WAITING:
            self.router.acd.withdraw(conversation_id, "customer_left")
            await self._close(conv, None, "customer_left")
        elif conv.state is ConversationState.BOT:
            await self._close(conv, None, "customer_left")

    async def _auto_close(self, conversation_id: str, login: str) -> None:
        conv = await self.router.book.get(conversation_id)
        if conv.state is ConversationState.WRAP_UP:
            await self._close(conv, login, conv.wrap_up_code or "auto")

    async def _close(self, conv: Conversation, login: str | None, code: str) -> Conversation:
        now = self.router.clock.now()
        self.router.timers.cancel(f"wrapup_close:{conv.id}")
        self.router.agent_answered(conv.id)
        agent = conv.agent
        closed = await self.router.book.put(
            replace(
                conv,
                state=ConversationState.CLOSED,
                closed_at=now,
                wrap_up_code=code,
                updated_at=now,
            )
        )
        if agent:
            handled = (now - conv.updated_at).total_seconds()
            self.router.acd.learn_handle_time(conv.queue or "", handled)
            await self.router.acd.release(agent, conv.id)
        self.router.bus.publish(ConversationClosed(now, conv.id, agent))
        if login is not None and code != "customer_left":
            await self.tell_customer(closed, replies.CLOSED, key=f"closed:{now.isoformat()}")
        return closed

    # ---------------------------------------------------------------- transfers

    async def transfer_to_agent(
        self, login: str, conversation_id: str, target: str, note: str = ""
    ) -> Conversation:
        return await self._transfers.transfer_to_agent(login, conversation_id, target, note)

    async def transfer_to_queue(
        self, login: str, conversation_id: str, queue: str, note: str = ""
    ) -> Conversation:
        return await self._transfers.transfer_to_queue(login, conversation_id, queue, note)

    async def invite(self, login: str, conversation_id: str, expert: str) -> Conversation:
        return await self._transfers.invite(login, conversation_id, expert)

    async def leave(self, login: str, conversation_id: str) -> Conversation:
        return await self._transfers.leave(login, conversation_id)

    async def take_over(self, supervisor: str, conversation_id: str) -> Conversation:
        return await self._transfers.take_over(supervisor, conversation_id)

    async def hand_back(self, login: str, conversation_id: str) -> Conversation:
        """The agent returns the customer to the bot."""
        return await self._transfers.hand_back(login, conversation_id)

    # ---------------------------------------------------------------- restart

    async def restore(self) -> int:
        """Rebuild queues, agent loads and statuses from the record after a restart. Agents
        are not connected until their inbox reconnects; those who do within the grace period
        keep their status and conversations, the others lose them as after any disconnect."""
        await self.load_agents()
        router = self.router
        waiting = await router.book.in_states(WAITING)
        router.acd.restore([entry_for(c) for c in waiting])
        serving = await router.book.in_states(WITH_AGENT)
        for conv in serving:
            if conv.agent and router.acd.seat(conv.agent) is not None:
                router.acd.attach(conv.agent, entry_for(conv))
        serving_agents = {c.agent for c in serving if c.agent}
        resumed = 0
        for login in sorted(self._agents):
            if router.acd.seat(login) is None:
                continue
            last = await self._presence_log.last(login)
            if last is not None and last != AgentStatus.OFFLINE.value:
                status = AgentStatus(last)
                # Wrap-up ends on a timer that did not survive the restart.
                ready = AgentStatus.READY if status is AgentStatus.WRAP_UP else status
                await router.acd.resume_status(login, ready)
                resumed += 1
            elif login in serving_agents:
                await router.acd.connection_lost(login)
        log.info(
            "routing.restored",
            extra={"waiting": len(waiting), "serving": len(serving), "agents": resumed},
        )
        return len(waiting)

    # ---------------------------------------------------------------- helpers

    async def serving_conversation(self, login: str, conversation_id: str) -> Conversation:
        """The conversation, if it is with an agent and login serves it (or supervises);
        Conflict or NotAllowed otherwise."""
        conv = await self.router.book.get(conversation_id)
        if conv.state not in WITH_AGENT:
            raise Conflict(
                f"conversation {conversation_id} is not with an agent (state {conv.state.value})"
            )
        if not self._may_act(login, conv):
            raise NotAllowed(f"{login} does not serve conversation {conversation_id}")
        return conv

    def _may_act(self, login: str, conv: Conversation) -> bool:
        agent = self.agent(login)
        return login == conv.agent or login in conv.participants or agent.has_role(Role.SUPERVISOR)

    def require_role(self, login: str, role: Role) -> None:
        """NotAllowed unless login is an active agent holding role."""
        if not self.agent(login).has_role(role):
            raise NotAllowed(f"{login} needs the {role.value} role")

    async def add_record(
        self, conversation_id: str, text: str, *, attachments: tuple[Attachment, ...] = ()
    ) -> StoredMessage:
        """A system record in the transcript (a call's recording): staff see it, nobody is
        sent it."""
        conv = await self.router.book.get(conversation_id)
        return await self._internal(
            conv, text, SenderKind.SYSTEM, "system", "record", attachments=attachments
        )

    async def _internal(
        self,
        conv: Conversation,
        text: str,
        sender: SenderKind,
        sender_id: str,
        kind: str,
        *,
        attachments: tuple[Attachment, ...] = (),
    ) -> StoredMessage:
        """A message for the staff only (note, whisper, record): stored and shown live."""
        stored = StoredMessage(
            id=new_id(),
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            channel="internal",
            external_id=new_id(),
            direction=Direction.OUTBOUND,
            sender=sender,
            sender_id=sender_id,
            text=text,
            created_at=self.router.clock.now(),
            kind=kind,
            delivery=DeliveryState.SENT,
            attachments=attachments,
            meta=(("internal", "1"),),
        )
        await self.router.messages.add(stored)
        self._announce(conv, stored, internal=True)
        return stored

    async def tell_customer(self, conv: Conversation, text: str, *, key: str) -> None:
        """A system notice to the customer, sent once per key (and shown to the agents)."""
        stored = await self.router.outbox.send(
            conv,
            text,
            sender=SenderKind.SYSTEM,
            sender_id="system",
            external_id=f"system:{conv.id}:{key}",
            message_id=new_id(),
        )
        if stored is not None:
            self._announce(conv, stored)

    def _announce(
        self, conv: Conversation, stored: StoredMessage, *, internal: bool = False
    ) -> None:
        watchers = tuple(a for a in (conv.agent, *conv.participants) if a)
        self.router.bus.publish(
            MessageAdded(
                stored.created_at,
                conv.id,
                stored.id,
                stored.sender.value,
                stored.sender_id,
                stored.text,
                internal,
                watchers,
            )
        )


def _clean(text: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("the message is empty")
    if len(text) > limit:
        raise InvalidInput(f"the message is longer than {limit} characters")
    return text
