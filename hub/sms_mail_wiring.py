"""The SMS and mail channels wired into the hub: their configuration built from the
settings, and their repositories (MongoDB) set on the app before the channels open.

The repositories are set by a cleanup_ctx appended just before each channel's own:
cleanup_ctx run in append order, after open_mongo (which creates the database handle)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from channels import mail, sms
from channels.mail import MailConfig
from channels.mail.smtp import SmtpConfig
from channels.sms import SmsConfig
from channels.sms.smpp_client import SmppConfig
from hub.keys import DB
from hub.settings import Settings
from mongo.mail import MongoMailRepository
from mongo.people import MongoDepartmentRepository
from mongo.sms import MongoSmsRepository


def install_sms(app: web.Application, settings: Settings) -> None:
    app.cleanup_ctx.append(_sms_repositories)
    sms.install(app, sms_config(settings))


def install_mail(app: web.Application, settings: Settings) -> None:
    app.cleanup_ctx.append(_mail_repositories)
    mail.install(app, mail_config(settings))


def sms_config(settings: Settings) -> SmsConfig:
    secret = settings.sms_webhook_secret
    return SmsConfig(
        source=settings.sms_source,
        per_number_limit=settings.sms_per_number_limit,
        per_number_window_s=settings.sms_per_number_window_s,
        backoff_s=settings.hub_outbox_backoff_s,
        smpp=_smpp_config(settings),
        http_url=settings.sms_http_url,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
    )


def _smpp_config(settings: Settings) -> SmppConfig | None:
    if not settings.smpp_host:
        return None
    password = settings.smpp_password
    return SmppConfig(
        host=settings.smpp_host,
        port=settings.smpp_port,
        system_id=settings.smpp_system_id or "",
        password=password.get_secret_value() if password is not None else "",
        source_addr=settings.sms_source,
        enquire_link_s=settings.smpp_enquire_link_s,
    )


def mail_config(settings: Settings) -> MailConfig:
    return MailConfig(smtp=_smtp_config(settings), backoff_s=settings.hub_outbox_backoff_s)


def _smtp_config(settings: Settings) -> SmtpConfig | None:
    if not settings.smtp_host:
        return None
    password = settings.smtp_password
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_user,
        password=password.get_secret_value() if password is not None else None,
        sender=settings.smtp_from,
    )


async def _sms_repositories(app: web.Application) -> AsyncIterator[None]:
    app[sms.REPO] = MongoSmsRepository(app[DB])
    app[sms.DEPARTMENTS] = MongoDepartmentRepository(app[DB])
    yield


async def _mail_repositories(app: web.Application) -> AsyncIterator[None]:
    app[mail.REPO] = MongoMailRepository(app[DB])
    yield
