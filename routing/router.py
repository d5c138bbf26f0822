"""One router for every channel: a verified InboundMessage in, what to say back out.

Hot path for a citizen message while the bot serves: the inbound message is stored (its
unique (channel, external_id) makes a provider retry harmless), the bot answers, the reply
is stored. Two database writes; customers and open conversations are served from memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from hub.clock import Clock
from routing import replies
from routing.assignment import Acd
from routing.bot import Bot, BotAnswer, KbDecision
from routing.case_status import CaseStatusDesk
from routing.config import RoutingConfig
from routing.conversation_book import ConversationBook
from routing.conversation_model import (
    WAITING,
    WITH_AGENT,
    Conversation,
    ConversationState,
    Media,
    Priority,
)
from routing.customers import Customer, CustomerRepository
from routing.events import ConversationQueued, EventBus, MessageAdded, SupervisorAlert
from routing.ids import new_id
from routing.messages import (
    DeliveryState,
    Direction,
    InboundMessage,
    MessageRepository,
    SenderKind,
    StoredMessage,
)
from routing.outbox import Outbox
from routing.pending_dialogs import PendingDialogs
from routing.policy import Action, Decision, decide
from routing.timers import Scheduler
from routing.waiting import QueueEntry

log = logging.getLogger(__name__)

ASSIGNED_NOTICE_KEY = "assigned"


@dataclass(frozen=True, slots=True)
class Reply:
    message_id: str
    text: str
    intent: str | None = None
    kb_article_id: str | None = None
    quick_replies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InboundResult:
    conversation_id: str
    state: ConversationState
    message_id: str
    replies: tuple[Reply, ...]
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class _Say:
    text: str
    answer: BotAnswer | None = None
    quick_replies: tuple[str, ...] = ()


class Router:
    def __init__(
        self,
        *,
        config: RoutingConfig,
        customers: CustomerRepository,
        book: ConversationBook,
        messages: MessageRepository,
        bot: Bot,
        acd: Acd,
        outbox: Outbox,
        bus: EventBus,
        clock: Clock,
        scheduler: Scheduler,
        dialogs: PendingDialogs,
        case_status: CaseStatusDesk | None = None,
    ) -> None:
        self.config = config
        self.customers = customers
        self.book = book
        self.messages = messages
        self.bot = bot
        self.acd = acd
        self.outbox = outbox
        self.bus = bus
        self.clock = clock
        self.timers = scheduler
        self.dialogs = dialogs
        self.case_status = case_status
        self._customer_ids: dict[str, str] = {}  # identity key -> customer id
        self._customer_cache: dict[str, Customer] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: defaultdict[str, int] = defaultdict(int)
        self._unsure: dict[str, int] = {}  # conversation -> unsure bot turns in a row
        self._daily: dict[tuple[str, date], int] = {}
        self._awaiting_agent: dict[str, datetime] = {}  # conversation -> customer waits since

    # ------------------------------------------------------------------ inbound

    async def handle_inbound(self, msg: InboundMessage, *, in_band: bool = True) -> InboundResult:
        """Store msg, route it, return what to answer.

        in_band: the channel delivers the returned replies itself (HTTP response, passive
        reply, WebSocket); otherwise they go out through the outbox like agent messages.
        """
        async with self._serialised(msg.identity.key):
            customer = await self._customer(msg)
            conv = await self._conversation_for(customer, msg)
            inbound = _inbound_record(msg, conv, customer)
            if not await self.messages.add(inbound):
                return await self._duplicate(msg, conv, customer, in_band)
            self.book.touch(conv.id, inbound.created_at)
            self.bus.publish(
                MessageAdded(
                    inbound.created_at,
                    conv.id,
                    inbound.id,
                    "customer",
                    customer.id,
                    msg.text,
                    agents=_watchers(conv),
                )
            )
            conv, says = await self._respond(conv, customer, inbound)
            sent = await self._store_replies(conv, inbound, says, in_band)
            return InboundResult(conv.id, conv.state, inbound.id, sent)

    async def _duplicate(
        self, msg: InboundMessage, conv: Conversation, customer: Customer, in_band: bool
    ) -> InboundResult:
        """A provider retry: answer exactly what the first delivery got (or finish it)."""
        first = await self.messages.find_by_external(msg.channel, msg.external_id)
        assert first is not None
        keys = [f"{msg.external_id}:r{i}" for i in range(4)]
        earlier = await self.messages.find_many(msg.channel, keys)
        if not earlier and conv.state is ConversationState.BOT and first.conversation_id == conv.id:
            # The first attempt stored the message but died before answering: answer now.
            conv, says = await self._respond(conv, customer, first)
            sent = await self._store_replies(conv, first, says, in_band)
            return InboundResult(conv.id, conv.state, first.id, sent, duplicate=True)
        sent = tuple(_reply_from_stored(m) for m in earlier)
        return InboundResult(
            first.conversation_id or conv.id, conv.state, first.id, sent, duplicate=True
        )

    async def _respond(
        self, conv: Conversation, customer: Customer, inbound: StoredMessage
    ) -> tuple[Conversation, list[_Say]]:
        refusal = self._refusal(customer, inbound.created_at)
        if refusal:
            return conv, [_Say(refusal)]
        if conv.state in WITH_AGENT:
            self._await_agent(conv)
            return conv, []
        if conv.pending:
            handled = await self.dialogs.handle(self, conv, customer, inbound)
            if handled is not None:
                conv, text, buttons = handled
                return conv, [_Say(text, quick_replies=buttons)]
            conv = await self.book.put(replace(conv, pending=""))
        answer = await self.bot.answer(inbound.text)
        if conv.state in WAITING:
            return await self._while_waiting(conv, answer)
        return await self._bot_turn(conv, customer, answer)

    async def _bot_turn(
        self, conv: Conversation, customer: Customer, answer: BotAnswer
    ) -> tuple[Conversation, list[_Say]]:
        streak = self._unsure.get(conv.id, 0)
        decision = decide(answer, customer, streak, self.config.escalation)
        self._unsure[conv.id] = streak + 1 if decision.unsure else 0
        if decision.action is Action.ESCALATE:
            says = [_Say(answer.text, answer)] if answer.decision is KbDecision.ANSWER else []
            conv, notice = await self.escalate(conv, decision)
            return conv, [*says, notice]
        return conv, [await self._bot_reply(conv, customer, answer)]

    async def _bot_reply(self, conv: Conversation, customer: Customer, answer: BotAnswer) -> _Say:
        if answer.intent == "query_case_status" and self.case_status is not None:
            text = await self.case_status.describe(customer.id, answer.entity("case_no"))
            return _Say(text, answer)
        if answer.decision is KbDecision.ANSWER:
            return _Say(answer.text, answer, (replies.HUMAN_BUTTON,))
        if answer.decision is KbDecision.CLARIFY and answer.choices:
            return _Say(
                replies.clarify(answer.choices), answer, (*answer.choices, replies.HUMAN_BUTTON)
            )
        small_talk = {
            "greet": replies.GREETING,
            "thank": replies.THANKS,
            "goodbye": replies.GOODBYE,
            "affirm": replies.AFFIRM,
            "deny": replies.DENY,
        }
        text = small_talk.get(answer.intent, replies.NOT_UNDERSTOOD)
        return _Say(text, answer, (replies.HUMAN_BUTTON,))

    async def _while_waiting(
        self, conv: Conversation, answer: BotAnswer
    ) -> tuple[Conversation, list[_Say]]:
        """The customer writes while queued: urgent turns jump ahead; the bot keeps answering."""
        esc = self.config.escalation
        if answer.intent in esc.emergency_intents and conv.priority < Priority.EMERGENCY:
            self.acd.withdraw(conv.id, "upgraded")
            decision = Decision(
                Action.ESCALATE, "emergency", esc.emergency_queue, Priority.EMERGENCY
            )
            conv, notice = await self.escalate(conv, decision)
            return conv, [notice]
        position, wait_s = self.acd.position(conv.id)
        waiting = (
            replies.still_waiting(position, wait_s)
            if position
            else "正在为您接通人工客服，请稍候。"
        )
        if answer.decision is KbDecision.ANSWER:
            return conv, [_Say(f"{answer.text}\n\n{waiting}", answer)]
        return conv, [_Say(waiting, answer)]

    async def escalate(self, conv: Conversation, decision: Decision) -> tuple[Conversation, _Say]:
        """Put the conversation in a skills queue (or explain why it can't be, now)."""
        assert decision.queue is not None
        cfg = self.config.queue(decision.queue)
        now = self.clock.now()
        if cfg.hours is not None and not cfg.hours.is_open(now) and not decision.emergency:
            conv = await self.book.put(replace(conv, pending="after_hours", updated_at=now))
            buttons = (replies.LEAVE_BUTTON, replies.CALLBACK_BUTTON)
            return conv, _Say(replies.after_hours(cfg.hours.describe()), quick_replies=buttons)
        waiting_now = len(self.acd.queues[cfg.name])
        if (
            cfg.max_waiting is not None
            and waiting_now >= cfg.max_waiting
            and not decision.emergency
        ):
            conv = await self.book.put(replace(conv, pending="after_hours", updated_at=now))
            return conv, _Say(replies.queue_full(), quick_replies=(replies.CALLBACK_BUTTON,))
        queued_at = conv.queued_at if conv.state in WAITING and conv.queued_at else now
        conv = await self.book.put(
            replace(
                conv,
                state=ConversationState.QUEUED,
                queue=cfg.name,
                priority=int(decision.priority),
                queued_at=queued_at,
                escalation_reason=decision.reason,
                updated_at=now,
                pending="",
            )
        )
        self.bus.publish(ConversationQueued(now, conv.id, cfg.name, conv.priority, decision.reason))
        if decision.emergency:
            text = f"紧急求助：{decision.reason}，请立即处理"
            self.bus.publish(SupervisorAlert(now, "emergency", conv.id, text))
            log.warning("routing.emergency", extra={"conversation": conv.id, "queue": cfg.name})
        entry = QueueEntry(
            conv.id,
            cfg.name,
            conv.priority,
            queued_at,
            media=conv.media,
            customer_id=conv.customer_id,
        )
        await self.acd.enqueue(entry)
        conv = await self.book.get(conv.id)
        if decision.emergency:
            return conv, _Say(replies.EMERGENCY)
        position, wait_s = self.acd.position(conv.id)
        if not position:
            return conv, _Say("正在为您接通人工客服，请稍候。")
        return conv, _Say(replies.queued(cfg.title, position, wait_s))

    # ------------------------------------------------------------------ helpers

    def _refusal(self, customer: Customer, at: datetime) -> str | None:
        if not customer.is_blacklisted:
            return None
        policy = self.config.blacklist
        if policy.mode == "block":
            return replies.BLOCKED
        key = (customer.id, at.date())
        self._daily[key] = self._daily.get(key, 0) + 1
        return replies.DAILY_LIMIT if self._daily[key] > policy.daily_limit else None

    def _await_agent(self, conv: Conversation) -> None:
        """Start the 'agent must answer within N s' clock unless it is already running."""
        cfg = self.config.queues.get(conv.queue or "")
        if cfg is None or cfg.reply_timeout_s is None or conv.id in self._awaiting_agent:
            return
        now = self.clock.now()
        self._awaiting_agent[conv.id] = now
        when = now + timedelta(seconds=cfg.reply_timeout_s)
        self.timers.call_at(when, f"noreply:{conv.id}", lambda: self._agent_silent(conv.id))

    def agent_answered(self, conversation_id: str) -> None:
        self._awaiting_agent.pop(conversation_id, None)
        self.timers.cancel(f"noreply:{conversation_id}")

    async def _agent_silent(self, conversation_id: str) -> None:
        if self._awaiting_agent.pop(conversation_id, None) is None:
            return
        conv = await self.book.get(conversation_id)
        if conv.state is ConversationState.ASSIGNED and conv.agent:
            log.info(
                "routing.reassign_no_reply", extra={"conversation": conv.id, "agent": conv.agent}
            )
            await self.acd.reclaim(conv.agent, conv.id, "no_reply")

    @asynccontextmanager
    async def _serialised(self, key: str) -> AsyncIterator[None]:
        """One message at a time per customer identity (two first messages, one customer)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[key] -= 1
            if not self._lock_users[key]:
                del self._lock_users[key]
                self._locks.pop(key, None)

    async def _customer(self, msg: InboundMessage) -> Customer:
        cid = self._customer_ids.get(msg.identity.key)
        if cid is not None and cid in self._customer_cache:
            return self._customer_cache[cid]
        customer = await self.customers.get_or_create(msg.identity, name=msg.display_name)
        self._customer_ids[msg.identity.key] = customer.id
        self._customer_cache[customer.id] = customer
        return customer

    def forget_customer(self, customer_id: str) -> None:
        """Drop a cached customer after tags, identities or a merge changed it."""
        self._customer_cache.pop(customer_id, None)
        for key in [k for k, v in self._customer_ids.items() if v == customer_id]:
            del self._customer_ids[key]

    async def _conversation_for(self, customer: Customer, msg: InboundMessage) -> Conversation:
        """The customer's current conversation: the open one, the one closed a moment ago
        (reopened), or a new one."""
        now = self.clock.now()
        conv = await self.book.latest_for(customer.id)
        dirty = False
        if conv is not None and conv.state is ConversationState.BOT:
            idle = (now - await self.book.last_activity(conv)).total_seconds()
            if idle > self.config.bot_idle_close_s:
                closed = replace(
                    conv, state=ConversationState.CLOSED, closed_at=now, updated_at=now
                )
                await self.book.put(closed)
                conv = None
        elif conv is not None and not conv.is_open:
            since = (now - (conv.closed_at or conv.updated_at)).total_seconds()
            if since <= self.config.reopen_window_s:
                conv = replace(
                    conv, state=ConversationState.BOT, closed_at=None, agent=None, updated_at=now
                )
                self._unsure.pop(conv.id, None)
                dirty = True
                log.info("routing.reopened", extra={"conversation": conv.id})
            else:
                conv = None
        if conv is None:
            conv = await self.book.add(_new_conversation(customer, msg, now))
            log.info(
                "routing.conversation_opened",
                extra={"conversation": conv.id, "channel": msg.channel},
            )
            return conv
        address = (msg.channel, msg.account, msg.identity.value)
        if (conv.last_channel, conv.account, conv.reply_to) != address:
            conv = replace(
                conv, last_channel=msg.channel, account=msg.account, reply_to=msg.identity.value
            )
            dirty = True
        return await self.book.put(conv) if dirty else conv

    async def _store_replies(
        self, conv: Conversation, inbound: StoredMessage, says: list[_Say], in_band: bool
    ) -> tuple[Reply, ...]:
        out: list[Reply] = []
        for i, say in enumerate(s for s in says if s.text):
            meta = [("in_reply_to", inbound.id)]
            if say.answer is not None:
                meta.append(("intent", say.answer.intent))
                if say.answer.decision is KbDecision.ANSWER and say.answer.kb_article_id:
                    meta.append(("kb_article_id", say.answer.kb_article_id))
            if say.quick_replies:
                meta.append(("quick_replies", "\n".join(say.quick_replies)))
            external_id = f"{inbound.external_id}:r{i}"
            message_id = new_id()
            if in_band:
                stored = StoredMessage(
                    id=message_id,
                    conversation_id=conv.id,
                    customer_id=conv.customer_id,
                    channel=inbound.channel,
                    external_id=external_id,
                    direction=Direction.OUTBOUND,
                    sender=SenderKind.BOT,
                    sender_id="bot",
                    text=say.text,
                    created_at=self.clock.now(),
                    delivery=DeliveryState.SENT,
                    meta=tuple(meta),
                )
                if not await self.messages.add(stored):
                    continue
            else:
                await self.outbox.send(
                    conv,
                    say.text,
                    sender=SenderKind.BOT,
                    sender_id="bot",
                    external_id=external_id,
                    message_id=message_id,
                    quick_replies=say.quick_replies,
                    meta=tuple(meta),
                )
            self.bus.publish(
                MessageAdded(
                    self.clock.now(),
                    conv.id,
                    message_id,
                    "bot",
                    "bot",
                    say.text,
                    agents=_watchers(conv),
                )
            )
            out.append(_reply_from_stored_meta(message_id, say.text, dict(meta)))
        return tuple(out)


def _watchers(conv: Conversation) -> tuple[str, ...]:
    return tuple(a for a in (conv.agent, *conv.participants) if a)


def _inbound_record(msg: InboundMessage, conv: Conversation, customer: Customer) -> StoredMessage:
    return StoredMessage(
        id=new_id(),
        conversation_id=conv.id,
        customer_id=customer.id,
        channel=msg.channel,
        external_id=msg.external_id,
        direction=Direction.INBOUND,
        sender=SenderKind.CUSTOMER,
        sender_id=customer.id,
        text=msg.text,
        created_at=msg.received_at,
        kind=msg.kind,
        attachments=msg.attachments,
        meta=msg.meta,
    )


def _new_conversation(customer: Customer, msg: InboundMessage, now: datetime) -> Conversation:
    return Conversation(
        id=new_id(),
        customer_id=customer.id,
        channel=msg.channel,
        media=Media.VOICE if msg.channel == "voice" else Media.CHAT,
        state=ConversationState.BOT,
        created_at=now,
        updated_at=now,
        last_channel=msg.channel,
        account=msg.account,
        reply_to=msg.identity.value,
        tags=customer.tags,
    )


def _reply_from_stored(m: StoredMessage) -> Reply:
    return _reply_from_stored_meta(m.id, m.text, dict(m.meta))


def _reply_from_stored_meta(message_id: str, text: str, meta: dict[str, str]) -> Reply:
    buttons = tuple(b for b in meta.get("quick_replies", "").split("\n") if b)
    return Reply(message_id, text, meta.get("intent"), meta.get("kb_article_id"), buttons)
