"""The SMS channel, always installed: over SMPP 3.4 to an SMSC when SMPP_HOST is set, else
through an HTTP provider when SMS_HTTP_URL (with SMS_WEBHOOK_SECRET) is, else to the console
gateway (the log: `hub demo` and one machine).

Inbound SMS join the customer's conversation (identity: the phone number); replies and case
notifications go out as stored, rate-limited, retried SMS whose delivery receipts are kept
(GET /api/v1/cases/{number}/sms shows them for a case).

install(app, config) takes the SmsConfig hub builds from its settings; the SMS records and
the departments come from REPO and DEPARTMENTS, which the composition root sets before the
channel opens.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from agent_web.keys import CASE_DESK, CLOCK, MESSAGES, OUTBOX, ROUTER
from channels.revisit import RevisitSurveys
from channels.sms.case_log import case_sms
from channels.sms.config import SmsConfig
from channels.sms.console import ConsoleSmsGateway
from channels.sms.gateway import HttpSmsGateway, SmppGateway, SmsGateway
from channels.sms.inbound import CHANNEL, SmsInbox
from channels.sms.keys import DEPARTMENTS, GATEWAY, INBOX, OUTBOUND, REPO
from channels.sms.limiter import PerNumberLimiter
from channels.sms.notify import CaseNotifier
from channels.sms.outbound import SmsOutbound
from channels.sms.sender import SmsSender
from channels.sms.smpp_client import SmppClient
from channels.sms.webhook import SmsWebhook
from routing.customers import IdentityKind

__all__ = ["DEPARTMENTS", "GATEWAY", "INBOX", "OUTBOUND", "REPO", "SmsConfig", "install"]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/channels/sms/webhook"


def install(app: web.Application, config: SmsConfig) -> None:
    app.cleanup_ctx.append(partial(_open, config=config))
    app.router.add_get("/api/v1/cases/{number}/sms", case_sms)
    if config.webhook_secret is not None:
        app.router.add_post(WEBHOOK_PATH, partial(_webhook, secret=config.webhook_secret))


async def _open(app: web.Application, *, config: SmsConfig) -> AsyncIterator[None]:
    repo = app[REPO]
    gateway = _gateway(config)
    outbound = SmsOutbound(
        repo,
        gateway,
        PerNumberLimiter(config.per_number_limit, config.per_number_window_s),
        app[MESSAGES],
        app[CLOCK],
        backoff_s=config.backoff_s,
    )
    surveys = RevisitSurveys.for_channel(app, CHANNEL, IdentityKind.PHONE, "短信回访")
    inbox = SmsInbox(repo, app[ROUTER], outbound, surveys, app[CLOCK], account=config.source)
    app[GATEWAY], app[OUTBOUND], app[INBOX] = gateway, outbound, inbox
    app[OUTBOX].register(CHANNEL, SmsSender(outbound))
    app[CASE_DESK].on_change(CaseNotifier(outbound, surveys, app[DEPARTMENTS]))
    if isinstance(gateway, SmppGateway):
        gateway.client.start(inbox.on_deliver)
    elif isinstance(gateway, ConsoleSmsGateway):
        gateway.start(outbound.on_receipt)
        log.warning("sms.console_gateway")  # SMS are logged, not sent: neither SMPP nor HTTP
    await outbound.resume()
    yield
    await outbound.close()
    await gateway.close()


def _gateway(config: SmsConfig) -> SmsGateway:
    if config.smpp is not None:
        return SmppGateway(SmppClient(config.smpp))
    if config.http_url and config.webhook_secret:  # settings require the pair
        return HttpSmsGateway(config.http_url, config.webhook_secret, config.source)
    return ConsoleSmsGateway()


async def _webhook(request: web.Request, *, secret: str) -> web.Response:
    app = request.app
    return await SmsWebhook(secret, app[INBOX], app[OUTBOUND]).receive(request)
