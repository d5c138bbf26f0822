"""Delivery receipts reach the SMS submitted most recently under their id, within the three
days a receipt is valid, and never change a final state. An SMSC that restarts hands its ids
out again: an old receipt must not settle a new SMS, nor a new receipt an old one."""

from __future__ import annotations

from channels.sms import OUTBOUND
from channels.sms.limiter import PerNumberLimiter
from channels.sms.outbound import SmsOutbound
from channels.sms.pdu import Receipt
from mongo.client import Database
from mongo.messages import MongoMessageRepository
from mongo.sms import MongoSmsRepository
from primitives.clock import FixedClock
from tests.channels.helpers import eventually
from tests.channels.sms.rig import CITIZEN, FakeSmsGateway, Rig

OTHER = "+8613700000002"


def _outbound(db: Database, gateway: FakeSmsGateway, clock: FixedClock) -> SmsOutbound:
    return SmsOutbound(
        MongoSmsRepository(db),
        gateway,
        PerNumberLimiter(100, 60),
        MongoMessageRepository(db),
        clock,
        backoff_s=(),
    )


async def test_a_reused_smsc_id_does_not_mark_the_new_sms_from_an_old_receipt(rig: Rig):
    rig.smsc.receipts = False  # the test sends each receipt itself
    outbound = rig.app[OUTBOUND]
    old = await outbound.notify(CITIZEN, "旧通知", "test")
    await outbound.drain()
    [smsc_id] = (await rig.sms(old.id))["provider_ids"]
    assert await rig.smsc.receipt(smsc_id, "DELIVRD", CITIZEN) == 0
    assert (await rig.sms(old.id))["state"] == "delivered"

    rig.smsc.restart_ids()
    new = await outbound.notify(OTHER, "新通知", "test")
    await outbound.drain()
    assert (await rig.sms(new.id))["provider_ids"] == [smsc_id]  # the same id again
    assert (await rig.sms(new.id))["state"] == "sent"  # the old DELIVRD is not its receipt

    assert await rig.smsc.receipt(smsc_id, "UNDELIV", OTHER) == 0
    assert (await rig.sms(new.id))["state"] == "failed"
    assert (await rig.sms(old.id))["state"] == "delivered"


async def test_a_receipt_never_undoes_a_delivered_sms(rig: Rig):
    outbound = rig.app[OUTBOUND]
    record = await outbound.notify(CITIZEN, "通知", "test")

    async def delivered() -> list[str]:
        doc = await rig.sms(record.id)
        return doc["provider_ids"] if doc["state"] == "delivered" else []

    [smsc_id] = await eventually(delivered)
    assert await rig.smsc.receipt(smsc_id, "UNDELIV", CITIZEN) == 0
    doc = await rig.sms(record.id)
    assert (doc["state"], doc["error"]) == ("delivered", "")


async def test_a_receipt_racing_its_submit_goes_to_the_new_sms(db: Database):
    """The SMSC may report on an id before our submit has recorded it: with the id reused,
    the old mapping must not take the receipt."""
    gateway, clock = FakeSmsGateway(), FixedClock()
    outbound = _outbound(db, gateway, clock)
    old = await outbound.notify(CITIZEN, "旧通知", "test")
    await outbound.drain()
    gateway.restart_ids()
    gateway.receipt_during_send = (outbound.on_receipt, "UNDELIV")
    new = await outbound.notify(OTHER, "新通知", "test")
    await outbound.drain()
    await gateway.close()
    repo = MongoSmsRepository(db)
    assert (await repo.get(new.id)).state == "failed"
    assert (await repo.get(old.id)).state == "sent"


async def test_a_receipt_matches_within_three_days_and_not_after(db: Database):
    gateway, clock = FakeSmsGateway(), FixedClock()
    outbound = _outbound(db, gateway, clock)
    repo = MongoSmsRepository(db)
    kept = await outbound.notify(CITIZEN, "两天后回执", "test")
    expired = await outbound.notify(OTHER, "三天多后回执", "test")
    await outbound.drain()

    clock.advance(days=2, hours=23)
    await outbound.on_receipt(Receipt("m1", "DELIVRD", ""))
    assert (await repo.get(kept.id)).state == "delivered"
    clock.advance(hours=1, seconds=1)
    await outbound.on_receipt(Receipt("m2", "DELIVRD", ""))
    assert (await repo.get(expired.id)).state == "sent"


async def test_smsc_ids_expire_with_the_validity_of_a_receipt(db: Database):
    gateway, clock = FakeSmsGateway(), FixedClock()
    outbound = _outbound(db, gateway, clock)
    await outbound.notify(CITIZEN, "通知", "test")
    await outbound.drain()
    await outbound.on_receipt(Receipt("nobody-knows", "DELIVRD", ""))  # held, unmatched
    assert await _smsc_ids(db) == ["m1", "nobody-knows"]

    clock.advance(days=3, seconds=-1)
    await outbound.notify(OTHER, "差一秒三天", "test")  # a running hub purges as it sends
    await outbound.drain()
    assert await _smsc_ids(db) == ["m1", "m2", "nobody-knows"]
    clock.advance(hours=1, seconds=1)
    await outbound.notify(OTHER, "三天过后", "test")
    await outbound.drain()
    assert await _smsc_ids(db) == ["m2", "m3"]
    clock.advance(days=3, seconds=1)
    await outbound.resume()  # and a start does
    assert await _smsc_ids(db) == []


async def _smsc_ids(db: Database) -> list[str]:
    return sorted([d["_id"] async for d in db["sms_ids"].find({})])
