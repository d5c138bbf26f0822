"""WeChat XML in, router messages out: safe parsing, validation of the fields we rely on,
the dedupe key, and the mapping of each message type."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedxml import ElementTree

from routing.customers import Identity, IdentityKind
from routing.messages import Attachment, InboundMessage

CHANNEL = "wechat"

_NAME = re.compile(r"[A-Za-z0-9_\-]{1,128}")  # openids, gh_ ids, MsgType and Event values
_NUMBER = re.compile(r"[0-9]{1,20}")
_SHORT_KEY = 64  # longer EventKeys (a VIEW event's URL) enter the dedupe key as a digest


class BadMessage(ValueError):
    """XML that is not a WeChat message we can read; str() says why (for integrators)."""


@dataclass(frozen=True, slots=True)
class Received:
    """One callback message, parsed and checked."""

    account: str  # ToUserName: the official account's original id (gh_…)
    openid: str  # FromUserName
    created: int  # CreateTime, seconds since the epoch
    msg_type: str  # lower case: text, image, voice, …, event
    event: str  # lower case; "" for a message
    event_key: str
    dedupe_id: str  # the same for WeChat's retries, different for anything else
    fields: Mapping[str, str]

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"


def read_fields(xml: bytes) -> dict[str, str]:
    """The <xml> root's child elements, name -> text. Raises BadMessage for XML that is not
    well-formed UTF-8 (a NUL or a lone surrogate included), has a DTD or entities (billion
    laughs, XXE), another root, or a field twice."""
    try:
        root = ElementTree.fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except Exception as e:  # defusedxml's DTDForbidden / EntitiesForbidden, expat's ParseError
        raise BadMessage(f"not well-formed or unsafe XML ({type(e).__name__})") from None
    if root.tag != "xml":
        raise BadMessage("the root element must be <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if child.tag in fields:
            raise BadMessage(f"field {child.tag} appears more than once")
        fields[child.tag] = child.text or ""
    return fields


def parse(xml: bytes) -> Received:
    """Raises BadMessage naming the first field that is missing or malformed."""
    f = read_fields(xml)
    account = _name(f, "ToUserName")
    openid = _name(f, "FromUserName")
    created = f.get("CreateTime", "").strip()
    if not _NUMBER.fullmatch(created):
        raise BadMessage("CreateTime must be a number of seconds")
    msg_type = _name(f, "MsgType").lower()
    msg_id = f.get("MsgId", "").strip()
    if msg_id and not _NUMBER.fullmatch(msg_id):
        raise BadMessage("MsgId must be a number")
    event = _name(f, "Event").lower() if msg_type == "event" else ""
    event_key = f.get("EventKey", "") if event else ""
    if msg_type == "text" and not f.get("Content", "").strip():
        raise BadMessage("a text message needs a non-empty Content")
    return Received(
        account=account,
        openid=openid,
        created=int(created),
        msg_type=msg_type,
        event=event,
        event_key=event_key,
        dedupe_id=_dedupe_id(f, openid, created, msg_type, event, event_key),
        fields=f,
    )


def identity(app_id: str, openid: str) -> Identity:
    return Identity(IdentityKind.WECHAT, f"{app_id}:{openid}")


def inbound(msg: Received, app_id: str, text: str = "") -> InboundMessage:
    """The router's message: a user message (text, voice, image, location, link, …), or an
    event that stands for `text` (a menu click)."""
    if msg.is_event:
        kind, attachments = "event", ()
        meta: tuple[tuple[str, str], ...] = (("event", msg.event), ("key", msg.event_key))
    else:
        kind, text, attachments = _content(msg.msg_type, msg.fields)
        meta = (("msg_type", msg.msg_type),)
    return InboundMessage(
        channel=CHANNEL,
        account=app_id,
        provider_id=msg.dedupe_id,
        identity=identity(app_id, msg.openid),
        text=text,
        received_at=datetime.now(UTC),
        kind=kind,
        attachments=attachments,
        meta=meta,
    )


def _name(f: Mapping[str, str], field: str) -> str:
    value = f.get(field, "").strip()
    if not value:
        raise BadMessage(f"field {field} is missing")
    if not _NAME.fullmatch(value):
        raise BadMessage(f"field {field} has characters WeChat does not use")
    return value


def _dedupe_id(
    f: Mapping[str, str], openid: str, created: str, msg_type: str, event: str, key: str
) -> str:
    msg_id = f.get("MsgId", "").strip()
    if msg_id.strip("0"):
        return msg_id  # WeChat's retries carry the same MsgId (and keys stored so far are it)
    # No MsgId: WeChat's documented key for events is FromUserName + CreateTime; Event and
    # EventKey keep two clicks within one second apart. Without the openid every event
    # shared one key (MsgId 0), and a second user's event was taken for a retry of the first.
    if event:
        tail = f"{event}:{key if len(key) <= _SHORT_KEY else _digest(key)}"
    else:  # a message without MsgId (WeChat always sends one): the whole body tells it apart
        tail = f"{msg_type}:{_digest(repr(sorted(f.items())))}"
    return f"evt:{openid}:{created}:{tail}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _content(msg_type: str, f: Mapping[str, str]) -> tuple[str, str, tuple[Attachment, ...]]:
    if msg_type == "text":
        return "text", f["Content"], ()
    if msg_type == "voice":
        recognised = f.get("Recognition", "").strip()
        voice = (Attachment("voice", name=f.get("MediaId", "")),)
        return "voice", recognised or "[语音消息]", voice
    if msg_type == "image":
        return "image", "[图片]", (Attachment("image", url=f.get("PicUrl", ""), mime="image/jpeg"),)
    if msg_type == "location":
        x, y, label = f.get("Location_X", ""), f.get("Location_Y", ""), f.get("Label", "")
        place = f"[位置] {label}（{x},{y}）".strip()
        return "location", place, (Attachment("location", name=label),)
    if msg_type == "link":
        title, url = f.get("Title", ""), f.get("Url", "")
        return "link", f"[链接] {title} {url}", (Attachment("link", url=url, name=title),)
    return msg_type, f"[{msg_type}]", ()
