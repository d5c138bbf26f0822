"""Typed application keys for what channel handlers read from the app."""

from __future__ import annotations

from aiohttp import web

from channels.surveys import SurveyRepository

# The revisit surveys of every channel that asks them (SMS, WeChat): channels/revisit.py
SURVEYS = web.AppKey("revisit_surveys", SurveyRepository)
