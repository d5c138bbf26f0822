"""Outbound e-mail (web-chat transcripts). install(app, config) adds it when SMTP is
configured; without it, e-mail requests are recorded and stay pending.

The mail records come from REPO, which the composition root sets before the channel opens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from agent_web.keys import CLOCK
from channels.mail.config import MailConfig
from channels.mail.keys import MAILER, REPO
from channels.mail.outbox import MailOutbox
from channels.mail.smtp import SmtpConfig, SmtpTransport

__all__ = ["MAILER", "REPO", "MailConfig", "install"]


def install(app: web.Application, config: MailConfig) -> None:
    if config.smtp is not None:
        app.cleanup_ctx.append(partial(_open, smtp=config.smtp, backoff_s=config.backoff_s))


async def _open(
    app: web.Application, *, smtp: SmtpConfig, backoff_s: tuple[float, ...]
) -> AsyncIterator[None]:
    outbox = MailOutbox(app[REPO], SmtpTransport(smtp), app[CLOCK], backoff_s=backoff_s)
    app[MAILER] = outbox
    await outbox.resume()
    yield
    await outbox.close()
