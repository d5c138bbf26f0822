"""GET/POST /channels/wechat: URL verification and message callbacks.

Every request's signature is checked (403 otherwise). The router runs as a task: if its
answer is ready within the passive-reply deadline (WeChat waits 5 s; we keep a margin) it
goes back in the HTTP response; otherwise WeChat gets `success` at once and the answer
follows through the customer-service API. A retry of a message still being answered waits
for the same task, so WeChat's three tries never produce a second case or reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import BaseEvent
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.keys import ROUTING
from channels.revisit import RevisitSurveys
from channels.wechat import messages, texts
from routing.messages import DeliveryState, InboundMessage, SenderKind
from routing.outbox import OutboundMessage
from routing.turns import InboundResult

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
SUCCESS = "success"
_REMEMBER = 10_000  # message ids answered through the API, for late retries


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    app_id: str
    token: str
    aes_key: str = ""  # set: compatible and safe modes can be decrypted
    reply_deadline_s: float = 4.0


class WeChatCallback:
    def __init__(self, config: WeChatConfig) -> None:
        self.config = config
        self._crypto = (
            WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        )
        self._inflight: dict[str, asyncio.Task[InboundResult]] = {}
        self._answered_late: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self.surveys: RevisitSurveys | None = None  # set at start when templates are on

    async def verify(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        self._check(request)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise _refuse(web.HTTPRequestEntityTooLarge, "body too large")
        q = request.query
        aes = q.get("encrypt_type") == "aes"
        try:
            messages.check_xml(body)
            xml = self._decrypt(body, q) if aes else body
            msg = messages.parse(xml)
        except messages.BadMessage as e:
            log.info("wechat.bad_message", extra={"reason": str(e)})
            raise _refuse(web.HTTPBadRequest, "bad message") from None
        reply = await self._answer(request.app, msg)
        if reply is None:
            return web.Response(text=SUCCESS)
        # CreateTime from the message answered, so a retry gets the same reply byte for byte
        created = int(msg.create_time.timestamp())
        xml_out = TextReply(
            source=msg.target, target=msg.source, content=reply, time=created
        ).render()
        if aes:
            assert self._crypto is not None
            xml_out = self._crypto.encrypt_message(xml_out, q.get("nonce", ""), q.get("timestamp"))
        return web.Response(text=xml_out, content_type="application/xml")

    async def close(self) -> None:
        for task in [*self._inflight.values(), *self._tasks]:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 5)

    # ------------------------------------------------------------------ internals
    def _check(self, request: web.Request) -> None:
        q = request.query
        try:
            check_signature(
                self.config.token,
                q.get("signature", ""),
                q.get("timestamp", ""),
                q.get("nonce", ""),
            )
        except InvalidSignatureException:
            log.warning("wechat.bad_signature", extra={"path": request.path})
            raise _refuse(web.HTTPForbidden, "invalid signature") from None

    def _decrypt(self, body: bytes, q: object) -> str:
        if self._crypto is None:
            raise messages.BadMessage("encrypted message but WECHAT_AES_KEY is not set")
        try:
            return self._crypto.decrypt_message(
                body, q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
            )
        except InvalidSignatureException:
            raise messages.BadMessage("invalid msg_signature") from None
        except Exception as e:  # wechatpy raises several types for a body it cannot decrypt
            raise messages.BadMessage(f"cannot decrypt: {type(e).__name__}") from None

    async def _answer(self, app: web.Application, msg: object) -> str | None:
        if isinstance(msg, BaseEvent):
            return await self._event(app, msg)
        inbound = messages.inbound(msg, self.config.app_id)
        if self.surveys is not None and await self.surveys.answer(
            inbound.identity.value, inbound.text, key=inbound.external_id
        ):
            return texts.SURVEY_THANKS  # a 1/2/3 revisit rating, recorded on the case
        return await self._route(app, inbound)

    async def _event(self, app: web.Application, event: BaseEvent) -> str | None:
        kind = event.event
        if kind in ("subscribe", "subscribe_scan", "scan"):
            return texts.WELCOME
        if kind == "click":
            text = texts.CLICK_TEXT.get(str(event.key))
            if text:
                return await self._route(app, messages.click(event, self.config.app_id, text))
        return None  # unsubscribe, view, location reports …: nothing to say

    async def _route(self, app: web.Application, msg: InboundMessage) -> str | None:
        key = msg.external_id
        if key in self._answered_late:
            return None  # the answer already went out through the API
        task = self._inflight.get(key)
        if task is None:
            stack = app[ROUTING]
            task = asyncio.get_running_loop().create_task(stack.router.handle_inbound(msg))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(asyncio.shield(task), self.config.reply_deadline_s)
        except TimeoutError:
            if key not in self._answered_late:
                self._late(key)
                later = asyncio.get_running_loop().create_task(self._send_late(app, task))
                self._tasks.add(later)
                later.add_done_callback(self._tasks.discard)
            log.info("wechat.reply_late", extra={"waited_s": round(time.monotonic() - started, 2)})
            return None
        return "\n\n".join(r.text for r in result.replies) or None

    def _late(self, key: str) -> None:
        self._answered_late[key] = None
        while len(self._answered_late) > _REMEMBER:
            self._answered_late.popitem(last=False)

    async def _send_late(self, app: web.Application, task: asyncio.Task[InboundResult]) -> None:
        """The answer missed the passive window: deliver its stored replies through the
        outbox (customer-service API, retried, delivery state recorded)."""
        result = await task
        stack = app[ROUTING]
        conv = await stack.router.book.get(result.conversation_id)
        pending = []
        for reply in result.replies:
            await stack.messages.set_delivery(reply.message_id, DeliveryState.PENDING)
            pending.append(
                OutboundMessage(
                    reply.message_id,
                    conv.id,
                    messages.CHANNEL,
                    conv.account,
                    conv.reply_to,
                    reply.text,
                    SenderKind.BOT,
                    quick_replies=reply.quick_replies,
                )
            )
        await stack.outbox.resume(pending)


def _refuse(cls: type[web.HTTPException], reason: str) -> web.HTTPException:
    return cls(
        text=f'{{"error": "refused", "reason": "{reason}"}}', content_type="application/json"
    )
