"""GET/POST /channels/wechat: URL verification and message callbacks.

Every request is checked first (channels/wechat/verification.py: signature, timestamp
window, nonce, safe mode); a refusal is a 4xx with a JSON reason. The router runs as a task:
if its answer is ready within the passive-reply deadline (WeChat waits 5 s; we keep a
margin) it goes back in the HTTP response; otherwise WeChat gets `success` at once and the
answer follows through the customer-service API. A retry of a message still being answered
waits for the same task, so WeChat's three tries never produce a second case or reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict

from aiohttp import web
from wechatpy.replies import TextReply

from agent_web.keys import MESSAGES, OUTBOX, ROUTER
from channels.revisit import RevisitSurveys
from channels.wechat import messages, texts
from channels.wechat.config import WeChatConfig
from channels.wechat.verification import CallbackGuard, Refused
from primitives.clock import Clock
from routing.messages import DeliveryState, InboundMessage, SenderKind
from routing.outbox import OutboundMessage
from routing.turns import InboundResult

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
SUCCESS = "success"
_REMEMBER = 10_000  # message ids answered through the API, for late retries


class WeChatCallback:
    def __init__(self, config: WeChatConfig, clock: Clock) -> None:
        self.config = config
        self._guard = CallbackGuard(config, clock)
        self._inflight: dict[str, asyncio.Task[InboundResult]] = {}
        self._answered_late: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self.surveys: RevisitSurveys | None = None  # set at start when templates are on

    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        echostr = q.get("echostr", "")
        try:
            self._guard.check_query(q)
            self._guard.once(q, b"echostr:" + echostr.encode("utf-8", "surrogatepass"))
        except Refused as e:
            return _refusal(request, e)
        return web.Response(text=echostr)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            self._guard.check_query(q)
            encrypted = self._guard.encrypted(q)
            body = await _read_body(request)
            # msg_signature before the nonce, so only a body WeChat signed can spend it
            xml = self._guard.open(q, body) if encrypted else body
            self._guard.once(q, body)
            msg = messages.parse(xml)
        except Refused as e:
            return _refusal(request, e)
        except messages.BadMessage as e:
            return _refusal(request, Refused(400, str(e)))
        reply = await self._answer(request.app, msg)
        if reply is None:
            return web.Response(text=SUCCESS)
        # CreateTime from the message answered, so a retry gets the same reply byte for byte
        xml_out = TextReply(
            source=msg.account, target=msg.openid, content=reply, time=msg.created
        ).render()
        if encrypted:
            xml_out = self._guard.seal(xml_out, q)
        return web.Response(text=xml_out, content_type="application/xml")

    async def close(self) -> None:
        for task in [*self._inflight.values(), *self._tasks]:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 5)

    # ------------------------------------------------------------------ internals
    async def _answer(self, app: web.Application, msg: messages.Received) -> str | None:
        if msg.is_event:
            return await self._event(app, msg)
        inbound = messages.inbound(msg, self.config.app_id)
        if self.surveys is not None and await self.surveys.answer(
            inbound.identity.value, inbound.text, key=inbound.external_id
        ):
            return texts.SURVEY_THANKS  # a 1/2/3 revisit rating, recorded on the case
        return await self._route(app, inbound)

    async def _event(self, app: web.Application, event: messages.Received) -> str | None:
        if event.event in ("subscribe", "scan"):  # a follow, with or without a QR scene
            return texts.WELCOME
        if event.event == "click":
            text = texts.CLICK_TEXT.get(event.event_key)
            if text:
                return await self._route(app, messages.inbound(event, self.config.app_id, text))
        # unsubscribe, view, location reports, template receipts, events we do not know:
        # acknowledged, nothing to say, nothing routed
        return None

    async def _route(self, app: web.Application, msg: InboundMessage) -> str | None:
        key = msg.external_id
        if key in self._answered_late:
            return None  # the answer already went out through the API
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(app[ROUTER].handle_inbound(msg))
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
        conv = await app[ROUTER].conversation(result.conversation_id)
        pending = []
        for reply in result.replies:
            await app[MESSAGES].set_delivery(reply.message_id, DeliveryState.PENDING)
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
        app[OUTBOX].deliver(pending)


async def _read_body(request: web.Request) -> bytes:
    """The whole body, at most MAX_BODY bytes. Raises Refused (413) beyond that."""
    too_big = Refused(413, f"the body is larger than {MAX_BODY} bytes")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(request: web.Request, e: Refused) -> web.Response:
    log.info("wechat.refused", extra={"status": e.status, "reason": str(e), "path": request.path})
    return web.json_response({"error": "refused", "reason": str(e)}, status=e.status)
