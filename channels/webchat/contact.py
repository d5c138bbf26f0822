"""The widget's 验证手机号 / 验证邮箱 frames: send a one-time code to a number or address, take
it back, and only then link a verified phone to the visitor's customer. When another
customer already holds that number (an SMS or call history), the two are merged into one
history, the number's owner surviving."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from agent_web.keys import CUSTOMERS, ROUTER
from channels.mail import MAILER
from channels.sms import OUTBOUND
from channels.webchat import frames, texts
from channels.webchat.keys import VERIFIER
from channels.webchat.verification import (
    PHONE,
    CodeProblem,
    CodeRefused,
    Delivery,
    Destination,
    InvalidDestination,
    TooManyCodes,
)
from routing.customers import CustomerRepository, Identity, IdentityKind
from routing.errors import IdentityTaken
from routing.router import Router

log = logging.getLogger(__name__)

_PROBLEMS = {
    CodeProblem.NONE: texts.CODE_NONE,
    CodeProblem.EXPIRED: texts.CODE_EXPIRED,
    CodeProblem.EXHAUSTED: texts.CODE_EXHAUSTED,
    CodeProblem.USED: texts.CODE_USED,
}


def destination(phone: str, email: str) -> Destination:
    """The phone (if given) or e-mail address of a frame. Raises FrameError."""
    try:
        return Destination.phone(phone) if phone else Destination.email(email)
    except InvalidDestination:
        raise frames.FrameError(texts.PHONE_INVALID) from None


def via(to: Destination) -> str:
    return "sms" if to.kind == PHONE else "email"


async def send_code(app: web.Application, visitor: str, frame: frames.Verify) -> dict[str, Any]:
    to = destination(frame.phone, frame.email)
    deliver = _delivery(app, to)
    if deliver is None:
        raise frames.FrameError(texts.CODE_NO_SMS if to.kind == PHONE else texts.CODE_NO_MAIL)
    try:
        await app[VERIFIER].send_code(visitor, to, deliver)
    except TooManyCodes:
        log.info("webchat.codes_refused", extra={"via": via(to), "to": to.masked})
        raise frames.FrameError(texts.CODES_TOO_OFTEN) from None
    log.info("webchat.code_sent", extra={"via": via(to), "to": to.masked})
    return {"type": "verify_sent", "via": via(to), "to": to.masked}


async def confirm_code(
    app: web.Application, visitor: str, frame: frames.VerifyCode
) -> dict[str, Any]:
    to = destination(frame.phone, frame.email)
    try:
        await app[VERIFIER].confirm(visitor, to, frame.code)
    except CodeRefused as e:
        log.info("webchat.code_refused", extra={"problem": e.problem.value, "to": to.masked})
        if e.problem is CodeProblem.WRONG:
            raise frames.FrameError(texts.CODE_WRONG.format(left=e.attempts_left)) from None
        raise frames.FrameError(_PROBLEMS[e.problem]) from None
    if to.kind == PHONE:
        await link_phone(app[CUSTOMERS], app[ROUTER], visitor, to.address)
    log.info("webchat.contact_verified", extra={"via": via(to), "to": to.masked})
    return {"type": "verified", "via": via(to), "to": to.masked}


async def link_phone(
    customers: CustomerRepository, router: Router, visitor: str, e164: str
) -> None:
    """Give the visitor's customer the verified number's identity: one history."""
    me = await customers.get_or_create(Identity(IdentityKind.WEB, visitor))
    try:
        await customers.add_identity(me.id, Identity(IdentityKind.PHONE, e164))
    except IdentityTaken as e:
        await customers.merge(me.id, e.owner_id)
        router.forget_customer(e.owner_id)
    router.forget_customer(me.id)


def _delivery(app: web.Application, to: Destination) -> Delivery | None:
    """How a code reaches `to`: the SMS or mail outbox (stored, retried); None without one."""
    minutes = int(app[VERIFIER].policy.ttl.total_seconds() // 60)
    sms, mailer = app.get(OUTBOUND), app.get(MAILER)
    if to.kind == PHONE and sms is not None:
        outbound = sms

        async def by_sms(code: str, key: str) -> None:
            # Asked for by the visitor, not a notification: an opt-out (退订) does not stop it;
            # the per-number limit keeps it from being used to pester anyone.
            text = texts.CODE_SMS.format(code=code, minutes=minutes)
            await outbound.notify(to.address, text, "verification", key=key, respect_opt_out=False)

        return by_sms
    if to.kind != PHONE and mailer is not None:
        outbox = mailer

        async def by_mail(code: str, key: str) -> None:
            body = texts.CODE_MAIL.format(code=code, minutes=minutes)
            await outbox.send(to.address, texts.CODE_MAIL_SUBJECT, body, "verification", key=key)

        return by_mail
    return None
