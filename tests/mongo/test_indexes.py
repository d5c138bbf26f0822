from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from pymongo import ASCENDING, IndexModel

from mongo.client import Client, Database
from mongo.customers import MongoCustomerRepository
from mongo.indexes import INDEXES, ensure_indexes
from mongo.messages import MongoMessageRepository
from routing.customers import Identity, IdentityKind
from routing.messages import Direction, SenderKind, StoredMessage


def test_every_unique_index_is_on_one_field():
    """The embedded database checks a compound unique index by reading the whole collection
    on every insert (docs/embedded-database.md): idempotency keys are one string field."""
    compound = [
        (collection, model.document["name"])
        for collection, models in INDEXES.items()
        for model in models
        if model.document.get("unique") and len(model.document["key"]) > 1
    ]
    assert compound == []


@pytest_asyncio.fixture(loop_scope="session")
async def old_db(mongo_client: Client, db_name: str) -> AsyncIterator[Database]:
    """A database as the hub before single-field keys left it (no ensure_indexes yet)."""
    db = mongo_client[db_name]
    now = datetime.now(UTC)
    await db["messages"].create_indexes(
        [
            IndexModel(
                [("channel", ASCENDING), ("external_id", ASCENDING)],
                unique=True,
                name="channel_external",
            )
        ]
    )
    await db["messages"].insert_many(
        [
            {
                "_id": f"{i:024x}",
                "conversation_id": "conv1",
                "customer_id": "c1",
                "channel": "wechat",
                "external_id": f"gh:{i}",
                "direction": "in",
                "sender": "customer",
                "sender_id": "c1",
                "text": "路灯不亮",
                "created_at": now,
                "delivery": "received",
            }
            for i in range(3)
        ]
    )
    await db["customers"].create_indexes(
        [
            IndexModel(
                [("identity_keys", ASCENDING)],
                unique=True,
                name="identity_unique",
                partialFilterExpression={"identity_keys.0": {"$exists": True}},
            )
        ]
    )
    await db["customers"].insert_one(
        {
            "_id": "c1",
            "name": "王阿姨",
            "identities": [{"kind": "phone", "value": "+8613812345678"}],
            "identity_keys": ["phone:+8613812345678"],
            "tags": [],
            "created_at": now,
        }
    )
    await db["case_events"].create_indexes(
        [IndexModel([("case_number", ASCENDING), ("seq", ASCENDING)], unique=True, name="case_seq")]
    )
    await db["canned_replies"].insert_one(
        {"_id": "r1", "owner": "", "shortcut": "hi", "text": "您好", "updated_at": now}
    )
    yield db
    await mongo_client.drop_database(db_name)


async def test_a_database_of_the_previous_schema_is_migrated_at_start(old_db: Database):
    await ensure_indexes(old_db)
    await ensure_indexes(old_db)  # a second start finds nothing to do

    messages = MongoMessageRepository(old_db)
    stored = await messages.find_by_external("wechat", "gh:1")
    assert stored is not None
    assert stored.id == f"{1:024x}"
    retry = StoredMessage(
        id="f" * 24,
        conversation_id="conv1",
        customer_id="c1",
        channel="wechat",
        external_id="gh:1",
        direction=Direction.INBOUND,
        sender=SenderKind.CUSTOMER,
        sender_id="c1",
        text="路灯不亮",
        created_at=datetime.now(UTC),
    )
    assert await messages.add(retry) is False

    customer = await MongoCustomerRepository(old_db).find_by_identity(
        Identity(IdentityKind.PHONE, "+8613812345678")
    )
    assert customer is not None
    assert customer.id == "c1"
    assert "identity_keys" not in await old_db["customers"].find_one({"_id": "c1"})

    assert "channel_external" not in await old_db["messages"].index_information()
    assert "identity_unique" not in await old_db["customers"].index_information()
    assert not (await old_db["case_events"].index_information())["case_seq"].get("unique")
    assert (await old_db["canned_replies"].find_one({"_id": "r1"}))["key"] == "/hi"
