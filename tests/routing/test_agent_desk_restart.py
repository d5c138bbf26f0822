"""A restart keeps what agents were doing: their status and their conversations, as long as
their inbox reconnects within the grace period. Each `make_hub` over the same database is a
new hub process (nothing in memory survives)."""

from mongo.client import Database
from routing.conversation_model import ConversationState
from routing.presence import AgentStatus
from tests.routing.conftest import Hub, make_hub

GENERAL = {"general": 5}


async def _serving(hub: Hub) -> str:
    await hub.agent("a1", GENERAL)
    await hub.stack.desk.connected("a1")
    asked = await hub.say("v1", "转人工")
    if asked.state is not ConversationState.ASSIGNED:  # offered rather than auto-assigned
        await hub.stack.desk.accept("a1", asked.conversation_id)
    conv = await hub.stack.router.book.get(asked.conversation_id)
    assert conv.agent == "a1"
    return asked.conversation_id


async def _restart(hub: Hub, db: Database) -> Hub:
    """A graceful shutdown: the desk stops, then every socket closes."""
    hub.stack.desk.stop()
    await hub.stack.desk.disconnected("a1")
    await hub.advance(120)  # whatever the shutdown takes: nothing is reclaimed meanwhile
    await hub.stack.outbox.close()
    return await make_hub(db)


async def test_after_a_restart_an_agent_keeps_status_and_conversations(db: Database):
    first = await make_hub(db)
    cid = await _serving(first)
    second = await _restart(first, db)
    try:
        seat = second.stack.acd.presence.seat("a1")
        assert seat is not None
        assert seat.status is AgentStatus.READY
        assert seat.serves(cid)
        assert not seat.connected
        await second.stack.desk.connected("a1")  # the inbox reconnects
        await second.advance(120)
        conv = await second.stack.router.book.get(cid)
        assert conv.state is ConversationState.ASSIGNED
        assert conv.agent == "a1"
    finally:
        await second.stack.outbox.close()


async def test_an_agent_who_does_not_come_back_loses_the_work_and_is_signed_out(db: Database):
    first = await make_hub(db)
    cid = await _serving(first)
    second = await _restart(first, db)
    try:
        await second.advance(second.stack.router.config.disconnect_grace_s + 1)
        conv = await second.stack.router.book.get(cid)
        assert conv.state is ConversationState.QUEUED
        seat = second.stack.acd.presence.seat("a1")
        assert seat is not None
        assert seat.status is AgentStatus.OFFLINE
    finally:
        await second.stack.outbox.close()
    third = await make_hub(db)  # and a later restart does not sign them back in
    try:
        seat = third.stack.acd.presence.seat("a1")
        assert seat is not None
        assert seat.status is AgentStatus.OFFLINE
    finally:
        await third.stack.outbox.close()


async def test_without_a_shutdown_a_closed_inbox_still_starts_the_grace_period(db: Database):
    hub = await make_hub(db)
    try:
        cid = await _serving(hub)
        await hub.stack.desk.disconnected("a1")
        await hub.advance(hub.stack.router.config.disconnect_grace_s + 1)
        conv = await hub.stack.router.book.get(cid)
        assert conv.state is ConversationState.QUEUED
    finally:
        await hub.stack.outbox.close()
