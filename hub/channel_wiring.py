"""The web chat, WeChat, Telegram and REST channels wired into the hub: their configuration
built from the settings, and their repositories (MongoDB) set on the app before the channels
open.

The repositories are set by a cleanup_ctx appended just before each channel's own:
cleanup_ctx run in append order, after open_mongo (which creates the database handle). The
revisit surveys' repository is set with the web chat's, the first channel installed: WeChat
and SMS read it when they open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from aiohttp import web

from channels import rest, telegram, webchat, wechat
from channels.keys import SURVEYS
from channels.rest import RestConfig
from channels.telegram.config import TelegramConfig
from channels.telegram.keys import OFFSETS
from channels.webchat.config import WebchatConfig
from channels.webchat.keys import RATINGS, TRANSCRIPT_REQUESTS, UPLOAD_RECORDS, VERIFICATIONS
from channels.wechat.config import WeChatConfig
from hub.keys import DB
from hub.settings import DATA_DIR, Settings
from mongo.ratings import MongoRatingRepository
from mongo.surveys import MongoSurveyRepository
from mongo.telegram_offsets import MongoTelegramOffsets
from mongo.transcripts import MongoTranscriptRequestRepository
from mongo.uploads import MongoUploadRepository
from mongo.verifications import MongoVerificationRepository
from primitives.yaml_io import load_yaml


def add_rest(app: web.Application, settings: Settings) -> None:
    rest.add_routes(app, rest_config(settings))


def install_webchat(app: web.Application, settings: Settings) -> None:
    app.cleanup_ctx.append(_webchat_repositories)
    webchat.install(app, webchat_config(settings))


def install_wechat(app: web.Application, settings: Settings) -> None:
    config = wechat_config(settings)
    if config is not None:
        wechat.install(app, config)


def install_telegram(app: web.Application, settings: Settings) -> None:
    config = telegram_config(settings)
    if config is None:
        return
    app.cleanup_ctx.append(partial(_telegram_repositories, account=config.account))
    telegram.install(app, config)


def rest_config(settings: Settings) -> RestConfig:
    token = settings.hub_rest_token
    return RestConfig(
        token=token.get_secret_value() if token is not None else "", host=settings.hub_host
    )


def webchat_config(settings: Settings) -> WebchatConfig:
    secret = settings.hub_session_secret
    return WebchatConfig(
        var_dir=settings.hub_var_dir,
        session_secret=secret.get_secret_value() if secret is not None else None,
        popular=popular_questions(),
    )


def popular_questions(path: Path = DATA_DIR / "webchat_popular.yaml") -> tuple[str, ...]:
    """The widget's 常见问题 buttons: a curated list of knowledge-base questions."""
    data = load_yaml(path) if path.exists() else None
    return tuple(str(q).strip() for q in data or () if str(q).strip())


def wechat_config(settings: Settings) -> WeChatConfig | None:
    """None when WECHAT_APP_ID or WECHAT_TOKEN is unset: the hub runs without WeChat."""
    if not settings.wechat_app_id or settings.wechat_token is None:
        return None
    secret, aes_key = settings.wechat_app_secret, settings.wechat_aes_key
    return WeChatConfig(
        app_id=settings.wechat_app_id,
        token=settings.wechat_token.get_secret_value(),
        aes_key=aes_key.get_secret_value() if aes_key is not None else "",
        reply_deadline_s=settings.wechat_reply_deadline_s,
        app_secret=secret.get_secret_value() if secret is not None else "",
        api_base=settings.wechat_api_base,
        template_case_update=settings.wechat_template_case_update or "",
    )


def telegram_config(settings: Settings) -> TelegramConfig | None:
    """None when TELEGRAM_BOT_TOKEN is unset: the hub runs without Telegram."""
    if settings.telegram_bot_token is None:
        return None
    secret = settings.telegram_webhook_secret
    return TelegramConfig(
        token=settings.telegram_bot_token.get_secret_value(),
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        api_base=settings.telegram_api_base,
        public_url=settings.hub_public_url,
    )


async def _webchat_repositories(app: web.Application) -> AsyncIterator[None]:
    db = app[DB]
    app[UPLOAD_RECORDS] = MongoUploadRepository(db)
    app[VERIFICATIONS] = MongoVerificationRepository(db)
    app[TRANSCRIPT_REQUESTS] = MongoTranscriptRequestRepository(db)
    app[RATINGS] = MongoRatingRepository(db)
    app[SURVEYS] = MongoSurveyRepository(db)
    yield


async def _telegram_repositories(app: web.Application, account: str) -> AsyncIterator[None]:
    app[OFFSETS] = MongoTelegramOffsets(app[DB], account)
    yield
