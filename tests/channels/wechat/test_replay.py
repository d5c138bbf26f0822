"""Replay protection of the callback: a timestamp window and a memory of (timestamp, nonce)."""

from __future__ import annotations

import hashlib
import time

import pytest

from channels.wechat.replay import WINDOW_S, NonceMemory, ReusedNonce, StaleRequest
from mongo.client import Database
from primitives.clock import FixedClock
from tests.channels.wechat.conftest import Rig
from tests.emulators.wechat import WeChatEmulator, text_xml


async def _inbound_count(db: Database) -> int:
    return await db["messages"].count_documents({"channel": "wechat", "direction": "in"})


async def test_a_request_older_than_five_minutes_is_refused(rig: Rig, db: Database):
    month_ago = int(time.time()) - 30 * 24 * 3600
    for stale in (month_ago, int(time.time()) - WINDOW_S - 60):
        resp = await rig.send(text_xml("o-replay-1", "你好", 2001), timestamp=stale)
        assert resp.status == 403
        body = await resp.json()
        assert body["error"] == "refused"
        assert "timestamp" in body["reason"]
    assert await _inbound_count(db) == 0
    assert rig.bot.calls == []


async def test_a_request_from_more_than_five_minutes_in_the_future_is_refused(rig: Rig):
    ahead = int(time.time()) + WINDOW_S + 60
    resp = await rig.send(text_xml("o-replay-2", "你好", 2002), timestamp=ahead)
    assert resp.status == 403
    assert "timestamp" in (await resp.json())["reason"]


async def test_a_url_verification_with_a_stale_timestamp_is_refused(rig: Rig):
    params = WeChatEmulator.signed_params(timestamp=int(time.time()) - 3600)
    async with rig.http.get(rig.url, params={**params, "echostr": "e1"}) as resp:
        assert resp.status == 403
        assert await resp.text() != "e1"


async def test_a_replayed_nonce_is_refused(rig: Rig, db: Database):
    """A captured (timestamp, nonce, signature) cannot carry a forged body: plaintext
    signatures do not cover the body, so the first body seen under a nonce is the only one."""
    first = await rig.send(text_xml("o-victim", "路灯不亮", 2003))
    assert first.status == 200
    params, _ = rig.wx.last_request
    for n, forged_openid in enumerate(("o-victim", "o-someone-else")):
        forged = text_xml(forged_openid, "我要投诉", 2004 + n).encode()
        resp = await rig.send_raw(params, forged)
        assert resp.status == 403
        assert "nonce" in (await resp.json())["reason"]
    assert await _inbound_count(db) == 1
    assert "我要投诉" not in rig.bot.calls


async def test_wechats_retry_with_the_same_nonce_and_body_gets_the_first_reply(
    rig: Rig, db: Database
):
    """WeChat retries a callback with the very same query (signature, timestamp, nonce) and
    body: that is a retry, not a replay, and MsgId dedupe answers it."""
    first = await rig.send(text_xml("o-replay-3", "宝宝医保怎么办", 2010))
    params, body = rig.wx.last_request
    retry = await rig.send_raw(params, body)
    assert retry.status == 200
    assert await retry.text() == await first.text()
    assert await _inbound_count(db) == 1
    assert rig.bot.calls.count("宝宝医保怎么办") == 1


async def test_a_replayed_nonce_is_refused_in_safe_mode_too(safe_rig: Rig, db: Database):
    first = await safe_rig.send(text_xml("o-replay-4", "你好", 2020), "aes")
    assert first.status == 200
    params, _ = safe_rig.wx.last_request
    other = safe_rig.wx.encrypt(
        text_xml("o-replay-4", "我要投诉", 2021).encode(), params["timestamp"], params["nonce"]
    )
    # a body encrypted under the same nonce: only the owner of the AES key could make it, but
    # the nonce is spent all the same
    forged = f"<xml><Encrypt><![CDATA[{other[1]}]]></Encrypt></xml>".encode()
    resp = await safe_rig.send_raw({**params, "msg_signature": other[0]}, forged)
    assert resp.status == 403
    assert await _inbound_count(db) == 1


def _digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def test_a_timestamp_at_the_edge_of_the_window_is_accepted():
    clock = FixedClock()
    memory = NonceMemory(clock)
    now = int(clock.now().timestamp())
    assert memory.check_time(str(now - WINDOW_S)) == now - WINDOW_S
    assert memory.check_time(str(now + WINDOW_S)) == now + WINDOW_S
    for outside in (now - WINDOW_S - 1, now + WINDOW_S + 1):
        with pytest.raises(StaleRequest):
            memory.check_time(str(outside))


@pytest.mark.parametrize("timestamp", ["", "abc", "1.5", "-5", "١٢٣", "9" * 40])
def test_a_timestamp_that_is_not_a_number_is_refused(timestamp: str):
    with pytest.raises(StaleRequest):
        NonceMemory(FixedClock()).check_time(timestamp)


def test_a_nonce_is_forgotten_once_its_timestamp_leaves_the_window():
    clock = FixedClock()
    memory = NonceMemory(clock)
    now = int(clock.now().timestamp())
    memory.remember(now, "n1", _digest(b"a"))
    with pytest.raises(ReusedNonce):
        memory.remember(now, "n1", _digest(b"b"))
    clock.advance(seconds=WINDOW_S + 1)
    memory.remember(int(clock.now().timestamp()), "n2", _digest(b"c"))  # expires the old ones
    assert len(memory) == 1


def test_the_nonce_memory_is_bounded():
    clock = FixedClock()
    memory = NonceMemory(clock, capacity=3)
    now = int(clock.now().timestamp())
    for n in range(5):
        memory.remember(now, f"n{n}", _digest(b"x"))
    assert len(memory) == 3
    with pytest.raises(ReusedNonce):
        memory.remember(now, "n4", _digest(b"y"))
