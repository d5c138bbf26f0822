"""The callback's edge: safe mode when an AES key is set, oversized and malformed bodies with
a valid signature, and text over the router's cap."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent_web.keys import ROUTER
from mongo.client import Database
from routing.replies import TOO_LONG
from tests.channels.wechat.conftest import Rig
from tests.emulators.wechat import ACCOUNT, event_xml, text_xml


async def _inbound(db: Database) -> list[dict]:
    return [m async for m in db["messages"].find({"channel": "wechat", "direction": "in"})]


async def _assert_refused(resp, status: int, reason_has: str) -> None:
    assert resp.status == status
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"] == "refused"
    assert reason_has in body["reason"]


# ------------------------------------------------------------------ safe mode


async def test_plaintext_is_refused_when_an_aes_key_is_set(safe_rig: Rig, db: Database):
    resp = await safe_rig.send(text_xml("o-safe-1", "我要投诉", 3001))
    await _assert_refused(resp, 403, "safe mode")
    assert await _inbound(db) == []
    assert safe_rig.bot.calls == []


async def test_compatible_mode_plaintext_fields_are_ignored(safe_rig: Rig, db: Database):
    """Only the encrypted part counts: plaintext beside it may say anything."""
    real = text_xml("o-safe-2", "宝宝医保怎么办", 3002)
    decoy = text_xml("o-someone-else", "我要投诉", 3003)
    resp = await safe_rig.send(real, "compat", decoy=decoy)
    assert resp.status == 200
    assert "90天内" in await safe_rig.passive_text(resp, "compat")
    [stored] = await _inbound(db)
    assert stored["text"] == "宝宝医保怎么办"
    assert safe_rig.bot.calls == ["宝宝医保怎么办"]


async def test_a_bad_msg_signature_is_refused(safe_rig: Rig, db: Database):
    await safe_rig.send(text_xml("o-safe-3", "你好", 3004), "aes")
    params, body = safe_rig.wx.last_request
    fresh = safe_rig.wx.signed_params()  # an unused nonce, so only msg_signature is wrong
    resp = await safe_rig.send_raw({**params, **fresh, "msg_signature": "0" * 40}, body)
    await _assert_refused(resp, 403, "msg_signature")
    assert len(await _inbound(db)) == 1


async def test_an_encrypted_request_without_encrypt_is_a_400(safe_rig: Rig):
    params = {**safe_rig.wx.signed_params(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    resp = await safe_rig.send_raw(params, text_xml("o-safe-4", "你好", 3005).encode())
    await _assert_refused(resp, 400, "Encrypt")


async def test_an_encrypted_request_without_an_aes_key_is_a_400(rig: Rig):
    resp = await rig.send(text_xml("o-safe-5", "你好", 3006), "aes")
    await _assert_refused(resp, 400, "WECHAT_AES_KEY")


# ------------------------------------------------------------------ malformed input


async def test_a_body_over_64kb_is_a_413_with_a_reason(rig: Rig, db: Database):
    big = text_xml("o-big", "一" * 30_000, 3100)  # 90 KB of UTF-8
    resp = await rig.send(big)
    await _assert_refused(resp, 413, "65536")
    assert await _inbound(db) == []


async def test_a_chunked_body_over_64kb_is_a_413_too(rig: Rig, db: Database):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"<xml>" + b" " * 8192  # no Content-Length: the size shows while reading

    params = rig.wx.signed_params()
    async with rig.http.post(rig.url, params=params, data=chunks()) as resp:
        await _assert_refused(resp, 413, "65536")
    assert await _inbound(db) == []


def _text(content: str, **drop: bool) -> str:
    parts = {
        "ToUserName": f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        "FromUserName": "<FromUserName><![CDATA[o-bad]]></FromUserName>",
        "CreateTime": "<CreateTime>1700000000</CreateTime>",
        "MsgType": "<MsgType><![CDATA[text]]></MsgType>",
        "Content": f"<Content><![CDATA[{content}]]></Content>",
        "MsgId": "<MsgId>3200</MsgId>",
    }
    return "<xml>" + "".join(v for k, v in parts.items() if not drop.get(k)) + "</xml>"


MALFORMED = {
    "not XML": (b"hello, this is not XML", "XML"),
    "empty body": (b"", "XML"),
    "not a WeChat root": (b"<html><body/></html>", "<xml>"),
    "no FromUserName": (_text("你好", FromUserName=True).encode(), "FromUserName"),
    "no ToUserName": (_text("你好", ToUserName=True).encode(), "ToUserName"),
    "no MsgType": (_text("你好", MsgType=True).encode(), "MsgType"),
    "no Content": (_text("", Content=True).encode(), "Content"),
    "empty Content": (_text("  ").encode(), "Content"),
    "CreateTime abc": (_text("你好").replace("1700000000", "abc").encode(), "CreateTime"),
    "MsgId abc": (_text("你好").replace("3200", "abc").encode(), "MsgId"),
    "FromUserName twice": (
        _text("你好").replace("</xml>", "<FromUserName>o-2</FromUserName></xml>").encode(),
        "FromUserName",
    ),
    "event without Event": (
        event_xml("o-bad", "CLICK").replace("<Event><![CDATA[CLICK]]></Event>", "").encode(),
        "Event",
    ),
    "NUL in Content": (_text("你\x00好").encode(), "XML"),
    "NUL as a reference": (_text("x").replace("<![CDATA[x]]>", "a&#0;b").encode(), "XML"),
    "lone surrogate bytes": (_text("x").encode().replace(b"x", b"\xed\xa0\x80"), "XML"),
    "lone surrogate reference": (
        _text("x").replace("<![CDATA[x]]>", "a&#xD800;b").encode(),
        "XML",
    ),
    "not UTF-8": (_text("你好").encode("gbk"), "XML"),
    "XML bomb": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><Content>&lol2;</Content></xml>',
        "XML",
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<xml><Content>&e;</Content></xml>",
        "XML",
    ),
}


@pytest.mark.parametrize(("body", "reason_has"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_body_with_a_valid_signature_is_a_400_with_a_reason(
    rig: Rig, db: Database, body: bytes, reason_has: str
):
    resp = await rig.send(body)
    await _assert_refused(resp, 400, reason_has)
    assert await _inbound(db) == []


@pytest.mark.parametrize(
    ("body", "reason_has"), [MALFORMED["CreateTime abc"], MALFORMED["XML bomb"]]
)
async def test_a_malformed_encrypted_message_is_a_400_with_a_reason(
    safe_rig: Rig, db: Database, body: bytes, reason_has: str
):
    resp = await safe_rig.send(body, "aes")
    await _assert_refused(resp, 400, reason_has)
    assert await _inbound(db) == []


# ------------------------------------------------------------------ text length


async def test_a_message_over_the_text_cap_gets_a_polite_reply(rig: Rig, db: Database):
    limit = rig.app[ROUTER].max_text_chars
    long_text = "路灯" * (limit // 2) + "坏"
    resp = await rig.send(text_xml("o-long", long_text, 3300))
    assert resp.status == 200
    assert await rig.passive_text(resp) == TOO_LONG.format(limit=limit)
    assert rig.bot.calls == []
    [stored] = await _inbound(db)  # stored all the same: the agents can read it
    assert stored["text"] == long_text


async def test_a_message_at_the_text_cap_goes_to_the_bot(rig: Rig):
    limit = rig.app[ROUTER].max_text_chars
    text = "停水" + "了" * (limit - 2)
    resp = await rig.send(text_xml("o-long-2", text, 3301))
    assert "停水" in await rig.passive_text(resp)
    assert rig.bot.calls == [text]
