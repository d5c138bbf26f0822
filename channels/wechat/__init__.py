"""The WeChat official-account channel (公众号). The hub installs it when WECHAT_APP_ID and
WECHAT_TOKEN are set; without them the hub runs without it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from agent_web.keys import CASE_DESK, CLOCK, CUSTOMERS, OUTBOX
from channels.revisit import RevisitSurveys
from channels.wechat.api import WeChatApi
from channels.wechat.callback import WeChatCallback
from channels.wechat.config import WeChatConfig
from channels.wechat.messages import CHANNEL
from channels.wechat.sender import WeChatSender
from channels.wechat.templates import CaseTemplateNotifier, TemplateIds
from routing.customers import IdentityKind

PATH = "/channels/wechat"
CALLBACK = web.AppKey("wechat_callback", WeChatCallback)
API = web.AppKey("wechat_api", WeChatApi)


def install(app: web.Application, config: WeChatConfig) -> None:
    callback = WeChatCallback(config, app[CLOCK])
    app[CALLBACK] = callback
    app[API] = WeChatApi(config.api_base, config.app_id, config.app_secret)
    app.router.add_get(PATH, callback.verify)
    app.router.add_post(PATH, callback.receive)
    app.cleanup_ctx.append(partial(_open, config=config))


async def _open(app: web.Application, config: WeChatConfig) -> AsyncIterator[None]:
    app[OUTBOX].register(CHANNEL, WeChatSender(app[API]))
    template = config.template_case_update
    if template:
        surveys = RevisitSurveys.for_channel(app, CHANNEL, IdentityKind.WECHAT, "微信回访")
        app[CALLBACK].surveys = surveys
        notifier = CaseTemplateNotifier(app[API], TemplateIds(template), app[CUSTOMERS], surveys)
        app[CASE_DESK].on_change(notifier)
    yield
    await app[CALLBACK].close()
    await app[API].close()
