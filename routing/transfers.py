"""Moving a conversation between people: transfer to an agent or a queue (with a note),
invite an expert (three-way), supervisor take-over, and hand-back to the bot.

The agent desk owns a TransferDesk and lends it its checks and notices (DeskChecks).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from primitives.errors import Conflict, NotAllowed
from primitives.ids import new_id
from routing import replies
from routing.agents import Agent, Role
from routing.conversation_model import WITH_AGENT, Conversation, ConversationState
from routing.events import ConversationAssigned, ConversationUnassigned
from routing.messages import StoredMessage
from routing.router import Router
from routing.waiting import QueueEntry, entry_for


class DeskChecks(Protocol):
    """What transfers need from the agent desk that owns them."""

    def agent(self, login: str) -> Agent:
        """The active agent; NotAllowed otherwise."""
        ...

    def require_role(self, login: str, role: Role) -> None:
        """NotAllowed unless login holds role."""
        ...

    async def serving_conversation(self, login: str, conversation_id: str) -> Conversation:
        """The conversation, with an agent and served (or supervised) by login."""
        ...

    async def note(
        self, login: str, conversation_id: str, text: str, *, whisper: bool = False
    ) -> StoredMessage: ...

    async def tell_customer(self, conv: Conversation, text: str, *, key: str) -> None: ...

    async def requeued(self, entry: QueueEntry, reason: str) -> None: ...


class TransferDesk:
    def __init__(self, router: Router, desk: DeskChecks) -> None:
        self._router = router
        self._desk = desk

    async def transfer_to_agent(
        self, login: str, conversation_id: str, target: str, note: str = ""
    ) -> Conversation:
        conv = await self._desk.serving_conversation(login, conversation_id)
        target_seat = self._router.acd.seat(target)
        self._desk.agent(target)
        if target_seat is None or not (target_seat.connected and target_seat.can_take(conv.media)):
            raise Conflict(f"{target} cannot take a conversation now")
        if note:
            await self._desk.note(login, conversation_id, f"转接备注：{note}")
        entry = self._router.acd.detach(login, conversation_id) or entry_for(conv)
        self._router.bus.publish(
            ConversationUnassigned(self._router.clock.now(), conv.id, login, "transferred")
        )
        conv = await self._router.book.put(
            replace(conv, agent=target, updated_at=self._router.clock.now())
        )
        self._router.acd.attach(target, entry)
        await self._router.acd.dispatch()  # login has room again
        await self._desk.tell_customer(
            conv,
            replies.ASSIGNED.format(agent=self._desk.agent(target).name),
            key=f"transfer:{target}:{new_id()}",
        )
        self._router.bus.publish(
            ConversationAssigned(self._router.clock.now(), conv.id, target, conv.queue or "")
        )
        return conv

    async def transfer_to_queue(
        self, login: str, conversation_id: str, queue: str, note: str = ""
    ) -> Conversation:
        conv = await self._desk.serving_conversation(login, conversation_id)
        cfg = self._router.config.queue(queue)
        if note:
            await self._desk.note(login, conversation_id, f"转接备注：{note}")
        entry = self._router.acd.detach(login, conversation_id) or entry_for(conv)
        entry.queue = cfg.name
        entry.excluded = {login}
        self._router.bus.publish(
            ConversationUnassigned(self._router.clock.now(), conv.id, login, "transferred")
        )
        await self._desk.requeued(entry, "transferred")
        await self._desk.tell_customer(
            conv, replies.TRANSFERRED.format(queue=cfg.title), key=f"toqueue:{entry.seq}:{new_id()}"
        )
        await self._router.acd.enqueue(entry, at_head=True)
        return await self._router.book.get(conversation_id)

    async def invite(self, login: str, conversation_id: str, expert: str) -> Conversation:
        conv = await self._desk.serving_conversation(login, conversation_id)
        self._desk.agent(expert)
        if expert in conv.participants or expert == conv.agent:
            return conv
        conv = await self._router.book.put(replace(conv, participants=(*conv.participants, expert)))
        await self._desk.note(
            login, conversation_id, f"邀请{self._desk.agent(expert).name}加入会话"
        )
        return conv

    async def leave(self, login: str, conversation_id: str) -> Conversation:
        conv = await self._router.book.get(conversation_id)
        if login not in conv.participants:
            raise NotAllowed(f"{login} is not a participant of {conversation_id}")
        return await self._router.book.put(
            replace(conv, participants=tuple(p for p in conv.participants if p != login))
        )

    async def take_over(self, supervisor: str, conversation_id: str) -> Conversation:
        self._desk.require_role(supervisor, Role.SUPERVISOR)
        conv = await self._router.book.get(conversation_id)
        if conv.state not in WITH_AGENT or not conv.agent:
            raise Conflict(f"conversation {conversation_id} is not with an agent")
        previous = conv.agent
        entry = self._router.acd.detach(previous, conversation_id) or entry_for(conv)
        self._router.bus.publish(
            ConversationUnassigned(self._router.clock.now(), conv.id, previous, "taken_over")
        )
        conv = await self._router.book.put(
            replace(conv, agent=supervisor, updated_at=self._router.clock.now())
        )
        if self._router.acd.seat(supervisor) is not None:
            self._router.acd.attach(supervisor, entry)
        await self._router.acd.dispatch()  # the previous agent has room again
        self._router.bus.publish(
            ConversationAssigned(self._router.clock.now(), conv.id, supervisor, conv.queue or "")
        )
        return conv

    async def hand_back(self, login: str, conversation_id: str) -> Conversation:
        """The agent returns the customer to the bot."""
        conv = await self._desk.serving_conversation(login, conversation_id)
        self._router.acd.detach(login, conversation_id)
        self._router.bus.publish(
            ConversationUnassigned(self._router.clock.now(), conv.id, login, "handed_to_bot")
        )
        conv = await self._router.book.put(
            replace(
                conv,
                state=ConversationState.BOT,
                agent=None,
                participants=(),
                updated_at=self._router.clock.now(),
            )
        )
        self._router.agent_answered(conv.id)
        await self._router.acd.dispatch()
        await self._desk.tell_customer(conv, replies.BACK_TO_BOT, key=f"bot:{new_id()}")
        return conv
