"""WeChat XML in, router messages out: safe parsing and the mapping of each message type."""

from __future__ import annotations

from datetime import UTC, datetime

from defusedxml import ElementTree
from wechatpy import parse_message
from wechatpy.events import BaseEvent
from wechatpy.messages import BaseMessage

from routing.customers import Identity, IdentityKind
from routing.messages import Attachment, InboundMessage

CHANNEL = "wechat"


class BadMessage(ValueError):
    """XML that is not a WeChat message we can read."""


def check_xml(body: bytes) -> None:
    """Refuse any DTD or entity (billion laughs, XXE) before wechatpy's parser sees it."""
    try:
        ElementTree.fromstring(body, forbid_dtd=True)
    except Exception as e:  # defusedxml raises DTDForbidden / EntitiesForbidden / ParseError
        raise BadMessage(f"unsafe or malformed XML: {type(e).__name__}") from None


def parse(xml: str | bytes) -> BaseMessage | BaseEvent:
    check_xml(xml if isinstance(xml, bytes) else xml.encode("utf-8"))
    try:
        return parse_message(xml)
    except Exception as e:
        raise BadMessage(f"not a WeChat message: {type(e).__name__}") from None


def identity(app_id: str, openid: str) -> Identity:
    return Identity(IdentityKind.WECHAT, f"{app_id}:{openid}")


def inbound(msg: BaseMessage, app_id: str) -> InboundMessage:
    """The router's message for a WeChat user message (text, voice, image, location, link)."""
    kind, text, attachments = _content(msg)
    return InboundMessage(
        channel=CHANNEL,
        account=app_id,
        provider_id=str(msg.id),  # MsgId: WeChat's retries carry the same one
        identity=identity(app_id, msg.source),
        text=text,
        received_at=datetime.now(UTC),
        kind=kind,
        attachments=attachments,
        meta=(("msg_type", msg.type),),
    )


def click(event: BaseEvent, app_id: str, text: str) -> InboundMessage:
    """A menu click as a message; events have no MsgId: FromUserName + CreateTime."""
    created = int(event.create_time.timestamp())
    return InboundMessage(
        channel=CHANNEL,
        account=app_id,
        provider_id=f"evt:{event.source}:{created}",
        identity=identity(app_id, event.source),
        text=text,
        received_at=datetime.now(UTC),
        kind="event",
        meta=(("event", "click"), ("key", str(event.key))),
    )


def _content(msg: BaseMessage) -> tuple[str, str, tuple[Attachment, ...]]:
    if msg.type == "text":
        return "text", msg.content, ()
    if msg.type == "voice":
        recognised = (getattr(msg, "recognition", None) or "").strip()
        voice = (Attachment("voice", name=str(getattr(msg, "media_id", ""))),)
        return "voice", recognised or "[语音消息]", voice
    if msg.type == "image":
        return "image", "[图片]", (Attachment("image", url=msg.image, mime="image/jpeg"),)
    if msg.type == "location":
        x, y = msg.location
        label = msg.label or ""
        return (
            "location",
            f"[位置] {label}（{x},{y}）".strip(),
            (Attachment("location", name=label),),
        )
    if msg.type == "link":
        return (
            "link",
            f"[链接] {msg.title} {msg.url}",
            (Attachment("link", url=msg.url, name=msg.title),),
        )
    return msg.type, f"[{msg.type}]", ()
