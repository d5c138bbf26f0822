"""The SMS channel, always installed: over SMPP 3.4 to an SMSC when SMPP_HOST is set, else
through an HTTP provider when SMS_HTTP_URL (with SMS_WEBHOOK_SECRET) is, else to the console
gateway (the log: `hub demo` and one machine).

Inbound SMS join the customer's conversation (identity: the phone number); replies and case
notifications go out as stored, rate-limited, retried SMS whose delivery receipts are kept
(GET /api/v1/cases/{number}/sms shows them for a case).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from agent_web.keys import CASE_DESK, CLOCK, DB, SETTINGS
from channels.keys import ROUTING
from channels.revisit import RevisitSurveys
from channels.sms.case_log import case_sms
from channels.sms.console import ConsoleSmsGateway
from channels.sms.gateway import HttpSmsGateway, SmppGateway, SmsGateway
from channels.sms.inbound import CHANNEL, SmsInbox
from channels.sms.keys import GATEWAY, INBOX, OUTBOUND, REPO
from channels.sms.limiter import PerNumberLimiter
from channels.sms.notify import CaseNotifier
from channels.sms.outbound import SmsOutbound
from channels.sms.sender import SmsSender
from channels.sms.smpp_client import SmppClient, SmppConfig
from channels.sms.webhook import SmsWebhook
from hub.settings import Settings
from mongo.people import MongoDepartmentRepository
from mongo.sms import MongoSmsRepository
from routing.customers import IdentityKind

__all__ = ["GATEWAY", "INBOX", "OUTBOUND", "REPO", "install"]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/channels/sms/webhook"


def install(app: web.Application) -> None:
    settings = app[SETTINGS]
    app.cleanup_ctx.append(_open)
    app.router.add_get("/api/v1/cases/{number}/sms", case_sms)
    if settings.sms_webhook_secret is not None:
        app.router.add_post(WEBHOOK_PATH, _webhook)


async def _open(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    stack = app[ROUTING]
    repo = MongoSmsRepository(app[DB])
    gateway = _gateway(settings)
    outbound = SmsOutbound(
        repo,
        gateway,
        PerNumberLimiter(settings.sms_per_number_limit, settings.sms_per_number_window_s),
        stack.messages,
        app[CLOCK],
        backoff_s=settings.hub_outbox_backoff_s,
    )
    surveys = RevisitSurveys.for_channel(app, CHANNEL, IdentityKind.PHONE, "短信回访")
    inbox = SmsInbox(repo, stack.router, outbound, surveys, app[CLOCK], account=settings.sms_source)
    app[REPO], app[GATEWAY], app[OUTBOUND], app[INBOX] = repo, gateway, outbound, inbox
    stack.outbox.register(CHANNEL, SmsSender(outbound))
    app[CASE_DESK].on_change(CaseNotifier(outbound, surveys, MongoDepartmentRepository(app[DB])))
    if isinstance(gateway, SmppGateway):
        gateway.client.start(inbox.on_deliver)
    elif isinstance(gateway, ConsoleSmsGateway):
        gateway.start(outbound.on_receipt)
        log.warning("sms.console_gateway")  # SMS are logged, not sent: neither SMPP nor HTTP
    await outbound.resume()
    yield
    await outbound.close()
    await gateway.close()


def _gateway(settings: Settings) -> SmsGateway:
    if settings.smpp_host:
        password = settings.smpp_password.get_secret_value() if settings.smpp_password else ""
        config = SmppConfig(
            host=settings.smpp_host,
            port=settings.smpp_port,
            system_id=settings.smpp_system_id or "",
            password=password,
            source_addr=settings.sms_source,
            enquire_link_s=settings.smpp_enquire_link_s,
        )
        return SmppGateway(SmppClient(config))
    if settings.sms_http_url and settings.sms_webhook_secret:  # settings require the pair
        secret = settings.sms_webhook_secret.get_secret_value()
        return HttpSmsGateway(settings.sms_http_url, secret, settings.sms_source)
    return ConsoleSmsGateway()


async def _webhook(request: web.Request) -> web.Response:
    app = request.app
    secret = app[SETTINGS].sms_webhook_secret
    assert secret is not None
    return await SmsWebhook(secret.get_secret_value(), app[INBOX], app[OUTBOUND]).receive(request)
