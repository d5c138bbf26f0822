"""What a crash interrupts is finished at the next start: a citizen's message stored without
its answer is answered, and a reply stored without being sent is sent, once."""

from dataclasses import replace
from datetime import timedelta

from mongo.client import Database
from primitives.ids import new_id
from routing.conversation_model import ConversationState
from routing.customers import Identity, IdentityKind
from routing.messages import (
    DeliveryState,
    Direction,
    InboundMessage,
    SenderKind,
    StoredMessage,
)
from routing.turns import inbound_record
from tests.routing.conftest import make_hub


async def test_a_message_stored_without_its_answer_is_answered_after_a_restart(db: Database):
    first = await make_hub(db)
    opened = await first.say("v1", "你好", channel="wechat")
    conv = await first.stack.router.book.get(opened.conversation_id)
    customer = await first.stack.router.customers.get(conv.customer_id)
    # The crash: the second message was stored, the process died before the bot answered.
    msg = InboundMessage(
        channel="wechat",
        account="test",
        provider_id="died-here",
        identity=Identity(IdentityKind.REST, "v1"),
        text="宝宝医保怎么办",
        received_at=first.clock.now(),
    )
    assert await first.stack.router.messages.add(inbound_record(msg, conv, customer))
    await first.stack.outbox.close()

    second = await make_hub(db)
    try:
        second.clock.set(first.clock.now() + timedelta(seconds=5))
        since = second.clock.now() - timedelta(minutes=30)
        assert await second.stack.router.answer_unanswered(since) == 1
        assert any("90天内" in t for t in await second.delivered())
        assert await second.stack.router.answer_unanswered(since) == 0  # once
    finally:
        await second.stack.outbox.close()


async def test_a_message_with_an_agent_is_not_answered_by_the_bot_after_a_restart(db: Database):
    first = await make_hub(db)
    opened = await first.say("v1", "你好", channel="wechat")
    conv = await first.stack.router.book.get(opened.conversation_id)
    await first.stack.router.book.put(replace(conv, state=ConversationState.ASSIGNED, agent="a1"))
    customer = await first.stack.router.customers.get(conv.customer_id)
    msg = InboundMessage(
        channel="wechat",
        account="test",
        provider_id="to-the-agent",
        identity=Identity(IdentityKind.REST, "v1"),
        text="师傅什么时候到",
        received_at=first.clock.now(),
    )
    await first.stack.router.messages.add(inbound_record(msg, conv, customer))
    await first.stack.outbox.close()
    second = await make_hub(db)
    try:
        since = second.clock.now() - timedelta(minutes=30)
        assert await second.stack.router.answer_unanswered(since) == 0
    finally:
        await second.stack.outbox.close()


async def test_a_reply_stored_but_not_sent_is_sent_once_after_a_restart(db: Database):
    first = await make_hub(db)
    opened = await first.say("v1", "你好", channel="wechat")
    conv = await first.stack.router.book.get(opened.conversation_id)
    # The crash: the agent's reply was stored as pending, the process died before sending.
    pending = StoredMessage(
        id=new_id(),
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        channel="wechat",
        external_id="agent:a1:k1",
        direction=Direction.OUTBOUND,
        sender=SenderKind.AGENT,
        sender_id="a1",
        text="您好，我是李娜",
        created_at=first.clock.now(),
        delivery=DeliveryState.PENDING,
    )
    assert await first.stack.router.messages.add(pending)
    await first.stack.outbox.close()

    second = await make_hub(db)
    try:
        assert await second.stack.outbox.resume(second.stack.router.book) == 1
        assert await second.delivered() == ["您好，我是李娜"]
        after = await second.stack.router.messages.find_by_external("wechat", "agent:a1:k1")
        assert after is not None
        assert after.delivery is DeliveryState.SENT
        assert await second.stack.outbox.resume(second.stack.router.book) == 0
    finally:
        await second.stack.outbox.close()
