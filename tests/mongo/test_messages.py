import asyncio
from datetime import UTC, datetime

from mongo.client import Database
from mongo.messages import MongoMessageRepository
from routing.messages import DeliveryState, Direction, SenderKind, StoredMessage


def inbound(mid: str, external_id: str = "gh_demo:7001", channel: str = "wechat") -> StoredMessage:
    return StoredMessage(
        id=mid,
        conversation_id="conv1",
        customer_id="c1",
        channel=channel,
        external_id=external_id,
        direction=Direction.INBOUND,
        sender=SenderKind.CUSTOMER,
        sender_id="c1",
        text="路灯不亮",
        created_at=datetime.now(UTC),
    )


async def test_retried_delivery_is_stored_once(db: Database):
    repo = MongoMessageRepository(db)
    assert await repo.add(inbound("m1")) is True
    assert await repo.add(inbound("m2")) is False  # WeChat resent MsgId 7001
    assert await repo.count("wechat", "gh_demo:7001") == 1


async def test_concurrent_retries_store_one_copy(db: Database):
    repo = MongoMessageRepository(db)
    stored = await asyncio.gather(*(repo.add(inbound(f"m{i}")) for i in range(10)))
    assert stored.count(True) == 1
    assert await repo.count("wechat", "gh_demo:7001") == 1


async def test_same_provider_id_on_another_channel_is_a_different_message(db: Database):
    repo = MongoMessageRepository(db)
    assert await repo.add(inbound("m1", channel="wechat"))
    assert await repo.add(inbound("m2", channel="sms"))


async def test_conversation_messages_page_in_order(db: Database):
    repo = MongoMessageRepository(db)
    for i in range(5):
        await repo.add(inbound(f"m{i}", external_id=f"a:{i}"))
    first = await repo.list_for_conversation("conv1", limit=2)
    rest = await repo.list_for_conversation("conv1", after=first[-1].id)
    assert [m.id for m in first + rest] == ["m0", "m1", "m2", "m3", "m4"]


async def test_delivery_state_is_recorded(db: Database):
    repo = MongoMessageRepository(db)
    await repo.add(inbound("m1"))
    await repo.set_delivery("m1", DeliveryState.FAILED, "45015 out of window")
    stored = await repo.find_by_external("wechat", "gh_demo:7001")
    assert stored is not None
    assert (stored.delivery, stored.error) == (DeliveryState.FAILED, "45015 out of window")
