"""Hostile requests for every route of the hub, as hypothesis strategies.

A request is drawn for one route (method and path template of the real app): path parameters,
query, headers and a body from a pool of shapes that broke the hub before (JSON nested 2,000
deep, lone surrogates, NUL bytes, Unicode digits in numeric headers, non-ASCII signature
headers, huge or truncated bodies, XML bombs, multipart without its boundary). A fraction of
the requests to provider webhooks carry a valid signature, so the body reaches the code after
the signature check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field

from hypothesis import strategies as st

SMS_SECRET = "fuzz-sms-secret-0123456789abcdef"
TELEGRAM_SECRET = "fuzz-telegram-secret"
WECHAT_TOKEN = "fuzztoken123"
# Routes whose handlers answer with a stream or a redirect by design: status < 500 is still
# the rule for them, nothing is skipped.


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def describe(self) -> str:
        return f"{self.method} {self.path} q={self.query} h={self.headers} body={self.body[:120]!r}"


_NASTY_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "\ud800",
        "²",
        "١٢٣",  # Arabic-Indic digits: int() accepts them
        "1e309",
        "-1",
        "NaN",
        "9" * 40,
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "$where",
        '{"$gt": ""}',
        "验证码",
        "a" * 5000,
    ]
)
TEXT = st.one_of(_NASTY_TEXT, st.text(max_size=40))


def _deep_json(depth: int, opener: str = "[") -> bytes:
    closer = "]" if opener == "[" else "}"
    inner = "1" if opener == "[" else ""
    if opener == "{":
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return (opener * depth + inner + closer * depth).encode()


_JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSON_VALUES = st.recursive(
    _JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(TEXT, children, max_size=4),
    ),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    [
        "sender_id",
        "text",
        "message_id",
        "name",
        "login",
        "password",
        "status",
        "type",
        "title",
        "description",
        "category",
        "contact_phone",
        "address",
        "phone",
        "to",
        "from",
        "message_id",
        "conversation_id",
        "queue",
        "agent",
        "question",
        "answer",
        "roles",
        "skills",
        "shortcut",
        "update_id",
        "message",
    ]
)
OBJECTS = st.dictionaries(_FIELDS, JSON_VALUES, max_size=6)


def _json_body(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.just(_deep_json(2000)),
    st.just(_deep_json(2000, "{")),
    OBJECTS.map(_json_body),
    JSON_VALUES.map(_json_body),
    st.just(b'{"text": "\\ud800", "sender_id": "a"}'),
    st.just(b'{"text": "\x00", "sender_id": "a\x00"}'),
    st.just(b"<xml><ToUserName>a</ToUserName>" * 10),
    st.just(
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml>&lol2;</xml>'
    ),
    st.just(b"x" * (70 * 1024)),
    st.just(b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00.png"\r\n\r\n'),
)
_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "text/xml",
        "multipart/form-data; boundary=b",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "text/plain",
        "\u00e9/\u00e9",
    ]
)
_HEADER_NAMES = st.sampled_from(
    [
        "X-Signature",
        "X-Signature-Timestamp",
        "X-Telegram-Bot-Api-Secret-Token",
        "Authorization",
        "X-CSRF-Token",
        "X-Forwarded-For",
        "Origin",
        "Cookie",
    ]
)
# aiohttp's client refuses to send control characters in headers; everything else goes.
_HEADER_VALUES = st.one_of(
    st.sampled_from(["²", "١٢٣", "é", "\u4e2d\u6587", "Bearer é", "0" * 64, "-1", "1e9"]),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
)
HEADERS = st.dictionaries(_HEADER_NAMES, _HEADER_VALUES, max_size=3)
QUERY = st.dictionaries(
    st.sampled_from(
        [
            "sender_id",
            "after",
            "signature",
            "timestamp",
            "nonce",
            "echostr",
            "msg_signature",
            "encrypt_type",
            "openid",
            "visitor",
            "token",
            "q",
            "limit",
            "page",
            "state",
        ]
    ),
    TEXT,
    max_size=4,
)


def sms_signed(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(SMS_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Signature-Timestamp": stamp, "X-Signature": mac.hexdigest()}


def wechat_signed() -> dict[str, str]:
    stamp, nonce = str(int(time.time())), secrets.token_hex(5)
    signature = hashlib.sha1(  # noqa: S324 - WeChat's scheme
        "".join(sorted((WECHAT_TOKEN, stamp, nonce))).encode()
    ).hexdigest()
    return {"signature": signature, "timestamp": stamp, "nonce": nonce, "openid": "o_fuzz"}


def fill_path(template: str, values: list[str]) -> str:
    """The template with each {param} (or {param:regex}) replaced by the next value."""
    out, rest = [], template
    for value in values:
        start = rest.find("{")
        if start < 0:
            break
        end = rest.find("}", start)
        out.append(rest[:start] + value)
        rest = rest[end + 1 :]
    return "".join(out) + rest


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, str]]) -> FuzzRequest:
    method, template = draw(st.sampled_from(routes))
    params = template.count("{")
    segment = st.one_of(
        st.sampled_from(["x", "1", "00000000-0000", "kb-0001", "%00", "..", "é"]),
        st.text(alphabet="abcdef0123456789-_", min_size=1, max_size=30),
    )
    path = fill_path(template, [draw(segment) for _ in range(params)])
    body = draw(BODIES) if method in ("POST", "PUT", "PATCH", "DELETE") else b""
    headers = dict(draw(HEADERS))
    if body:
        headers["Content-Type"] = draw(_CONTENT_TYPES)
    query = dict(draw(QUERY))
    signed = draw(st.booleans())
    if signed and template == "/channels/sms/webhook":
        headers.update(sms_signed(body))
    elif signed and template == "/channels/telegram/webhook":
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    elif signed and template == "/channels/wechat":
        query.update(wechat_signed())
    return FuzzRequest(method, path, query, headers, body)


WS_FRAMES = st.one_of(
    OBJECTS.map(json.dumps),  # escaped, so a lone surrogate travels as "\\ud800"
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "hello",
                    "message",
                    "rate",
                    "transcript",
                    "verify",
                    "verify_code",
                    "ping",
                    "watch",
                    "unwatch",
                    "typing",
                ]
            )
        },
        optional={
            "text": TEXT,
            "client_id": TEXT,
            "visitor": TEXT,
            "token": TEXT,
            "phone": TEXT,
            "email": TEXT,
            "code": TEXT,
            "value": JSON_VALUES,
            "conversation_id": TEXT,
            "file": TEXT,
            "after": TEXT,
        },
    ).map(json.dumps),
    st.just(_deep_json(2000).decode()),
    st.just('{"type": "message", "text": "\\ud800", "client_id": "c1"}'),
    st.text(max_size=50),
)
