"""The one emergency decision, applied after whichever NLU backend answered (embedded or Rasa).

An emergency is a situation happening now to someone who needs help. Two kinds of evidence:

- the backend's own score for `emergency_help` (its training data carries the recall: indirect
  elderly emergencies are learnt, not listed), trusted from `model_threshold` on;
- a small reviewed lexicon of situations that are unambiguous when said in the present
  (救命, 晕倒, 喘不上气, 着火 …): it catches short messages and a backend that scores low.

Both are discounted by the sentence's frame, which is what the old pattern net had no notion of:

- past or hypothetical (去年我爸中风了; 如果老人晕倒; 万一着火了; 会不会算工伤) — unless a
  later clause says it is happening now (以前中风过，现在又说不出话了);
- negated or resolved (没有人受伤; 我不是要求救; 火已经灭了);
- habitual (我妈总说胸闷), reported or fictional (新闻说…; 电视剧里…);
- a lasting condition with nothing sudden (她耳朵背又走不动路; 瘫痪在床多年): voids the
  model's score, which learnt those words from emergencies about the same people;
- an administrative question about the event (…医保能报销吗; …补贴; 去哪里补办; an errand
  on someone's behalf, what to bring), unless the
  citizen also asks for help now (快来人, 快派人);
- figurative and object uses (热死了, 气死我了, 手机屏幕炸了, 股票炸了, 等得我快不行了) are
  cut out of the text before the lexicon reads it, and a figure of speech voids the model
  score (the model learnt that 死 and 炸 are alarming).

A new miss is a reason to add training sentences (hub/data/nlu) and to measure on a set
written afterwards (bench/emergency.py), not a reason to grow the lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from nlu.parser import IntentScore, Parser, ParseResult
from nlu.tokenize import normalize

EMERGENCY = "emergency_help"
FALLBACK_INTENT = "out_of_scope"

# Unambiguous present situations. Reviewed: each line names what happens to a person (or a
# fire / gas leak), never a topic; none of them is a word that ordinary questions use.
LEXICON = (
    r"救命|救救|求救|紧急求助|快来人|出人命|^sos$",
    r"(叫|派|要|需要).{0,3}(救护车|急救车)|快(叫|打)120",
    r"(晕|昏)(倒|过去|迷|厥)|不省人事|人事不省|叫不醒|喊不应|拍不醒",
    r"(摔|跌|滑)(倒|了|跤)?.{0,6}(起不来|爬不起来|动不了)",
    r"喘不(上|过)气|呼吸困难|透不过气",
    r"(胸口|心口).{0,3}(痛|疼|闷|压)|(心梗|脑梗|中风)了",
    r"突然.{0,3}说不出话|半边.{0,3}(麻|不能动|没知觉|动不了)|嘴(也|都)?歪了",
    r"抽搐|口吐白沫|翻白眼|大出血|血流不止|(流|出)了?(很多|好多|一地|满地)的?血",
    r"(?<![不没])(着火|起火|失火)|烧起来了|冒(黑)?烟|全是烟(?!味)|(煤气|燃气|天然气)(味|泄漏|泄露)|漏气",
    r"触电|溺水|掉(进|到)?(河|水塘|水里|井里|江里|湖里|下水道|窨井)|车祸|被车(撞|压)|爆炸(?!案)|砸(到|伤|中)了?人",
    r"砍人|持刀|拿着刀|(在|要)打我|被打(了|伤)|跟(踪|着)我",
    r"不想活|活不下去|想不开|自杀|轻生|割腕|(吃|喝|吞)了.{0,4}(安眠药|农药|老鼠药)",
    r"被困|困在|压着人|(楼|房|墙)(塌|倒)了|羊水破|要生了|噎住|呛(着|到|住)",
)
_LEXICON = re.compile("|".join(f"(?:{p})" for p in LEXICON))

# Spans that use a risky word for something else; removed before the lexicon reads the text.
_FIGURATIVE = re.compile(
    r"(热|气|累|烦|笑|困|饿|吵|忙|冷|哭|吓|高兴|急|愁|闷|无聊|馋|丑|美|懒)(死|坏)(了|我了|人了?|我)?"
    r"|(热|急|疼|高|累|饿|困|冷|烦|气)得要(命|死)|吓死人"
    r"|(手机|屏幕|电脑|股票|基金|群|朋友圈|头|脑袋|心态|评论区|网|服务器|炸鸡)[^，。！？,.!?]{0,3}炸"
    r"|(等|排队|排)[^，。！？,.!?]{0,6}(快不行了|要晕(倒)?了|晕倒了)"
)
_CLAUSE = re.compile(r"[，。！？；,.!?;~…\s]+")
_PRESENT = re.compile(r"现在|刚才|刚刚|突然|正在|马上|这会儿|今天|快来|救命")
_PAST_OR_IF = re.compile(
    r"去年|前年|以前|之前|上次|上回|那年|当年|曾经|小时候|前几年|前几天|上个月|几年前|年前"
    r"|如果|万一|假如|要是|的话|会不会|怎么预防|预防|防止|担心会|怕有人|容易|演练|演习|昨天那"
    r"|防(溺水|火|走失|跌|摔)|真要|真[^，。！？,.!?]{0,4}了(都|就|也)"
)
_RESOLVED = re.compile(
    r"没有?人受伤|没有受伤|没什么事|人没事|没事了|(已经|早就?)(灭了|扑灭|处理好|好了|出院)"
    r"|人(倒|都|也)没事|不是要|并不是|并没有|不是求救|差一?点|找回|找到了"
)
_HABITUAL = re.compile(r"总是|老是|经常|常常|总说|总有|天天|时不时|有时候")
_NO_SIGN_FOR_DAYS = re.compile(
    r"(第?[几两三四五六七八九十\d]|好几)天(了)?[^，。！？,.!?]{0,4}(没|不)(见|出|开|接|应|回|拿)"
)
_REPORTED = re.compile(r"电视剧|电影|新闻|小说|游戏里|视频里|听说")
_ADMIN = re.compile(
    r"报销|补贴|补助|补偿|申请|办理|补办|挂失|理赔|保险|医保|手续|材料|证明|备案|结算"
    r"|怎么交|收费|费用|多少钱|政策|报名|培训|投诉|建议|判决|负责吗|在哪里?(开|办|交|报|修)"
    r"|哪里能修|来修|维修|挂号|预约|养老院|护工"
    # an errand on someone's behalf, or what to bring: never how an emergency is asked
    r"|代(办|领|取|签|缴|交)|帮[^，。！？,.!?]{0,3}去?(跑|办|领|取)|(要|需要)(准备|带)什么"
)
# A lasting condition (耳朵背, 走不动路, a stroke years ago, bedridden) is what the model learnt
# from emergencies about the same people; said without anything sudden, it is not evidence about
# now. Voids the model's score only: a lexicon situation beside it (煤气味) still counts.
_LASTING = re.compile(
    r"多年|好几年|好些年|几年了|常年|长期|瘫痪|卧床|瘫在|行动不便|腿脚不|走不(了|动)(远)?路|走不远"
    r"|耳朵?背|耳聋|眼神不好|后遗症|残疾|坐轮椅|痴呆|阿尔茨海默"
)
_SUDDEN = re.compile(
    r"刚(?!好|需)|突然|一下子|这会儿|正在|今天|到现在|快来|救命|快(叫|派|点)"
    # days without a sign of life are what happens now to someone who lives with a condition
    "|" + _NO_SIGN_FOR_DAYS.pattern
)
_URGENT = re.compile(r"救命|快来人|快(叫|派|来)|赶紧|马上来|求求|求你们")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A call for help is evidence only with what it is said about: alone ("救命！") it is enough;
# beside a long sentence, that sentence must be an emergency by itself (救命，这公积金咋这么
# 难取 is a sigh, 救命，我妈倒在地上了 is not), so the rest is judged without it.
_CALL = re.compile(r"救命啊?|救救我?|求救|快来人啊?")
CALL_CONTEXT_MIN_CJK = 6


@dataclass(frozen=True, slots=True)
class EmergencyConfig:
    # Chosen on tests/data/nlu/emergency_dev.yml (bench/emergency.py --sweep); see nlu/README.md.
    model_threshold: float = 0.5
    min_cjk_chars: int = 4  # a phone number or "好的" says nothing, whatever the model thinks
    # The model's score alone needs a sentence to judge: every present emergency it carried
    # (no lexicon word) in the dev and hold-out files has ten characters or more, while short
    # follow-ups (能上门来拉不) drift over the threshold.
    model_min_cjk_chars: int = 8


@dataclass(frozen=True, slots=True)
class EmergencyVerdict:
    emergency: bool
    reason: str  # lexicon | model | framed:<why> | figurative | low


class EmergencyDecision:
    def __init__(self, config: EmergencyConfig | None = None) -> None:
        self.config = config or EmergencyConfig()

    def decide(
        self,
        text: str,
        model_score: float,
        rest_score: float | None = None,
        present_score: float | None = None,
        *,
        said_with_call: bool = False,
    ) -> EmergencyVerdict:
        """rest_score: the backend's emergency score for the text without its calls for help
        (given when there is a call beside a long enough sentence). present_score: its score
        for the clauses said of now, when earlier ones were past (去年着过一次火，现在日子紧巴巴):
        the model's alarm at the past event is not evidence about now. said_with_call: the
        text is what stood beside a call for help, which makes up for its length."""
        norm = normalize(text)
        if rest_score is not None:
            rest = _CALL.sub("，", norm)
            verdict = self.decide(rest, rest_score, said_with_call=True)
            if verdict.emergency or verdict.reason.startswith("framed"):
                return verdict
            return EmergencyVerdict(False, "call_without_situation")
        literal = _FIGURATIVE.sub("，", norm)
        figurative = literal != norm
        clauses = [c for c in _CLAUSE.split(literal) if c]
        frame = _sentence_frame(norm)
        present = _present_clauses(clauses)
        hit = any(_situation_in(c) for c, now in zip(clauses, present, strict=True) if now)
        if hit and frame is None:
            return EmergencyVerdict(True, "lexicon")
        if frame is not None:
            return EmergencyVerdict(False, f"framed:{frame}")
        if clauses and not present[-1]:
            return EmergencyVerdict(False, "framed:past_or_hypothetical")
        if figurative:
            return EmergencyVerdict(False, "figurative")
        if _denied(clauses):  # 家里没有煤气味: the model's alarm words are what is denied
            return EmergencyVerdict(False, "framed:negated")
        chinese = len(_CJK.findall(norm))
        if chinese < self.config.min_cjk_chars:
            return EmergencyVerdict(False, "low")
        if chinese < self.config.model_min_cjk_chars and not said_with_call:
            return EmergencyVerdict(False, "low")
        if _LASTING.search(norm) and not _SUDDEN.search(norm):
            return EmergencyVerdict(False, "framed:lasting")
        score = model_score if present_score is None else present_score
        if score >= self.config.model_threshold:
            return EmergencyVerdict(True, "model")
        return EmergencyVerdict(False, "low")

    def apply(
        self,
        parsed: ParseResult,
        rest_score: float | None = None,
        present_score: float | None = None,
    ) -> ParseResult:
        """The parse with emergency_help on top exactly when the decision says so."""
        score = _emergency_score(parsed)
        verdict = self.decide(parsed.text, score, rest_score, present_score)
        if verdict.emergency:
            return _promote(parsed, max(score, self.config.model_threshold))
        if parsed.intent == EMERGENCY:
            return _demote(parsed)
        return parsed


class EmergencyGuardedParser:
    """Any Parser, with the emergency decision applied to what it returns."""

    def __init__(self, inner: Parser, decision: EmergencyDecision | None = None) -> None:
        self._inner = inner
        self._decision = decision or EmergencyDecision()

    async def parse(self, text: str) -> ParseResult:
        parsed = await self._inner.parse(text)
        rest = call_context(text)
        if rest is None:
            now = present_part(text)
            if now is None:
                return self._decision.apply(parsed)
            now_parsed = await self._inner.parse(now)
            return self._decision.apply(parsed, present_score=_emergency_score(now_parsed))
        return self._decision.apply(parsed, _emergency_score(await self._inner.parse(rest)))

    def status(self) -> dict[str, str]:
        probe = getattr(self._inner, "status", None)
        return probe() if callable(probe) else {"backend": type(self._inner).__name__}


# A situation word right after a negation is its absence (没漏气, 没有着火, 不是晕倒), also
# with a verb of noticing between them (没闻到煤气味, 没看到冒烟).
_NEGATION = re.compile(r"(没有|没|不是|并非|无|未|不)(闻到|看到|看见|见到|发现|听到|感觉到|觉得)?$")
_NEGATION_REACH = 5  # characters before a situation word where its negation may stand


def _situation_in(clause: str) -> bool:
    """A lexicon situation in the clause that is not negated just before it."""
    return any(
        not _NEGATION.search(clause[max(0, m.start() - _NEGATION_REACH) : m.start()])
        for m in _LEXICON.finditer(clause)
    )


def _denied(clauses: list[str]) -> bool:
    """A situation named only to say it is not there."""
    return any(
        _NEGATION.search(c[max(0, m.start() - _NEGATION_REACH) : m.start()])
        for c in clauses
        for m in _LEXICON.finditer(c)
    )


def _emergency_score(parsed: ParseResult) -> float:
    score = next((s.confidence for s in parsed.ranking if s.name == EMERGENCY), 0.0)
    if not parsed.ranking and parsed.intent == EMERGENCY:
        score = parsed.confidence
    return score


def present_part(text: str) -> str | None:
    """The clauses said of now, when some before them are framed as past or hypothetical and
    the rest is long enough to judge; None otherwise."""
    clauses = [c for c in _CLAUSE.split(normalize(text)) if c]
    present = _present_clauses(clauses)
    if all(present) or not any(present):
        return None
    now = "，".join(c for c, p in zip(clauses, present, strict=True) if p)
    return now if len(_CJK.findall(now)) >= CALL_CONTEXT_MIN_CJK else None


def call_context(text: str) -> str | None:
    """The text without its calls for help, when there is a call and enough else to judge."""
    norm = normalize(text)
    if not _CALL.search(norm):
        return None
    rest = _CALL.sub("，", norm).strip("，")
    return rest if len(_CJK.findall(rest)) >= CALL_CONTEXT_MIN_CJK else None


def _sentence_frame(norm: str) -> str | None:
    if _RESOLVED.search(norm):
        return "negated_or_resolved"
    if _REPORTED.search(norm):
        return "reported"
    if _HABITUAL.search(norm) and not _NO_SIGN_FOR_DAYS.search(norm):
        # (平时天天出来买菜，这都第四天了没见人: the habit is what makes the silence alarming)
        return "habitual"
    if _ADMIN.search(norm) and not _URGENT.search(norm):
        return "administrative"
    return None


def _present_clauses(clauses: list[str]) -> list[bool]:
    """A past or hypothetical marker frames its clause and the ones after it, until a clause
    says now (现在, 刚才, 突然 …)."""
    out, framed = [], False
    for clause in clauses:
        if _PRESENT.search(clause):
            framed = False
        if _PAST_OR_IF.search(clause):
            framed = True
        out.append(not framed)
    return out


def _promote(parsed: ParseResult, score: float) -> ParseResult:
    rest = [s for s in parsed.ranking if s.name != EMERGENCY]
    ranking = (IntentScore(EMERGENCY, round(score, 4)), *rest)
    return replace(parsed, intent=EMERGENCY, confidence=round(score, 4), ranking=ranking)


def _demote(parsed: ParseResult) -> ParseResult:
    rest = [s for s in parsed.ranking if s.name != EMERGENCY]
    if not rest:
        return replace(parsed, intent=FALLBACK_INTENT, confidence=0.0, ranking=())
    top = rest[0]
    ranking = (*rest, *(s for s in parsed.ranking if s.name == EMERGENCY))
    return replace(parsed, intent=top.name, confidence=top.confidence, ranking=ranking)
