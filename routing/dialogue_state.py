"""What the bot remembers of a conversation between turns: the topic it last answered, the slots
the citizen filled so far, the intake in progress. Stored with the conversation (survives a
restart); pure functions here, the router applies them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from kb.colloquial import standardize
from routing.bot import BotAnswer, KbDecision, RankedArticle

DIALOGUE_META = "dialogue"  # the bot reply's meta key holding the state it left (JSON)
SLOTS = ("what", "address", "district", "phone", "time", "service_type", "case_no")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)")
# Words that only name an aspect of whatever was just discussed (materials, fee, place, time,
# steps …) and fillers around them: a follow-up made of nothing else is about the last topic.
_ASPECT = re.compile(
    r"那么|那|还有|另外|请问|我想问|想问|问一下|一下|的话|呢|吗|嘛|啊|呀|吧|了|的|"
    r"要|需要|得|带|准备|提供|什么|哪些|哪个|哪里|哪儿|在哪|去哪|多少|几|怎么|如何|怎样|"
    r"材料|资料|证件|手续|花钱|钱|费用|收费|价格|多久|时间|时候|期限|流程|步骤|条件|要求|"
    r"地点|地址|办理|办|能|可以|可|是|不是|有|没有|网上|线上|预约|约|提前|拿到|到|"
    # colloquial forms (啥 = 什么, 咋 = 怎么, a final 不/没 asks yes-or-no) and aspects
    # every service has: photos, paying, receiving, online, how long at most
    r"啥|咋整|咋办|咋|些|么|不|没|多长|最长|最多|最快|照片|相片|交钱|交|领|弄|搞|"
    r"手机上|手机|APP|app|小程序|在|上|跑|趟|工本费|申请|去|行不行|"
    r"[，,。.？?！!、\s]"
)
FOLLOW_UP_MAX_CHARS = 16
TOPIC_TURNS = 3  # a follow-up refers to an answer at most this many turns back
# how many of the topic-combined query's best articles a follow-up's own words choose among
FOLLOW_UP_CANDIDATES = 3


@dataclass(frozen=True, slots=True)
class DialogueState:
    topic_article: str | None = None  # the last article given as an answer
    topic_category: str | None = None
    topic_query: str = ""  # the text that article answered
    topic_question: str = ""  # that article's own question, in the KB's standard words
    turns_since_topic: int = 0
    main_intent: str = ""  # the first intent that asked for a person or a case
    main_text: str = ""  # what the citizen said with it (the case's "what" if details follow)
    slots: tuple[tuple[str, str], ...] = ()
    intake: str = ""  # the case type being taken in (complaint, repair …); "" when none
    asking: str = ""  # the slot asked for, or "confirm" / "edit"
    notes: tuple[str, ...] = ()  # what the citizen said during the intake
    asked: tuple[str, ...] = ()  # the intake's questions so far, by slot (asked twice: passed)

    def slot(self, name: str) -> str | None:
        return dict(self.slots).get(name)

    def with_slots(self, **values: str | None) -> DialogueState:
        merged = dict(self.slots)
        merged.update({k: v for k, v in values.items() if v})
        return replace(self, slots=tuple(merged.items()))

    def to_doc(self) -> dict[str, Any]:
        return {
            "topic_article": self.topic_article,
            "topic_category": self.topic_category,
            "topic_query": self.topic_query,
            "topic_question": self.topic_question,
            "turns_since_topic": self.turns_since_topic,
            "main_intent": self.main_intent,
            "main_text": self.main_text,
            "slots": dict(self.slots),
            "intake": self.intake,
            "asking": self.asking,
            "notes": list(self.notes),
            "asked": list(self.asked),
        }

    @classmethod
    def from_doc(cls, d: dict[str, Any] | None) -> DialogueState:
        if not d:
            return cls()
        return cls(
            topic_article=d.get("topic_article"),
            topic_category=d.get("topic_category"),
            topic_query=d.get("topic_query", ""),
            topic_question=d.get("topic_question", ""),
            turns_since_topic=d.get("turns_since_topic", 0),
            main_intent=d.get("main_intent", ""),
            main_text=d.get("main_text", ""),
            slots=tuple((d.get("slots") or {}).items()),
            intake=d.get("intake", ""),
            asking=d.get("asking", ""),
            notes=tuple(d.get("notes") or ()),
            asked=tuple(d.get("asked") or ()),
        )


def phone_in(text: str) -> str | None:
    """A mobile number written in text (digits only), if any."""
    m = _MOBILE.search(text)
    return re.sub(r"\D", "", m.group(1)) if m else None


def remember(
    state: DialogueState, text: str, answer: BotAnswer, query: str, person_intents: frozenset[str]
) -> DialogueState:
    """The state after a turn: entities add up; an answer sets the topic."""
    found = dict(reversed(answer.entities))  # the first of a kind: the main address
    found.setdefault("phone", phone_in(text) or "")
    state = state.with_slots(**{k: v for k, v in found.items() if k in SLOTS})
    if answer.intent in person_intents and (
        not state.main_intent or (is_question(state.main_text) and not is_question(text))
    ):
        # the first request; one made after a question about the service replaces it
        # (空调上门修检测费咋收 → 那帮我下个单，格力挂机不制冷了)
        state = replace(state, main_intent=answer.intent, main_text=text.strip())
    if answer.decision is KbDecision.ANSWER and answer.kb_article_id:
        return replace(
            state,
            topic_article=answer.kb_article_id,
            topic_category=answer.kb_category,
            topic_query=query,
            topic_question=answer.kb_question,
            turns_since_topic=0,
        )
    if answer.decision is KbDecision.CLARIFY and answer.choices:
        # the citizen may answer the offer with a follow-up (护照要带啥 → 多久能拿到) rather
        # than a pick: the best offered question is a tentative topic (topic_article None)
        # until something is answered, and an answer found through it names its question
        return replace(
            state,
            topic_article=None,
            topic_category=answer.kb_category,
            topic_query=answer.choices[0],
            topic_question=answer.choices[0],
            turns_since_topic=0,
        )
    return replace(state, turns_since_topic=state.turns_since_topic + 1)


def follow_up_of(state: DialogueState, text: str) -> tuple[str, str] | None:
    """(the query rewritten with the topic, what the text adds beyond aspect words) when text
    reads as a short follow-up to the last answer; None otherwise."""
    t = text.strip()
    if not _topic_live(state):
        return None
    if len(t) > FOLLOW_UP_MAX_CHARS or phone_in(t):
        return None
    # (in standard words: 要等几耐 asks how long, as 要等多久 does)
    remainder = _ASPECT.sub("", standardize(t))
    return f"{state.topic_query} {t}", remainder


def in_topic_question(state: DialogueState, text: str) -> bool:
    """A question, longer than a follow-up, asked while a topic is live."""
    return _topic_live(state) and not phone_in(text) and is_question(text)


def _topic_live(state: DialogueState) -> bool:
    """A topic answered (or guessed) at most TOPIC_TURNS turns back."""
    return bool(state.topic_query) and state.turns_since_topic < TOPIC_TURNS


_QUESTION = re.compile(
    # (好几个, 十几天, 这几天 count, they do not ask)
    r"[？?]|吗|呢|怎么|咋|啥|什么|多少|哪|谁|(?<![好十这那前])几[个天年月号点岁]|"
    # A-not-A asks yes or no (收不收钱, 退不退, 能不能, 有没有)
    r"(?![不没])([\u4e00-\u9fff])[不没]\1|可不可以|"
    r"[不没么嘛][？?]?$|"
    # …ending a clause too (能在手机上弄不，不想跑车管所); not 那么, 这么
    r"(?:[不没]|(?<![那这怎什多])么)(?=[，,；;\s])"
)


def aspect_only(text: str) -> bool:
    """Nothing but aspect words (要提前预约不, 多少钱, 要带啥): a question about something
    said before, never a request by itself."""
    return not _ASPECT.sub("", standardize(text))


def is_question(text: str) -> bool:
    """Phrased as a question (colloquial forms too: 能领失业金不, 要带啥)."""
    return bool(_QUESTION.search(standardize(text)))


def closer_to_the_turn(combined: BotAnswer, own: BotAnswer, text: str = "") -> RankedArticle | None:
    """The article a follow-up means, when not the best of its topic-combined query.

    The combined query (topic + follow-up) carries the topic's words, which favour the topic
    article itself (公积金租房提取 + 那买房呢 → the rent article again). Among its close
    articles, each is scored by the combined query and by the follow-up's own words together;
    the sibling those words favour enough wins (买房 → the purchase article, 要准备啥材料 →
    the enrolment-materials article), while a plain aspect keeps the topic article that
    covers it (水表过户 → 要带啥材料). None: keep the best."""
    if not combined.ranking or not own.ranking:
        return None
    floor = min(r.score for r in own.ranking)  # an article outside the turn's own best
    own_score = {r.article_id: r.score for r in own.ranking}
    topic = combined.ranking[0]
    # a sibling is an article of the topic's own category (收钱吗 after the water-meter
    # transfer asks that transfer's fee, not how to report overcharging in a shop)
    close = [r for r in combined.ranking[:FOLLOW_UP_CANDIDATES] if r.category == topic.category]
    best = max(close, key=lambda r: r.score + own_score.get(r.article_id, floor))
    if best.article_id == topic.article_id:
        return None
    # and only a sibling the turn's own words rank among their best: generic aspect words
    # (要花钱不, 去哪里申请) rank unrelated articles, which must not pull the answer away
    if best.article_id not in {r.article_id for r in own.ranking[:FOLLOW_UP_CANDIDATES]}:
        return None
    if text and aspect_only(text) and not _decisively_first(best, own.ranking):
        # nothing but an aspect (工本费多少 after the ID renewal): its own ranking is a near
        # tie of every article that mentions a fee; only one that clearly leads it (要准备些啥
        # 材料 → the enrolment-materials article) is the article meant
        return None
    return best


ASPECT_LEAD = 0.02  # how far an aspect-only turn's own best must lead its runner-up


def _decisively_first(article: RankedArticle, ranking: tuple[RankedArticle, ...]) -> bool:
    if ranking[0].article_id != article.article_id:
        return False
    return len(ranking) < 2 or ranking[0].score - ranking[1].score >= ASPECT_LEAD


_WHO_ANSWERS = re.compile(
    # (not a bare 人: 你们是不是人啊 is an angry complaint, not a question about the bot)
    r"(你|您)们?(到底|究竟)?(是不是|是)[^，。,.！!]{0,3}(机器人?|真人|活人|人工|智能客服|AI)"
    r"(吗|嘛|吧|啊|呀|不|还是|[？?]|$)"
)
_WANTS_A_PERSON = re.compile(r"转|接|换|找|叫|要(个|找)?(人工|真人|客服)")


_ASKS_FOR_A_PERSON = re.compile(r"(转|接|找|叫|要|换|让)(一?个)?(人工|真人|活人|客服)")
_DECLINES = re.compile(r"(不|别|没|无需|不用)(想|要|需要|必要)?(转|接|找|叫|要|换|让)")


def asks_for_a_person(text: str) -> bool:
    """Says outright that they want a person (我还是想找个真人问问, 转人工): whatever the
    parser's confidence, that is the request (你是真人还是机器人 is a question, not one)."""
    t = text.strip()
    return (
        bool(_ASKS_FOR_A_PERSON.search(t)) and not _DECLINES.search(t) and not asks_who_answers(t)
    )


def asks_who_answers(text: str) -> bool:
    """你是真人还是机器人: a question about who answers, not a request for a person (那给我
    转人工 is one)."""
    t = text.strip()
    return bool(_WHO_ANSWERS.search(t)) and not _WANTS_A_PERSON.search(t)


def overlap(a: str, b: str) -> int:
    """Shared character bigrams: how close a clarify choice is to the topic."""
    grams = {a[i : i + 2] for i in range(len(a) - 1)}
    return sum(1 for i in range(len(b) - 1) if b[i : i + 2] in grams)
