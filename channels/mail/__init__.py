"""Outbound e-mail (web-chat transcripts). install(app) adds it when SMTP_HOST is set;
without it, e-mail requests are recorded and stay pending."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from agent_web.keys import CLOCK, DB, SETTINGS
from channels.mail.outbox import MailOutbox
from channels.mail.smtp import SmtpConfig, SmtpTransport
from hub.settings import Settings
from mongo.mail import MongoMailRepository

MAILER = web.AppKey("mail_outbox", MailOutbox)


def install(app: web.Application) -> None:
    if app[SETTINGS].smtp_host:
        app.cleanup_ctx.append(_open)


def smtp_config(settings: Settings) -> SmtpConfig:
    assert settings.smtp_host is not None
    password = settings.smtp_password
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_user,
        password=password.get_secret_value() if password is not None else None,
        sender=settings.smtp_from,
    )


async def _open(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    outbox = MailOutbox(
        MongoMailRepository(app[DB]),
        SmtpTransport(smtp_config(settings)),
        app[CLOCK],
        backoff_s=settings.hub_outbox_backoff_s,
    )
    app[MAILER] = outbox
    await outbox.resume()
    yield
    await outbox.close()
