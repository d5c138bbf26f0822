import json
import logging

import pytest

from hub.logs import JsonFormatter, MaskingFilter


def emit(caplog: pytest.LogCaptureFixture, msg: str, **extra: object) -> dict:
    logger = logging.getLogger("test.logs")
    record = logger.makeRecord("test.logs", logging.INFO, __file__, 1, msg, (), None, extra=extra)
    MaskingFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_log_lines_are_json_with_event_and_extra(caplog: pytest.LogCaptureFixture):
    line = emit(caplog, "case.opened", case="20261124-000001")
    assert line["event"] == "case.opened"
    assert line["case"] == "20261124-000001"
    assert line["level"] == "info"


def test_phone_numbers_are_masked_in_messages_and_fields(caplog: pytest.LogCaptureFixture):
    line = emit(caplog, "sms.sent to 13812345678", to="+8613900001111")
    assert "13812345678" not in json.dumps(line)
    assert line["event"] == "sms.sent to 138****5678"
    assert line["to"] == "+86139****1111"


def test_secret_fields_are_never_written(caplog: pytest.LogCaptureFixture):
    line = emit(caplog, "wechat.configured", wechat_token="abc", smpp_password="pw")
    assert line["wechat_token"] == "***"
    assert line["smpp_password"] == "***"
