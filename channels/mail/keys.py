"""Typed application keys of the mail channel (re-exported by channels.mail).

REPO is set by the composition root before the channel opens (the channel touches no
database itself); MAILER by the channel, when SMTP is configured."""

from __future__ import annotations

from aiohttp import web

from channels.mail.outbox import MailOutbox
from channels.mail.records import MailRepository

REPO = web.AppKey("mail_repo", MailRepository)
MAILER = web.AppKey("mail_outbox", MailOutbox)
