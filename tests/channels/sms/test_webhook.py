"""The HTTP provider's webhook refuses malformed requests with a 4xx and a JSON reason, before
or after the signature check, and stores nothing from them."""

from __future__ import annotations

import json
import time

from tests.channels.sms.rig import CITIZEN, WEBHOOK, Rig, raw_post, signed


def _message(**changes: object) -> str:
    body = {"type": "message", "message_id": "p-1", "from": CITIZEN, "text": "你好", **changes}
    return json.dumps(body, ensure_ascii=False)


async def _refused(rig: Rig, body: str | bytes, headers: dict[str, str]) -> tuple[int, dict]:
    resp = await rig.hub.client.post(WEBHOOK, data=body, headers=headers)
    payload = await resp.json()
    assert set(payload) == {"error", "reason"}
    return resp.status, payload


async def test_a_superscript_timestamp_header_is_a_400(rig: Rig):
    body = _message()
    for stamp in ("²", "１" + str(int(time.time()))[1:], "+" + str(int(time.time()))):
        status, payload = await _refused(rig, body, signed(body, stamp=stamp))
        assert status == 400
        assert payload["reason"] == "X-Signature-Timestamp must be Unix seconds in ASCII digits"
    assert await rig.inbound() == []


async def test_a_missing_or_stale_timestamp_is_a_403(rig: Rig):
    body = _message()
    headers = signed(body)
    del headers["X-Signature-Timestamp"]
    assert (await _refused(rig, body, headers))[0] == 403
    stale = signed(body, stamp=str(int(time.time()) - 3600))
    assert (await _refused(rig, body, stale))[0] == 403


async def test_a_non_ascii_signature_header_is_a_400(rig: Rig):
    body = _message().encode()
    stamp = str(int(time.time())).encode()
    port = rig.hub.client.port
    for signature in ("签名".encode(), b"\xff\xfe" + b"0" * 62):
        headers = b"X-Signature-Timestamp: " + stamp + b"\r\nX-Signature: " + signature + b"\r\n"
        status, payload = await raw_post(port, WEBHOOK, headers, body)
        assert status == 400
        assert json.loads(payload)["reason"] == "X-Signature must be 64 hexadecimal characters"
    assert await rig.inbound() == []


async def test_json_nested_2000_deep_is_a_400(rig: Rig):
    body = '{"type": "message", "x": ' + "[" * 2000 + "]" * 2000 + "}"
    status, payload = await _refused(rig, body, signed(body))
    assert status == 400
    assert payload["reason"] == "the body is nested too deeply"


async def test_a_lone_surrogate_in_a_string_field_is_a_400(rig: Rig):
    for field in ("text", "message_id", "from"):
        body = _message(**{field: "@@"}).replace("@@", "\\ud800")
        status, payload = await _refused(rig, body, signed(body))
        assert status == 400, field
        assert payload["reason"] == "the body holds a lone surrogate (\\ud800-\\udfff) in a string"
    assert await rig.inbound() == []


async def test_an_oversized_body_is_a_413(rig: Rig):
    body = _message(text="长" * 20_000)
    status, payload = await _refused(rig, body, signed(body))
    assert status == 413
    assert payload["reason"] == "the body is larger than 16384 bytes"


async def test_a_body_that_is_not_an_object_is_a_400(rig: Rig):
    for body in ("[1, 2]", "{nope", '"text"'):
        assert (await _refused(rig, body, signed(body)))[0] == 400, body
    body = _message(message_id=5)
    assert await _refused(rig, body, signed(body)) == (
        400,
        {"error": "bad_request", "reason": "message_id is required (a non-empty string)"},
    )
