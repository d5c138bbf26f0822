"""GET /webchat/ws: one widget tab. Every message is stored (through the router) before it
is acknowledged; a reconnecting tab says which server message it saw last and gets the rest."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from agent_web.keys import ACD, CUSTOMERS, MESSAGES, ROUTER
from channels.mail import MAILER
from channels.sms import OUTBOUND
from channels.webchat import contact, frames, texts
from channels.webchat.keys import CONFIG, RATINGS, SOCKETS, TOKENS, TRANSCRIPTS, UPLOADS
from channels.webchat.records import Rating, Upload
from channels.webchat.transcripts import (
    DestinationNotVerified,
    TooManyTranscripts,
    TranscriptAsk,
    Transports,
)
from channels.webchat.verification import PHONE
from channels.webchat.visitors import CHANNEL, message_frame, position_frame
from primitives.errors import HubError
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from routing.customers import Identity, IdentityKind
from routing.messages import Attachment, InboundMessage

log = logging.getLogger(__name__)

ACCOUNT = "web"
HELLO_TIMEOUT_S = 10.0
REPLAY_LIMIT = 200
_PUBLIC_STATE = {
    "bot": "bot",
    "queued": "queued",
    "offered": "queued",
    "assigned": "assigned",
    "wrap_up": "assigned",
    "closed": "closed",
}


@dataclass
class Visit:
    visitor: str
    name: str = ""
    # The pre-chat form's number: a contact detail for the agent (carried on the next
    # message), never an identity: anyone can type anyone's number (contact.py verifies).
    contact_phone: str = ""
    conversation_id: str | None = None


async def handle(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=frames.MAX_FRAME)
    await ws.prepare(request)
    app = request.app
    max_text = app[ROUTER].max_text_chars
    visit: Visit | None = None
    try:
        try:
            visit = await _hello(ws, app, max_text)
        except Exception:  # the edge: e.g. the database is down; the widget retries
            log.exception("webchat.hello_failed")
            await _send(ws, {"type": "error", "reason": texts.UNAVAILABLE})
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
            return ws
        if visit is None:
            return ws
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            try:
                frame = frames.parse(msg.data, max_text)
                await _dispatch(ws, app, visit, frame)
            except frames.FrameError as e:
                await _send(ws, {"type": "error", "reason": str(e)})
            except HubError as e:
                log.info("webchat.refused", extra={"error": str(e)})
                await _send(ws, {"type": "error", "reason": texts.UNAVAILABLE})
            except Exception:
                # The edge: an outage or a bug must not cost the visitor the socket. The
                # message was not acknowledged, so the widget sends it again.
                log.exception("webchat.frame_failed")
                await _send(ws, {"type": "error", "reason": texts.UNAVAILABLE})
    finally:
        if visit is not None:
            app[SOCKETS].remove(visit.visitor, ws)
    return ws


async def _hello(ws: web.WebSocketResponse, app: web.Application, max_text: int) -> Visit | None:
    try:
        first = await ws.receive(timeout=HELLO_TIMEOUT_S)
    except TimeoutError:
        await ws.close(code=4408, message=b"hello expected")
        return None
    if first.type is not WSMsgType.TEXT:
        await ws.close()
        return None
    try:
        hello = frames.parse(first.data, max_text)
    except frames.FrameError as e:
        await _send(ws, {"type": "error", "reason": str(e)})
        await ws.close(code=4400)
        return None
    if not isinstance(hello, frames.Hello):
        await _send(ws, {"type": "error", "reason": "请先建立会话"})
        await ws.close(code=4400)
        return None
    tokens = app[TOKENS]
    if hello.visitor:
        if not tokens.valid(hello.visitor, hello.token):
            await _send(ws, {"type": "error", "reason": "身份校验失败，请刷新页面"})
            await ws.close(code=4401)
            return None
        visitor, token = hello.visitor, hello.token
    else:
        visitor, token = tokens.new_visitor()
    visit = Visit(visitor, hello.name, _contact_phone(hello.phone))
    app[SOCKETS].add(visitor, ws)
    customer = await app[CUSTOMERS].find_by_identity(Identity(IdentityKind.WEB, visitor))
    state = "bot"
    if customer is not None:
        history = await app[MESSAGES].list_for_customer(
            customer.id, after=hello.after, limit=REPLAY_LIMIT
        )
        shown = [m for m in history if m.channel != "internal"]
        if shown:
            visit.conversation_id = shown[-1].conversation_id
        if visit.conversation_id:
            conv = await app[ROUTER].conversation(visit.conversation_id)
            state = _PUBLIC_STATE.get(conv.state.value, "bot")
            app[SOCKETS].follow(conv.id, visitor)
    else:
        shown = []
    welcome = {"type": "welcome", "visitor": visitor, "token": token, "state": state}
    config = app.get(CONFIG)
    welcome |= {"greeting": texts.GREETING, "popular": list(config.popular if config else ())}
    await _send(ws, welcome)
    for m in shown:
        await _send(ws, message_frame(m))
    await _send(ws, {"type": "synced"})
    if state == "queued" and visit.conversation_id and ACD in app:  # the queue bar, restored
        position, wait_s = app[ACD].position(visit.conversation_id)
        if position:
            await _send(ws, position_frame(visit.conversation_id, position, wait_s, app[ACD]))
    return visit


async def _dispatch(
    ws: web.WebSocketResponse, app: web.Application, visit: Visit, frame: frames.Frame
) -> None:
    if isinstance(frame, frames.Message):
        await _message(ws, app, visit, frame)
    elif isinstance(frame, frames.Rate):
        await _rate(ws, app, visit, frame)
    elif isinstance(frame, frames.Transcript):
        await _transcript(ws, app, visit, frame)
    elif isinstance(frame, frames.Verify):
        await _send(ws, await contact.send_code(app, visit.visitor, frame))
    elif isinstance(frame, frames.VerifyCode):
        await _send(ws, await contact.confirm_code(app, visit.visitor, frame))
    elif isinstance(frame, frames.Ping):
        await _send(ws, {"type": "pong"})
    else:
        raise frames.FrameError("会话已建立")


async def _message(
    ws: web.WebSocketResponse, app: web.Application, visit: Visit, frame: frames.Message
) -> None:
    meta = [("client_id", frame.client_id)]
    if visit.contact_phone:
        meta.append(("contact_phone", visit.contact_phone))
    attachments: tuple[Attachment, ...] = ()
    text, kind = frame.text, "text"
    upload = None
    if frame.file:
        upload = await app[UPLOADS].get(frame.file, visit.visitor)
        if upload is None:
            raise frames.FrameError("文件不存在或已过期，请重新上传")
        kind = "image" if upload.mime.startswith("image/") else "file"
        attachments = (
            Attachment(kind, f"/webchat/files/{upload.id}", upload.mime, upload.size, upload.name),
        )
        meta += [("file", upload.id), ("file_name", upload.name), ("file_mime", upload.mime)]
        text = text or f"[{'图片' if kind == 'image' else '文件'}] {upload.name}"
    await _send(ws, {"type": "typing"})
    msg = InboundMessage(
        channel=CHANNEL,
        account=ACCOUNT,
        provider_id=f"{visit.visitor}:{frame.client_id}",  # scoped: ids cannot collide across visitors
        identity=Identity(IdentityKind.WEB, visit.visitor),
        text=text,
        received_at=datetime.now(UTC),
        kind=kind,
        attachments=attachments,
        meta=tuple(meta),
        display_name=visit.name,
    )
    # What others push meanwhile (the agent's greeting when one takes the chat at once, state
    # changes) waits until this turn's replies are out: the visitor reads them in order.
    async with app[SOCKETS].holding(visit.visitor):
        await _turn(ws, app, visit, frame, msg, upload)


async def _turn(
    ws: web.WebSocketResponse,
    app: web.Application,
    visit: Visit,
    frame: frames.Message,
    msg: InboundMessage,
    upload: Upload | None,
) -> None:
    result = await app[ROUTER].handle_inbound(msg)
    visit.conversation_id, visit.contact_phone = result.conversation_id, ""
    if upload is not None:  # staff who may read this conversation may download the file
        await app[UPLOADS].sent_in(upload, result.conversation_id)
    app[SOCKETS].follow(result.conversation_id, visit.visitor)
    await _send(
        ws,
        {
            "type": "ack",
            "client_id": frame.client_id,
            "message_id": result.message_id,
            "duplicate": result.duplicate,
        },
    )
    for reply in result.replies:
        await app[SOCKETS].push_now(
            visit.visitor,
            {
                "type": "message",
                "id": reply.message_id,
                "sender": "bot",
                "sender_name": "",
                "text": reply.text,
                "quick_replies": list(reply.quick_replies),
                "at": datetime.now(UTC).isoformat(),
            },
        )
    await _send(ws, {"type": "state", "state": _PUBLIC_STATE.get(result.state.value, "bot")})


def _contact_phone(typed: str) -> str:
    """The pre-chat form's number in E.164; "" when it is not a phone number."""
    try:
        return PhoneNumber.parse(typed).e164 if typed else ""
    except InvalidPhoneNumber:
        return ""


async def _rate(
    ws: web.WebSocketResponse, app: web.Application, visit: Visit, frame: frames.Rate
) -> None:
    if visit.conversation_id is None:
        raise frames.FrameError("还没有可以评价的会话")
    router = app[ROUTER]
    conv = await router.conversation(visit.conversation_id)
    await router.save_conversation(replace(conv, rating=frame.value))
    at = datetime.now(UTC)
    rating = Rating(conv.id, conv.customer_id, conv.agent, frame.value, frame.comment, at)
    await app[RATINGS].put(rating)
    log.info("webchat.rated", extra={"conversation": conv.id, "rating": frame.value})
    await _send(ws, {"type": "rated", "value": frame.value})


async def _transcript(
    ws: web.WebSocketResponse, app: web.Application, visit: Visit, frame: frames.Transcript
) -> None:
    if visit.conversation_id is None:
        raise frames.FrameError("还没有聊天记录")
    to = [contact.destination(frame.phone, "")] if frame.phone else []
    if frame.email:
        to.append(contact.destination("", frame.email))
    ask = TranscriptAsk(visit.visitor, visit.conversation_id, tuple(to))
    try:
        requested = await app[TRANSCRIPTS](ask, Transports(app.get(OUTBOUND), app.get(MAILER)))
    except DestinationNotVerified as e:
        unverified = e.to.kind == PHONE
        raise frames.FrameError(
            texts.TRANSCRIPT_PHONE_UNVERIFIED if unverified else texts.TRANSCRIPT_EMAIL_UNVERIFIED
        ) from None
    except TooManyTranscripts:
        raise frames.FrameError(texts.TRANSCRIPTS_TOO_OFTEN) from None
    frame_out = {"type": "transcript_requested", "status": requested.status}
    await _send(ws, frame_out | {"via": list(requested.via)})


async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
