"""The SMS channel. install(app) adds it when SMPP_HOST (an SMSC over SMPP 3.4) or
SMS_HTTP_URL + SMS_WEBHOOK_SECRET (an HTTP provider) is configured.

Inbound SMS join the customer's conversation (identity: the phone number); replies and case
notifications go out as stored, rate-limited, retried SMS whose delivery receipts are kept
(GET /api/v1/cases/{number}/sms shows them for a case).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict

from aiohttp import web

from agent_web.auth import Caller, requires
from agent_web.keys import CASE_DESK, CLOCK, DB, SETTINGS
from channels.keys import ROUTING
from channels.revisit import RevisitSurveys
from channels.sms.gateway import HttpSmsGateway, SmppGateway, SmsGateway
from channels.sms.inbound import CHANNEL, SmsInbox
from channels.sms.limiter import PerNumberLimiter
from channels.sms.notify import CaseNotifier
from channels.sms.outbound import SmsOutbound
from channels.sms.sender import SmsSender
from channels.sms.smpp_client import SmppClient, SmppConfig
from channels.sms.webhook import SmsWebhook
from hub.settings import Settings
from mongo.people import MongoDepartmentRepository
from mongo.sms import MongoSmsRepository
from routing.agents import Role
from routing.customers import IdentityKind

WEBHOOK_PATH = "/channels/sms/webhook"
OUTBOUND = web.AppKey("sms_outbound", SmsOutbound)
INBOX = web.AppKey("sms_inbox", SmsInbox)
GATEWAY = web.AppKey("sms_gateway", SmsGateway)
REPO = web.AppKey("sms_repo", MongoSmsRepository)


def install(app: web.Application) -> None:
    settings = app[SETTINGS]
    if not (settings.smpp_host or (settings.sms_http_url and settings.sms_webhook_secret)):
        return
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
    assert settings.sms_http_url
    assert settings.sms_webhook_secret
    return HttpSmsGateway(
        settings.sms_http_url, settings.sms_webhook_secret.get_secret_value(), settings.sms_source
    )


async def _webhook(request: web.Request) -> web.Response:
    app = request.app
    secret = app[SETTINGS].sms_webhook_secret
    assert secret is not None
    return await SmsWebhook(secret.get_secret_value(), app[INBOX], app[OUTBOUND]).receive(request)


@requires(Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT, Role.ADMIN)
async def case_sms(request: web.Request, me: Caller) -> web.Response:
    """The SMS sent for a case (notifications and revisit), with their delivery state."""
    records = await request.app[REPO].for_case(request.match_info["number"])
    return web.json_response({"sms": [_public(asdict(r)) for r in records]}, dumps=_dumps)


def _public(record: dict[str, object]) -> dict[str, object]:
    record.pop("receipts", None)
    return record


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
