"""Typed application keys of the SMS channel (re-exported by channels.sms).

REPO and DEPARTMENTS are set by the composition root before the channel opens (the channel
touches no database itself); the others by the channel."""

from __future__ import annotations

from aiohttp import web

from cases.departments import DepartmentRepository
from channels.sms.gateway import SmsGateway
from channels.sms.inbound import SmsInbox
from channels.sms.outbound import SmsOutbound
from channels.sms.records import SmsRepository

REPO = web.AppKey("sms_repo", SmsRepository)
DEPARTMENTS = web.AppKey("sms_departments", DepartmentRepository)  # who gets 派单 SMS

OUTBOUND = web.AppKey("sms_outbound", SmsOutbound)
INBOX = web.AppKey("sms_inbox", SmsInbox)
GATEWAY = web.AppKey("sms_gateway", SmsGateway)
