import pytest

from nlu.errors import RasaUnavailable
from nlu.parser import Entity, IntentScore
from nlu.rasa_http import RasaHttpConfig, RasaHttpParser, result_from_rasa
from tests.nlu.conftest import RasaEmulator, rasa_reply


def rasa_with_entities(text: str) -> dict:
    body = rasa_reply(text, intent="order_domestic_service", confidence=0.81)
    body["entities"] = [
        {
            "entity": "service_type",
            "start": 3,
            "end": 6,
            "value": "保洁",
            "extractor": "DIETClassifier",
            "processors": ["EntitySynonymMapper"],
        },
        {
            "entity": "phone",
            "start": 12,
            "end": 23,
            "value": "13812340001",
            "extractor": "DIETClassifier",
        },
    ]
    return body


async def test_maps_rasa_json_to_a_parse_result(rasa_emulator: RasaEmulator):
    rasa_emulator.reply = rasa_with_entities
    text = "帮我约搞卫生的阿姨，电话13812340001"
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url)) as parser:
        result = await parser.parse(text)
    assert rasa_emulator.requests == [text]
    assert (result.text, result.intent, result.confidence) == (text, "order_domestic_service", 0.81)
    assert result.ranking[0] == IntentScore("order_domestic_service", 0.81)
    assert result.entities == (
        Entity("service_type", "保洁", 3, 6, "搞卫生"),
        Entity("phone", "13812340001", 12, 23, "13812340001"),
    )


async def test_http_error_raises_rasa_unavailable(rasa_emulator: RasaEmulator):
    rasa_emulator.mode = "error"
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url)) as parser:
        with pytest.raises(RasaUnavailable, match="HTTP 500"):
            await parser.parse("你好")


async def test_a_server_that_hangs_hits_the_deadline(rasa_emulator: RasaEmulator):
    rasa_emulator.mode = "hang"
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url, timeout_s=0.2)) as parser:
        with pytest.raises(RasaUnavailable, match=r"did not answer within 0\.2 s"):
            await parser.parse("你好")


async def test_a_server_that_is_down_raises_rasa_unavailable(closed_port_url: str):
    async with RasaHttpParser(RasaHttpConfig(closed_port_url)) as parser:
        with pytest.raises(RasaUnavailable, match="request failed"):
            await parser.parse("你好")
        assert await parser.is_up() is False


async def test_a_reply_that_is_not_json_raises_rasa_unavailable(rasa_emulator: RasaEmulator):
    rasa_emulator.mode = "garbage"
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url)) as parser:
        with pytest.raises(RasaUnavailable):
            await parser.parse("你好")


async def test_is_up_when_rasa_answers_its_root(rasa_emulator: RasaEmulator):
    async with RasaHttpParser(RasaHttpConfig(rasa_emulator.url + "/")) as parser:
        assert await parser.is_up() is True


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"intent": None},
        {"intent": {"name": None, "confidence": 0.0}},
        {"intent": {"name": "greet", "confidence": "high"}},
        {"intent": {"name": "greet", "confidence": 1}, "entities": [{"entity": "x"}]},
        [],
    ],
)
def test_malformed_replies_raise_rasa_unavailable(body: object):
    with pytest.raises(RasaUnavailable, match="malformed"):
        result_from_rasa("你好", body)


def test_missing_ranking_falls_back_to_the_intent():
    result = result_from_rasa("你好", {"intent": {"name": "greet", "confidence": 0.9}})
    assert result.ranking == (IntentScore("greet", 0.9),)
    assert result.entities == ()


async def test_an_app_session_is_used_and_left_open(rasa_emulator: RasaEmulator):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        parser = RasaHttpParser(RasaHttpConfig(rasa_emulator.url), session=session)
        assert (await parser.parse("你好")).intent == "greet"
        await parser.close()
        assert not session.closed
