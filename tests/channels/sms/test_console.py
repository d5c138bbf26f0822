"""With neither SMPP_HOST nor SMS_HTTP_URL (`hub demo`, one machine) the SMS channel is still
installed: SMS go to the console gateway, which logs them (number masked) and reports them
delivered."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from agent_web.keys import CASE_DESK
from cases.model import CaseType, NewCase
from cases.workflow import CaseAction, CaseCommand
from channels.sms import OUTBOUND, REPO
from hub.settings import SettingsError, load_settings
from tests.agent_web.conftest import Hub
from tests.channels.helpers import eventually
from tests.channels.sms.rig import CITIZEN

CONSOLE_LOGGER = "channels.sms.console"


async def test_the_demo_sends_sms_through_the_console_gateway(
    demo_hub: Hub, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger=CONSOLE_LOGGER)
    desk = demo_hub.app[CASE_DESK]
    case = await desk.open(
        NewCase(CaseType.CONSULT, "咨询办证", contact_phone=CITIZEN, category=("01", "0101")),
        "agent1",
    )
    await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, "agent1"))

    supervisor = await demo_hub.staff("super")

    async def delivered() -> list[dict[str, Any]]:
        shown = (await supervisor.json("GET", f"/api/v1/cases/{case.number}/sms"))["sms"]
        return shown if shown and shown[0]["state"] == "delivered" else []

    [sms] = await eventually(delivered)
    assert sms["purpose"] == "accepted"
    [logged] = [r for r in caplog.records if r.name == CONSOLE_LOGGER]
    assert (logged.levelno, logged.getMessage()) == (logging.INFO, "sms.console")
    assert logged.to == "138****5678"  # type: ignore[attr-defined]
    assert logged.text == sms["text"]  # type: ignore[attr-defined]
    assert case.number in logged.text  # type: ignore[attr-defined]


async def test_a_conversation_reply_goes_out_by_console_sms(demo_hub: Hub):
    record = await demo_hub.app[OUTBOUND].send_now(
        CITIZEN, "您好，已为您登记。", message_id="m" * 24
    )
    assert record.state == "sent"
    assert record.provider_ids
    assert all(i.startswith("console-") for i in record.provider_ids)

    async def delivered() -> bool:
        stored = await demo_hub.app[REPO].get(record.id)
        return stored is not None and stored.state == "delivered"

    await eventually(delivered)


def test_an_http_sms_provider_needs_its_webhook_secret():
    with pytest.raises(SettingsError, match="SMS_WEBHOOK_SECRET is required"):
        load_settings(sms_http_url="https://sms.example.cn/send")
