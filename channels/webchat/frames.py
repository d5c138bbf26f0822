"""The widget's WebSocket protocol: what a visitor may send, checked before anything is done.

client → server
  {"type": "hello", "visitor", "token", "after"?, "name"?, "phone"?}   first frame, once
  {"type": "message", "client_id", "text"?, "file"?}   acked after it is stored
  {"type": "rate", "value": "satisfied|neutral|unsatisfied", "comment"?}
  {"type": "transcript", "email"? , "phone"?}   only to a number/address this visitor verified
  {"type": "verify", "phone"|"email"}   send a one-time code there
  {"type": "verify_code", "phone"|"email", "code"}   the code typed back
  {"type": "ping"}
server → client
  {"type": "welcome", "visitor", "token", "state", "greeting", "popular"}   popular: questions
      offered as buttons in an empty chat; after "synced", a queued visitor gets "position"
  {"type": "ack", "client_id", "message_id", "duplicate"}
  {"type": "message", "id", "sender", "sender_name", "text", "quick_replies", "at", "file"?}
  {"type": "state", "state"} · {"type": "position", "position", "wait_s", "agents"?} · {"type": "typing"}
  (agents: signed-in agents who could serve the queue; 0 means no wait can be promised)
  {"type": "rated"} · {"type": "transcript_requested"} · {"type": "error", "reason"} · {"type": "pong"}
  {"type": "verify_sent", "via", "to"} · {"type": "verified", "via", "to"}   (to: masked)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from primitives.untrusted_json import InvalidJson, decode_object

MAX_FRAME = 16 * 1024
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MESSAGE_ID = re.compile(r"^[0-9a-f]{24}$")
FILE_ID = re.compile(r"^(?:[0-9a-f]{24}|[A-Za-z0-9_-]{32})$")  # old ObjectIds, random ids
CODE = re.compile(r"^[0-9]{6}$")
PHONE = re.compile(r"^\+?[0-9]{7,15}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
RATINGS = {"satisfied": "满意", "neutral": "一般", "unsatisfied": "不满意"}


class FrameError(ValueError):
    """A frame the server refuses; the reason is shown to the visitor (zh-CN)."""


@dataclass(frozen=True, slots=True)
class Hello:
    visitor: str
    token: str
    after: str | None
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Message:
    client_id: str
    text: str
    file: str | None


@dataclass(frozen=True, slots=True)
class Rate:
    value: str
    comment: str


@dataclass(frozen=True, slots=True)
class Transcript:
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class Verify:
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class VerifyCode:
    phone: str
    email: str
    code: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


Frame = Hello | Message | Rate | Transcript | Verify | VerifyCode | Ping


def parse(raw: str, max_text: int) -> Frame:
    if len(raw) > MAX_FRAME:
        raise FrameError("消息过长")
    try:
        data = decode_object(raw)
    except InvalidJson:
        raise FrameError("无法识别的消息格式") from None
    kind = data.get("type")
    if kind == "hello":
        after = _opt(data, "after", 24)
        if after and not MESSAGE_ID.match(after):
            raise FrameError("无效的消息编号")
        phone = _phone(data)
        if phone and not PHONE.match(phone):
            raise FrameError("请填写正确的手机号码")
        return Hello(
            _opt(data, "visitor", 80),
            _opt(data, "token", 128),
            after or None,
            _opt(data, "name", 40),
            phone,
        )
    if kind == "message":
        client_id = _opt(data, "client_id", 64)
        if not CLIENT_ID.match(client_id):
            raise FrameError("缺少消息编号")
        text = _opt(data, "text", MAX_FRAME).strip()
        file = _opt(data, "file", 32) or None
        if file and not FILE_ID.match(file):
            raise FrameError("无效的文件")
        if not text and not file:
            raise FrameError("不能发送空消息")
        if len(text) > max_text:
            raise FrameError(f"消息太长了，每条不超过{max_text}个字")
        return Message(client_id, text, file)
    if kind == "rate":
        value = _opt(data, "value", 20)
        if value not in RATINGS:
            raise FrameError("请选择满意、一般或不满意")
        return Rate(value, _opt(data, "comment", 500).strip())
    if kind == "transcript":
        email, phone = _contact(data)
        if not email and not phone:
            raise FrameError("请填写邮箱或手机号码")
        return Transcript(email, phone)
    if kind in ("verify", "verify_code"):
        email, phone = _contact(data)
        if bool(email) == bool(phone):
            raise FrameError("请填写手机号码或邮箱（其一）")
        if kind == "verify":
            return Verify(phone, email)
        code = _opt(data, "code", 16).strip()
        if not CODE.match(code):
            raise FrameError("请输入6位数字验证码")
        return VerifyCode(phone, email, code)
    if kind == "ping":
        return Ping()
    raise FrameError("无法识别的消息类型")


def _opt(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FrameError(f"字段 {name} 格式错误")
    if len(value) > limit:
        raise FrameError(f"字段 {name} 过长")
    return value


def _contact(data: dict[str, Any]) -> tuple[str, str]:
    """(email, phone) as given, each checked when present."""
    email, phone = _opt(data, "email", 254).strip(), _phone(data)
    if email and not EMAIL.match(email):
        raise FrameError("请填写正确的邮箱地址")
    if phone and not PHONE.match(phone):
        raise FrameError("请填写正确的手机号码")
    return email, phone


def _phone(data: dict[str, Any]) -> str:
    """A phone as typed ("138 1234-5678"): spaces and dashes dropped."""
    return _opt(data, "phone", 20).replace(" ", "").replace("-", "").strip()
