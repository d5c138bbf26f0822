"""Typed settings from the environment and `.env`. Bad values stop the hub at start."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kb.embedder import DEFAULT_EMBEDDER, EMBEDDER_CHOICES, is_embedder_spec
from nlu.errors import TrainingDataError
from nlu.training_data import training_files

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"

# Prefixes of environment variables that belong to us: a name with one of these prefixes that
# is not a known setting is almost always a typo (HUB_PROT=…), so it is refused.
OWN_PREFIXES = (
    "HUB_",
    "KB_",
    "NLU_",
    "WECHAT_",
    "TELEGRAM_",
    "SMPP_",
    "SMS_",
    "SMTP_",
    "RASA_",
    "VOSK_",
    "ARI_",
    "AUDIOSOCKET_",
    "VOICE_",
    "IVR_",
)
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


class SettingsError(ValueError):
    """Settings that cannot work; the message names the variable and the problem."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="forbid", case_sensitive=False
    )

    # database
    mongo_url: str | None = None  # unset: start the embedded mongoeco server
    mongo_db: str = "hub"
    # how long a database call waits for a reachable server before the hub answers 503
    mongo_selection_timeout_s: float = Field(default=5.0, gt=0, le=60)
    hub_db_path: Path = REPO_DIR / "var" / "hub.sqlite"
    hub_db_python: Path | None = None  # the .venv-db interpreter; found next to the repo if unset
    # http
    hub_host: str = "127.0.0.1"
    hub_port: int = Field(default=8345, ge=1, le=65535)
    hub_public_url: str | None = None  # how citizens' browsers reach us (widget, links)
    # reverse proxies in front of the hub that append to X-Forwarded-For (0: none, the peer
    # address is the client's; staff sign-in is throttled per client address)
    hub_proxy_hops: int = Field(default=0, ge=0, le=5)
    hub_var_dir: Path = REPO_DIR / "var"
    hub_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # signs web-chat visitor tokens; unset: a random one kept under var/
    hub_session_secret: SecretStr | None = None
    hub_demo: bool = False
    hub_routing_config: Path = DATA_DIR / "routing.yaml"
    # seconds between delivery attempts of an outbound message (then it is marked failed)
    hub_outbox_backoff_s: tuple[float, ...] = (1, 2, 5, 15, 60)
    # bearer token for the REST channel; unset: open on a loopback HUB_HOST only, else closed
    hub_rest_token: SecretStr | None = None
    hub_metrics_token: SecretStr | None = None  # GET /metrics from off the host (else loopback)
    # bot data and models
    rasa_url: str | None = None  # unset: embedded NLU only
    kb_embedder: str = DEFAULT_EMBEDDER
    kb_data: Path = DATA_DIR / "kb" / "articles.yaml"
    kb_thresholds: Path = DATA_DIR / "kb" / "thresholds.yaml"
    nlu_data: Path = DATA_DIR / "nlu"  # a file, or every *.yml in a directory
    taxonomy_data: Path = DATA_DIR / "taxonomy.yaml"
    vosk_model: Path | None = None  # unset: speech is off, DTMF-only IVR flows
    # voice: Asterisk ARI (unset ARI_URL: no PBX; the browser test call still works)
    ari_url: str | None = None  # e.g. http://pbx:8088 (the /ari prefix is added)
    ari_user: str = "hub"
    ari_password: SecretStr | None = None
    ari_app: str = "hub12345"
    audiosocket_host: str = "127.0.0.1"  # where the hub listens for Asterisk's AudioSocket
    audiosocket_port: int = Field(default=9092, ge=0, le=65535)
    # host:port Asterisk dials for externalMedia (default: AUDIOSOCKET_HOST:its port)
    voice_media_host: str | None = None
    ivr_flows: Path = REPO_DIR / "telephony" / "data" / "flows"
    voice_dialed: str = "12345"  # the hotline number, for calls that do not say
    # espeak-ng words per minute (its default 175); slower for a line with many elderly callers
    voice_tts_rate: int | None = Field(default=None, ge=80, le=450)
    # channels
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com/cgi-bin/"
    # WeChat waits 5 s for a passive reply; later answers go through the customer-service API
    wechat_reply_deadline_s: float = Field(default=4.0, gt=0, le=4.5)
    # template id (fields first/keyword1/keyword2/remark) for case accepted/dispatched/completed
    wechat_template_case_update: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base: str | None = None  # a local Bot API server
    smpp_host: str | None = None
    smpp_port: int = Field(default=2775, ge=1, le=65535)
    smpp_system_id: str | None = None
    smpp_password: SecretStr | None = None
    smpp_enquire_link_s: float = Field(default=30.0, gt=0)
    sms_source: str = "12345"
    sms_webhook_secret: SecretStr | None = None  # HTTP provider: signs its webhook and our sends
    sms_http_url: str | None = None  # HTTP provider's send endpoint (instead of SMPP)
    # at most this many SMS to one number per window; more wait their turn
    sms_per_number_limit: int = Field(default=6, ge=1)
    sms_per_number_window_s: float = Field(default=60.0, gt=0)
    # e-mail (transcripts); unset SMTP_HOST: e-mail requests are recorded, not sent
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "noreply@localhost"

    @field_validator("mongo_url")
    @classmethod
    def _mongo_scheme(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return v or None

    @field_validator("rasa_url", "hub_public_url", "telegram_api_base", "sms_http_url", "ari_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/") if v else None

    @field_validator("kb_embedder")
    @classmethod
    def _embedder_spec(cls, v: str) -> str:
        if not is_embedder_spec(v):
            raise ValueError(f"must be {EMBEDDER_CHOICES}")
        return v

    @field_validator("kb_data", "taxonomy_data", "hub_routing_config")
    @classmethod
    def _file_exists(cls, v: Path) -> Path:
        if not v.is_file():
            raise ValueError(f"file {v} does not exist")
        return v

    @field_validator("nlu_data")
    @classmethod
    def _nlu_data_exists(cls, v: Path) -> Path:
        """A Rasa NLU file, or a directory of them (as Rasa's data directory)."""
        if not v.exists():
            raise ValueError(f"file or directory {v} does not exist")
        try:
            training_files(v)
        except TrainingDataError as e:
            raise ValueError(str(e)) from e
        return v

    @field_validator("vosk_model")
    @classmethod
    def _dir_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_dir():
            raise ValueError(f"directory {v} does not exist")
        return v

    @field_validator("wechat_aes_key")
    @classmethod
    def _aes_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) != 43:
            raise ValueError("an EncodingAESKey has exactly 43 characters")
        return v

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not _TELEGRAM_SECRET.fullmatch(v.get_secret_value()):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return v

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not _TELEGRAM_TOKEN.fullmatch(v.get_secret_value()):
            raise ValueError("a bot token looks like 123456:ABC-def (from @BotFather)")
        return v

    @field_validator("smtp_from")
    @classmethod
    def _mail_address(cls, v: str) -> str:
        local, at, domain = v.partition("@")
        if not (local and at and domain) or any(c.isspace() for c in v):
            raise ValueError("an e-mail address like hotline@example.gov.cn")
        return v

    @model_validator(mode="after")
    def _pairs_complete(self) -> Settings:
        if self.wechat_app_id and self.wechat_token is None:
            raise ValueError("WECHAT_TOKEN is required when WECHAT_APP_ID is set")
        if self.smtp_user and self.smtp_password is None:
            raise ValueError("SMTP_PASSWORD is required when SMTP_USER is set")
        if self.sms_http_url and self.sms_webhook_secret is None:
            raise ValueError("SMS_WEBHOOK_SECRET is required when SMS_HTTP_URL is set")
        return self

    @property
    def embedded_db(self) -> bool:
        return self.mongo_url is None

    def db_python(self) -> Path:
        return self.hub_db_python or REPO_DIR / ".venv-db" / "bin" / "python"


def load_settings(**overrides: object) -> Settings:
    """Settings from env/.env plus overrides. Raises SettingsError with a readable message."""
    _refuse_unknown_env(os.environ)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise SettingsError(_describe(e)) from None


def _refuse_unknown_env(env: dict[str, str] | os._Environ[str]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    unknown = sorted(
        k for k in env if k.upper().startswith(OWN_PREFIXES) and k.upper() not in known
    )
    if unknown:
        raise SettingsError(
            "unknown setting(s): " + ", ".join(unknown) + " (see README, 'Configuration')"
        )


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "settings"
        value = item.get("input")
        shown = "" if _is_secret(name) or isinstance(value, dict) else f" (got {value!r})"
        lines.append(f"invalid setting {name}{shown}: {item['msg']}")
    return "; ".join(lines)


def _is_secret(name: str) -> bool:
    return any(w in name for w in ("SECRET", "TOKEN", "PASSWORD", "AES_KEY", "MONGO_URL"))
