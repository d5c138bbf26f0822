"""Dedupe keys: MsgId for messages; FromUserName + CreateTime + Event + EventKey for events
(and for anything else without a MsgId), so different users never collide."""

from __future__ import annotations

import time

from mongo.client import Database
from tests.channels.wechat.conftest import Rig
from tests.emulators.wechat import APP_ID, event_xml, text_xml


async def _inbound_keys(db: Database) -> list[str]:
    found = db["messages"].find({"channel": "wechat", "direction": "in"})
    return sorted([m["external_id"] async for m in found])


async def test_events_of_two_users_without_msgid_are_both_answered(rig: Rig, db: Database):
    created = int(time.time())
    a = await rig.send(event_xml("o-evt-a", "CLICK", "ASK_HUMAN", created=created))
    b = await rig.send(event_xml("o-evt-b", "CLICK", "ASK_HUMAN", created=created))
    assert a.status == b.status == 200
    assert await a.text() != "success"
    assert await b.text() != "success"
    assert "o-evt-b" in await b.text()  # B's reply is addressed to B
    assert rig.bot.calls == ["转人工", "转人工"]
    assert len(await _inbound_keys(db)) == 2


async def test_messages_of_two_users_without_msgid_are_both_answered(rig: Rig, db: Database):
    created = int(time.time())
    a = await rig.send(text_xml("o-nomsgid-a", "宝宝医保怎么办", None, created))
    b = await rig.send(text_xml("o-nomsgid-b", "停水了怎么办", None, created))
    assert "90天内" in await rig.passive_text(a)
    assert "停水" in await rig.passive_text(b)
    assert rig.bot.calls == ["宝宝医保怎么办", "停水了怎么办"]
    assert len(await _inbound_keys(db)) == 2


async def test_two_menu_clicks_in_the_same_second_are_both_answered(rig: Rig, db: Database):
    created = int(time.time())
    await rig.send(event_xml("o-evt-c", "CLICK", "FAQ", created=created))
    await rig.send(event_xml("o-evt-c", "CLICK", "ASK_HUMAN", created=created))
    assert rig.bot.calls == ["常见问题", "转人工"]
    assert len(await _inbound_keys(db)) == 2


async def test_a_retried_event_is_answered_once(rig: Rig, db: Database):
    xml = event_xml("o-evt-d", "CLICK", "ASK_HUMAN", created=int(time.time()))
    first = await rig.send(xml)
    again = await rig.send(xml)  # WeChat's retry, under a new nonce
    assert await again.text() == await first.text()
    assert rig.bot.calls == ["转人工"]
    assert len(await _inbound_keys(db)) == 1


async def test_an_event_we_do_not_handle_is_acknowledged_and_not_routed(rig: Rig, db: Database):
    created = int(time.time())
    for openid in ("o-evt-e", "o-evt-f"):
        for event in ("subscribe_msg_popup_event", "LOCATION", "VIEW", "unsubscribe"):
            resp = await rig.send(event_xml(openid, event, created=created))
            assert resp.status == 200
            assert await resp.text() == "success"
    assert rig.bot.calls == []
    assert await _inbound_keys(db) == []


async def test_a_message_of_an_unknown_type_is_stored_with_its_own_msgid(rig: Rig, db: Database):
    xml = text_xml("o-odd", "x", 4001).replace("[text]", "[hologram]")
    resp = await rig.send(xml)
    assert resp.status == 200
    assert await _inbound_keys(db) == [f"{APP_ID}:4001"]
