import asyncio
import logging
from dataclasses import dataclass, field

import pytest

from nlu.errors import RasaUnavailable
from nlu.fallback import FallbackParser
from nlu.parser import ParseResult
from nlu.rasa_http import RasaHttpConfig, RasaHttpParser
from tests.nlu.conftest import RasaEmulator


@dataclass
class ScriptedParser:
    """Answers `intent`, or raises `error` while it is set; counts calls."""

    intent: str
    error: BaseException | None = None
    calls: list[str] = field(default_factory=list)

    async def parse(self, text: str) -> ParseResult:
        self.calls.append(text)
        if self.error is not None:
            raise self.error
        return ParseResult(text, self.intent, 0.9)


@dataclass
class FakeMonotonic:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def outage_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nlu.fallback"]


async def test_uses_the_primary_while_it_answers():
    primary, fallback = ScriptedParser("greet"), ScriptedParser("thank")
    parser = FallbackParser(primary, fallback)
    assert parser.status() == {"backend": "rasa", "rasa": "unknown", "using": "rasa"}
    assert (await parser.parse("你好")).intent == "greet"
    assert fallback.calls == []
    assert parser.status() == {"backend": "rasa", "rasa": "up", "using": "rasa"}


async def test_falls_back_on_error_and_logs_the_outage_once(caplog: pytest.LogCaptureFixture):
    primary = ScriptedParser("greet", error=RasaUnavailable("Rasa answered HTTP 500"))
    clock = FakeMonotonic()
    parser = FallbackParser(primary, ScriptedParser("thank"), retry_after_s=10, monotonic=clock)
    with caplog.at_level(logging.INFO, logger="nlu.fallback"):
        for second in range(30):
            clock.now += 1
            assert (await parser.parse(f"第{second}条")).intent == "thank"
    assert outage_logs(caplog) == ["nlu.primary_down"]
    assert parser.status() == {"backend": "rasa", "rasa": "down", "using": "embedded"}


async def test_skips_the_primary_during_an_outage_and_retries_after_a_while(
    caplog: pytest.LogCaptureFixture,
):
    primary = ScriptedParser("greet", error=TimeoutError())
    clock = FakeMonotonic()
    parser = FallbackParser(primary, ScriptedParser("thank"), retry_after_s=10, monotonic=clock)
    await parser.parse("一")
    clock.now += 5
    await parser.parse("二")
    assert primary.calls == ["一"]
    primary.error = None
    clock.now += 5
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nlu.fallback"):
        assert (await parser.parse("三")).intent == "greet"
    assert primary.calls == ["一", "三"]
    assert outage_logs(caplog) == ["nlu.primary_recovered"]
    assert parser.status()["using"] == "rasa"


async def test_a_failing_fallback_still_answers_not_understood(caplog: pytest.LogCaptureFixture):
    parser = FallbackParser(
        ScriptedParser("greet", error=RasaUnavailable("down")),
        ScriptedParser("thank", error=RuntimeError("model file corrupt")),
    )
    with caplog.at_level(logging.ERROR, logger="nlu.fallback"):
        result = await parser.parse("你好")
    assert (result.intent, result.confidence) == ("out_of_scope", 0.0)
    assert "nlu.fallback_failed" in outage_logs(caplog)


async def test_cancellation_is_not_swallowed():
    parser = FallbackParser(
        ScriptedParser("greet", error=asyncio.CancelledError()), ScriptedParser("thank")
    )
    with pytest.raises(asyncio.CancelledError):
        await parser.parse("你好")


@pytest.mark.parametrize("mode", ["error", "hang", "garbage"])
async def test_real_rasa_client_failures_fall_back(rasa_emulator: RasaEmulator, mode: str):
    rasa_emulator.mode = mode
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url, timeout_s=0.2)) as rasa:
        parser = FallbackParser(rasa, ScriptedParser("thank"))
        assert (await parser.parse("你好")).intent == "thank"
        assert parser.status()["rasa"] == "down"


async def test_rasa_down_falls_back_to_the_embedded_parser(closed_port_url: str, fast_parser):
    async with RasaHttpParser(RasaHttpConfig(closed_port_url)) as rasa:
        parser = FallbackParser(rasa, fast_parser)
        result = await parser.parse("我要投诉物业乱收费")
    assert result.intent == "complaint"
    assert parser.status() == {"backend": "rasa", "rasa": "down", "using": "embedded"}


async def test_rasa_up_answers_through_http(rasa_emulator: RasaEmulator, fast_parser):
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url)) as rasa:
        parser = FallbackParser(rasa, fast_parser)
        result = await parser.parse("我要投诉物业乱收费")
    assert result.intent == "greet"  # what the emulator says, not what embedded would say
    assert rasa_emulator.requests == ["我要投诉物业乱收费"]
