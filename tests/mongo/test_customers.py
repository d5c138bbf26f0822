import asyncio
from datetime import UTC, datetime

import pytest

from mongo.client import Database
from mongo.customers import MongoCustomerRepository
from mongo.messages import MongoMessageRepository
from routing.customers import Identity, IdentityKind
from routing.errors import AlreadyMerged, CustomerNotFound, IdentityTaken
from routing.messages import Direction, SenderKind, StoredMessage

PHONE = Identity(IdentityKind.PHONE, "+8613812345678")
OPENID = Identity(IdentityKind.WECHAT, "wx_demo:o_abc123")
TG = Identity(IdentityKind.TELEGRAM, "777001")


async def test_first_contact_creates_a_customer_and_later_contacts_find_it(db: Database):
    repo = MongoCustomerRepository(db)
    first = await repo.get_or_create(PHONE, name="王阿姨")
    again = await repo.get_or_create(PHONE)
    assert again.id == first.id
    assert again.name == "王阿姨"


async def test_concurrent_first_messages_create_one_customer(db: Database):
    repo = MongoCustomerRepository(db)
    results = await asyncio.gather(*(repo.get_or_create(OPENID) for _ in range(20)))
    assert len({c.id for c in results}) == 1
    assert await db["customers"].count_documents({}) == 1


async def test_one_customer_holds_many_identities(db: Database):
    repo = MongoCustomerRepository(db)
    c = await repo.get_or_create(PHONE)
    await repo.add_identity(c.id, OPENID)
    c = await repo.add_identity(c.id, TG)
    assert {i.kind for i in c.identities} == {
        IdentityKind.PHONE,
        IdentityKind.WECHAT,
        IdentityKind.TELEGRAM,
    }
    assert (await repo.find_by_identity(TG)).id == c.id


async def test_an_identity_cannot_belong_to_two_customers(db: Database):
    repo = MongoCustomerRepository(db)
    a = await repo.get_or_create(PHONE)
    b = await repo.get_or_create(OPENID)
    with pytest.raises(IdentityTaken) as err:
        await repo.add_identity(b.id, PHONE)
    assert a.id in str(err.value)
    assert "13812345678" not in str(err.value)  # the phone is masked in the message


async def test_merge_keeps_identities_tags_and_history(db: Database):
    repo = MongoCustomerRepository(db)
    messages = MongoMessageRepository(db)
    by_phone = await repo.get_or_create(PHONE, name="王阿姨")
    by_wechat = await repo.get_or_create(OPENID)
    await repo.set_tags(by_wechat.id, frozenset({"elderly"}))
    for i, owner in enumerate((by_phone, by_wechat)):
        await messages.add(
            StoredMessage(
                id=f"m{i}",
                conversation_id=f"conv{i}",
                customer_id=owner.id,
                channel="wechat",
                external_id=f"x:{i}",
                direction=Direction.INBOUND,
                sender=SenderKind.CUSTOMER,
                sender_id=owner.id,
                text="你好",
                created_at=datetime.now(UTC),
            )
        )
    await db["cases"].insert_one({"number": "20261124-000009", "customer_id": by_wechat.id})

    merged = await repo.merge(by_wechat.id, by_phone.id)

    assert merged.id == by_phone.id
    assert {i.key for i in merged.identities} == {PHONE.key, OPENID.key}
    assert "elderly" in merged.tags
    assert by_wechat.id in merged.merged_from
    assert (await repo.find_by_identity(OPENID)).id == by_phone.id
    assert (await repo.get(by_wechat.id)).id == by_phone.id  # old id follows the merge
    assert await db["messages"].count_documents({"customer_id": by_phone.id}) == 2
    assert await db["cases"].count_documents({"customer_id": by_phone.id}) == 1


async def test_merge_is_idempotent_and_refuses_a_second_target(db: Database):
    repo = MongoCustomerRepository(db)
    a = await repo.get_or_create(PHONE)
    b = await repo.get_or_create(OPENID)
    c = await repo.get_or_create(TG)
    await repo.merge(b.id, a.id)
    again = await repo.merge(b.id, a.id)
    assert {i.key for i in again.identities} == {PHONE.key, OPENID.key}
    with pytest.raises(AlreadyMerged):
        await repo.merge(b.id, c.id)


async def test_interrupted_merge_is_finished_by_running_it_again(db: Database):
    repo = MongoCustomerRepository(db)
    a = await repo.get_or_create(PHONE)
    b = await repo.get_or_create(OPENID)
    # Simulate a crash after b was marked merged, before its identities were moved.
    pending = [{"kind": "wechat", "value": OPENID.value}]
    await db["customers"].update_one(
        {"_id": b.id}, {"$set": {"merged_into": a.id, "pending_identities": pending}}
    )
    assert (await repo.find_by_identity(OPENID)).id == a.id  # lookups already follow
    merged = await repo.merge(b.id, a.id)
    assert OPENID.key in {i.key for i in merged.identities}
    owner = await db["customer_identities"].find_one({"_id": OPENID.key})
    assert owner["customer_id"] == a.id


async def test_unknown_customer_is_a_domain_error(db: Database):
    with pytest.raises(CustomerNotFound):
        await MongoCustomerRepository(db).get("nope")
