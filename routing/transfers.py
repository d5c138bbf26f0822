"""Moving a conversation between people: transfer to an agent or a queue (with a note),
invite an expert (three-way), supervisor take-over, and hand-back to the bot.

Mixed into AgentDesk; it uses the desk's checks and notices.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from primitives.errors import Conflict, NotAllowed
from primitives.ids import new_id
from routing import replies
from routing.agents import Role
from routing.conversation_model import WITH_AGENT, Conversation, ConversationState
from routing.events import ConversationAssigned, ConversationUnassigned
from routing.waiting import entry_for

if TYPE_CHECKING:
    from routing.agent_desk import AgentDesk


class TransferDesk:
    async def transfer_to_agent(
        self, login: str, conversation_id: str, target: str, note: str = ""
    ) -> Conversation:
        conv = await self._serving(login, conversation_id)
        target_seat = self.router.acd.presence.seat(target)
        self.agent(target)
        if target_seat is None or not (target_seat.connected and target_seat.can_take(conv.media)):
            raise Conflict(f"{target} cannot take a conversation now")
        if note:
            await self.note(login, conversation_id, f"转接备注：{note}")
        entry = self.router.acd.detach(login, conversation_id) or entry_for(conv)
        self.router.bus.publish(
            ConversationUnassigned(self.router.clock.now(), conv.id, login, "transferred")
        )
        conv = await self.router.book.put(
            replace(conv, agent=target, updated_at=self.router.clock.now())
        )
        self.router.acd.attach(target, entry)
        await self.router.acd.dispatch()  # login has room again
        await self._tell_customer(
            conv,
            replies.ASSIGNED.format(agent=self.agent(target).name),
            key=f"transfer:{target}:{new_id()}",
        )
        self.router.bus.publish(
            ConversationAssigned(self.router.clock.now(), conv.id, target, conv.queue or "")
        )
        return conv

    async def transfer_to_queue(
        self, login: str, conversation_id: str, queue: str, note: str = ""
    ) -> Conversation:
        conv = await self._serving(login, conversation_id)
        cfg = self.router.config.queue(queue)
        if note:
            await self.note(login, conversation_id, f"转接备注：{note}")
        entry = self.router.acd.detach(login, conversation_id) or entry_for(conv)
        entry.queue = cfg.name
        entry.excluded = {login}
        self.router.bus.publish(
            ConversationUnassigned(self.router.clock.now(), conv.id, login, "transferred")
        )
        await self.requeued(entry, "transferred")
        await self._tell_customer(
            conv, replies.TRANSFERRED.format(queue=cfg.title), key=f"toqueue:{entry.seq}:{new_id()}"
        )
        await self.router.acd.enqueue(entry, at_head=True)
        return await self.router.book.get(conversation_id)

    async def invite(
        self: AgentDesk, login: str, conversation_id: str, expert: str
    ) -> Conversation:
        conv = await self._serving(login, conversation_id)
        self.agent(expert)
        if expert in conv.participants or expert == conv.agent:
            return conv
        conv = await self.router.book.put(replace(conv, participants=(*conv.participants, expert)))
        await self.note(login, conversation_id, f"邀请{self.agent(expert).name}加入会话")
        return conv

    async def leave(self: AgentDesk, login: str, conversation_id: str) -> Conversation:
        conv = await self.router.book.get(conversation_id)
        if login not in conv.participants:
            raise NotAllowed(f"{login} is not a participant of {conversation_id}")
        return await self.router.book.put(
            replace(conv, participants=tuple(p for p in conv.participants if p != login))
        )

    async def take_over(self: AgentDesk, supervisor: str, conversation_id: str) -> Conversation:
        self._require(supervisor, Role.SUPERVISOR)
        conv = await self.router.book.get(conversation_id)
        if conv.state not in WITH_AGENT or not conv.agent:
            raise Conflict(f"conversation {conversation_id} is not with an agent")
        previous = conv.agent
        entry = self.router.acd.detach(previous, conversation_id) or entry_for(conv)
        self.router.bus.publish(
            ConversationUnassigned(self.router.clock.now(), conv.id, previous, "taken_over")
        )
        conv = await self.router.book.put(
            replace(conv, agent=supervisor, updated_at=self.router.clock.now())
        )
        if self.router.acd.presence.seat(supervisor) is not None:
            self.router.acd.attach(supervisor, entry)
        await self.router.acd.dispatch()  # the previous agent has room again
        self.router.bus.publish(
            ConversationAssigned(self.router.clock.now(), conv.id, supervisor, conv.queue or "")
        )
        return conv

    async def hand_back(self: AgentDesk, login: str, conversation_id: str) -> Conversation:
        """The agent returns the customer to the bot."""
        conv = await self._serving(login, conversation_id)
        self.router.acd.detach(login, conversation_id)
        self.router.bus.publish(
            ConversationUnassigned(self.router.clock.now(), conv.id, login, "handed_to_bot")
        )
        conv = await self.router.book.put(
            replace(
                conv,
                state=ConversationState.BOT,
                agent=None,
                participants=(),
                updated_at=self.router.clock.now(),
            )
        )
        self.router.agent_answered(conv.id)
        await self.router.acd.dispatch()
        await self._tell_customer(conv, replies.BACK_TO_BOT, key=f"bot:{new_id()}")
        return conv
