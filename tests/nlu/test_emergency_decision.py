"""The one emergency decision after either backend (nlu/emergency_decision.py)."""

import pytest

from nlu.emergency_decision import EmergencyDecision, EmergencyGuardedParser
from nlu.fallback import FallbackParser
from nlu.parser import IntentScore, ParseResult

DECISION = EmergencyDecision()


def parse_result(text: str, scores: dict[str, float]) -> ParseResult:
    ranking = tuple(IntentScore(k, v) for k, v in sorted(scores.items(), key=lambda kv: -kv[1]))
    return ParseResult(text, ranking[0].name, ranking[0].confidence, ranking)


class FixedParser:
    """A backend (Rasa, say) that answers what it is told."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    async def parse(self, text: str) -> ParseResult:
        return parse_result(text, self.scores)


class DownParser:
    async def parse(self, text: str) -> ParseResult:
        raise ConnectionError("rasa down")


@pytest.mark.parametrize(
    "text",
    [
        *("救命", "着火了", "我妈摔倒了起不来", "老人晕倒了", "喘不上气", "有人掉河里了", "SOS"),
        "刚进门就闻到好大的煤气味",
    ],
)
def test_the_lexicon_fires_on_short_present_emergencies_whatever_the_model_says(text: str):
    assert DECISION.decide(text, 0.0).emergency


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("去年我爸中风了，现在能申请什么补贴", "framed:administrative"),
        ("如果家里老人突然晕倒，应该先做什么", "framed:past_or_hypothetical"),
        ("万一着火了怎么逃生", "framed:past_or_hypothetical"),
        ("我不是要求救，想问问养老院", "framed:negated_or_resolved"),
        ("没有人受伤，车子刮了一下", "framed:negated_or_resolved"),
        ("快递箱子压扁了，碗碎了好几个，人倒没事", "framed:negated_or_resolved"),
        ("我妈总说胸闷", "framed:habitual"),
        ("电视剧里那个着火的场景", "framed:reported"),
        ("身份证被偷了，去哪里补办", "framed:administrative"),
        ("燃气灶打不着火了", "low"),
        # a negation with a verb of noticing between it and the situation
        ("家里没闻到煤气味，灶台那根软管多久换一次", "framed:negated"),
    ],
)
def test_framed_sentences_are_not_emergencies_even_with_a_confident_model(text: str, reason: str):
    verdict = DECISION.decide(text, 0.95 if reason != "low" else 0.1)
    assert not verdict.emergency
    assert verdict.reason == reason


@pytest.mark.parametrize("text", ["今天真是热死人了", "我的手机屏幕炸了", "股票又炸了，心态崩了"])
def test_figures_of_speech_void_the_model_score(text: str):
    assert DECISION.decide(text, 0.95) == DECISION.decide(text, 0.95).__class__(False, "figurative")


def test_a_later_clause_in_the_present_reopens_a_past_frame():
    assert DECISION.decide("我爸以前中风过，现在突然说不出话了", 0.2).emergency


def test_the_model_decides_indirect_emergencies_the_lexicon_does_not_know():
    text = "楼上的老太太三天没见人了，门口的牛奶都没拿"
    assert DECISION.decide(text, 0.8).emergency
    assert not DECISION.decide(text, 0.3).emergency


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("她耳朵背又走不动路，家里想请个人定期上门看看", "framed:lasting"),
        ("奶奶卧床好几年了，耳朵也背，跟她说话要很大声", "framed:lasting"),
        ("老人走不了远路，老年证我帮他去领行不行", "framed:administrative"),
        ("我爷爷中风过，残疾证要准备什么", "framed:administrative"),
    ],
)
def test_a_lasting_condition_or_an_errand_is_not_evidence_of_an_emergency_now(
    text: str, reason: str
):
    verdict = DECISION.decide(text, 0.9)
    assert (verdict.emergency, verdict.reason) == (False, reason)


@pytest.mark.parametrize(
    "text",
    [
        "我爸有老年痴呆，今天下午出去到现在还没回来",
        "瘫痪在床的爷爷突然脸色发紫，叫也叫不应",
        "坐轮椅的外公刚从轮椅上翻下来了，一动不动",
        # days without a sign of life, whatever the condition or the habit before them
        "楼下那个残疾大哥好几天没出门了，按门铃也没反应",
        "王阿婆平时天天早上出来买菜，这都第四天了没见人",
    ],
)
def test_something_sudden_reopens_a_lasting_condition(text: str):
    assert DECISION.decide(text, 0.9).emergency


def test_the_model_alone_needs_a_sentence_but_a_call_makes_up_for_its_length():
    assert DECISION.decide("能上门来拉不", 0.9) == DECISION.decide("x", 0).__class__(False, "low")
    assert DECISION.decide("我爸心脏病犯了，快来人", 0.1, rest_score=0.9).emergency
    assert not DECISION.decide("我爸心脏病犯了，快来人", 0.1, rest_score=0.2).emergency


def test_a_phone_number_is_never_an_emergency():
    """A number sent while queued once upgraded the conversation to an emergency."""
    assert not DECISION.decide("13800138000", 0.99).emergency


def test_apply_promotes_and_demotes_keeping_the_ranking():
    promoted = DECISION.apply(parse_result("救命", {"greet": 0.7, "emergency_help": 0.1}))
    assert promoted.intent == "emergency_help"
    assert [s.name for s in promoted.ranking] == ["emergency_help", "greet"]
    demoted = DECISION.apply(
        parse_result("今天真是热死人了", {"emergency_help": 0.9, "out_of_scope": 0.1})
    )
    assert (demoted.intent, demoted.confidence) == ("out_of_scope", 0.1)


async def test_the_decision_runs_after_rasa_and_after_the_fallback():
    """With RASA_URL set there used to be no emergency net at all."""
    rasa = FixedParser({"report_repair": 0.8, "emergency_help": 0.05})
    guarded = EmergencyGuardedParser(FallbackParser(rasa, FixedParser({"greet": 1.0})))
    assert (await guarded.parse("家里着火了")).intent == "emergency_help"
    falsely = FixedParser({"emergency_help": 0.9, "complaint": 0.1})
    guarded = EmergencyGuardedParser(FallbackParser(falsely, FixedParser({"greet": 1.0})))
    assert (await guarded.parse("这两天热死了，高温补贴什么时候发")).intent == "complaint"
    down = EmergencyGuardedParser(FallbackParser(DownParser(), FixedParser({"consult": 1.0})))
    assert (await down.parse("快来人，老人晕倒了")).intent == "emergency_help"
