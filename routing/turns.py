"""One customer turn: what is stored for it and what goes back (the router's records)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from primitives.clock import Clock
from primitives.ids import new_id
from routing.bot import BotAnswer, KbDecision
from routing.conversation_model import Conversation, ConversationState, Media
from routing.customers import Customer
from routing.dialogue_state import DIALOGUE_META, DialogueState
from routing.events import EventBus, MessageAdded
from routing.messages import (
    DeliveryState,
    Direction,
    InboundMessage,
    MessageRepository,
    SenderKind,
    StoredMessage,
)
from routing.outbox import Outbox


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
class Say:
    text: str
    answer: BotAnswer | None = None
    quick_replies: tuple[str, ...] = ()


class ReplyStore:
    def __init__(
        self, messages: MessageRepository, outbox: Outbox, bus: EventBus, clock: Clock
    ) -> None:
        self._messages = messages
        self._outbox = outbox
        self._bus = bus
        self._clock = clock

    async def store(
        self, conv: Conversation, inbound: StoredMessage, says: list[Say], in_band: bool
    ) -> tuple[Reply, ...]:
        """Store the bot's replies to inbound (sent in band, or through the outbox)."""
        out: list[Reply] = []
        spoken = [s for s in says if s.text]
        for i, say in enumerate(spoken):
            meta = [("in_reply_to", inbound.id)]
            if i == len(spoken) - 1 and conv.dialogue != DialogueState():
                # the state the bot leaves, restored from here after a restart
                meta.append((DIALOGUE_META, json.dumps(conv.dialogue.to_doc(), ensure_ascii=False)))
            if say.answer is not None:
                meta.append(("intent", say.answer.intent))
                meta.append(("confidence", f"{say.answer.confidence:.3f}"))
                if say.answer.entities:
                    meta.append(
                        ("entities", json.dumps(dict(say.answer.entities), ensure_ascii=False))
                    )
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
                    created_at=self._clock.now(),
                    delivery=DeliveryState.SENT,
                    meta=tuple(meta),
                )
                if not await self._messages.add(stored):
                    continue
            else:
                await self._outbox.send(
                    conv,
                    say.text,
                    sender=SenderKind.BOT,
                    sender_id="bot",
                    external_id=external_id,
                    message_id=message_id,
                    quick_replies=say.quick_replies,
                    meta=tuple(meta),
                )
            self._bus.publish(
                MessageAdded(
                    self._clock.now(),
                    conv.id,
                    message_id,
                    "bot",
                    "bot",
                    say.text,
                    agents=watchers(conv),
                )
            )
            out.append(reply_from_meta(message_id, say.text, dict(meta)))
        return tuple(out)


def watchers(conv: Conversation) -> tuple[str, ...]:
    """Agents who see the conversation live: the serving agent and invited experts."""
    return tuple(a for a in (conv.agent, *conv.participants) if a)


def inbound_record(msg: InboundMessage, conv: Conversation, customer: Customer) -> StoredMessage:
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


def new_conversation(customer: Customer, msg: InboundMessage, now: datetime) -> Conversation:
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


def reply_from_stored(m: StoredMessage) -> Reply:
    return reply_from_meta(m.id, m.text, dict(m.meta))


def reply_from_meta(message_id: str, text: str, meta: dict[str, str]) -> Reply:
    buttons = tuple(b for b in meta.get("quick_replies", "").split("\n") if b)
    return Reply(message_id, text, meta.get("intent"), meta.get("kb_article_id"), buttons)
