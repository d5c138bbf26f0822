"""The WeChat official-account channel (公众号). install(app) adds it when WECHAT_APP_ID and
WECHAT_TOKEN are set; without them the hub runs without it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from agent_web.keys import CASE_DESK, CLOCK, SETTINGS
from channels.keys import ROUTING
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


def install(app: web.Application) -> None:
    settings = app[SETTINGS]
    if not settings.wechat_app_id or settings.wechat_token is None:
        return
    secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
    callback = WeChatCallback(
        WeChatConfig(
            app_id=settings.wechat_app_id,
            token=settings.wechat_token.get_secret_value(),
            aes_key=settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else "",
            reply_deadline_s=settings.wechat_reply_deadline_s,
        ),
        app[CLOCK],
    )
    app[CALLBACK] = callback
    app[API] = WeChatApi(settings.wechat_api_base, settings.wechat_app_id, secret)
    app.router.add_get(PATH, callback.verify)
    app.router.add_post(PATH, callback.receive)
    app.cleanup_ctx.append(_open)


async def _open(app: web.Application) -> AsyncIterator[None]:
    app[ROUTING].outbox.register(CHANNEL, WeChatSender(app[API]))
    template = app[SETTINGS].wechat_template_case_update
    if template:
        stack = app[ROUTING]
        surveys = RevisitSurveys.for_channel(app, CHANNEL, IdentityKind.WECHAT, "微信回访")
        app[CALLBACK].surveys = surveys
        notifier = CaseTemplateNotifier(app[API], TemplateIds(template), stack.customers, surveys)
        app[CASE_DESK].on_change(notifier)
    yield
    await app[CALLBACK].close()
    await app[API].close()
