"""Typed application keys of the SMS channel (re-exported by channels.sms)."""

from __future__ import annotations

from aiohttp import web

from channels.sms.gateway import SmsGateway
from channels.sms.inbound import SmsInbox
from channels.sms.outbound import SmsOutbound
from mongo.sms import MongoSmsRepository

OUTBOUND = web.AppKey("sms_outbound", SmsOutbound)
INBOX = web.AppKey("sms_inbox", SmsInbox)
GATEWAY = web.AppKey("sms_gateway", SmsGateway)
REPO = web.AppKey("sms_repo", MongoSmsRepository)
