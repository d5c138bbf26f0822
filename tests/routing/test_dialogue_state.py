"""Dialogue state: stored with the conversation; intake files the case; queued details stay
details."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mongo.client import Database
from routing.bot import BotAnswer, KbDecision, RankedArticle
from routing.conversation_model import ConversationState, Priority
from routing.dialogue_state import (
    asks_for_a_person,
    asks_who_answers,
    closer_to_the_turn,
    is_question,
)
from tests.routing.conftest import Hub, make_hub

# the fake bot's answer to 新生儿医保怎么办, as the real bot would give it again for a follow-up
MEDICAL_ANSWER = BotAnswer(
    "consult",
    0.7,
    KbDecision.ANSWER,
    "新生儿在出生后90天内办理居民医保参保登记。",
    "kb-0001",
    "社保医保",
)


def answer_exactly(hub: Hub, turn: str, made: BotAnswer) -> None:
    """The bot gives `made` for the turn itself only, not for a topic-combined query that
    contains it."""
    usual = hub.bot.answer

    async def answer(text: str) -> BotAnswer:
        return made if text == turn else await usual(text)

    hub.bot.answer = answer  # type: ignore[method-assign]


def answer_when(hub: Hub, word: str, made: BotAnswer) -> None:
    """The bot gives `made` for any text containing `word` (a parser's reading the test
    controls), and its usual answer otherwise."""
    usual = hub.bot.answer

    async def answer(text: str) -> BotAnswer:
        return made if word in text else await usual(text)

    hub.bot.answer = answer  # type: ignore[method-assign]


async def test_the_intake_state_survives_a_restart_and_files_the_case(hub: Hub, db: Database):
    await hub.say("v1", "我要投诉物业")
    result = await hub.say("v1", "13812345678")
    # a new process: nothing in memory; the state comes back from the bot's last reply
    restarted = await make_hub(db)
    restarted.seq = hub.seq
    stored = await restarted.stack.router.book.get(result.conversation_id)
    assert stored.dialogue.intake == "complaint"
    assert stored.dialogue.slot("phone") == "13812345678"
    assert stored.dialogue.asking == "address"
    await restarted.say("v1", "幸福小区3栋")
    result = await restarted.say("v1", "确认")
    conv = await restarted.stack.router.book.get(result.conversation_id)
    assert (conv.state, conv.queue) == (ConversationState.QUEUED, "complaint")
    case_no = conv.dialogue.slot("case_no")
    assert case_no
    assert any(case_no in r.text for r in result.replies) is False  # told by the notice


async def test_a_phone_number_while_queued_does_not_upgrade_the_queue(hub: Hub):
    real = hub.bot.answer

    async def answer(text: str) -> BotAnswer:
        if text.isdigit():  # a parser that mistakes digits for an emergency
            return BotAnswer("emergency_help", 0.9, KbDecision.NONE, entities=(("phone", text),))
        return await real(text)

    hub.bot.answer = answer  # type: ignore[method-assign]
    await hub.say("v2", "转人工")
    result = await hub.say("v2", "13912345678")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.priority < Priority.EMERGENCY
    assert conv.dialogue.slot("phone") == "13912345678"


async def test_what_and_where_then_a_phone_add_up_to_one_intake_not_two(hub: Hub):
    """An unsure complaint, then the phone: the intake starts with the first turn's words; a
    phone number sent again after the case is filed starts nothing new."""
    # a complaint the parser is unsure of (below intent_confidence)
    unsure = BotAnswer("complaint", 0.3, KbDecision.NONE, entities=(("address", "和平路56号"),))
    answer_when(hub, "烧烤", unsure)
    await hub.say("v3", "楼下烧烤店油烟直接灌进我家，和平路56号")
    result = await hub.say("v3", "13912345670")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.intake == "complaint"
    assert conv.dialogue.slot("what") == "楼下烧烤店油烟直接灌进我家，和平路56号"
    assert conv.dialogue.asking == "confirm"
    result = await hub.say("v3", "是的 没错")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.slot("case_no")
    assert conv.dialogue.intake == ""
    assert conv.dialogue.main_text == ""  # spent: the phone again files nothing


async def test_an_unsure_request_naming_a_place_is_taken_in_at_once(hub: Hub):
    """No article fits and the parser is unsure, but the turn names where: the bot asks for
    the phone instead of handing the citizen to a queue without a case."""
    unsure = BotAnswer(
        "order_domestic_service", 0.34, KbDecision.NONE, entities=(("address", "朝阳路66号"),)
    )
    answer_when(hub, "下个单", unsure)
    first = await hub.say("v9", "那帮我下个单，格力挂机，朝阳路66号")
    conv = await hub.stack.router.book.get(first.conversation_id)
    assert conv.state is ConversationState.BOT
    assert (conv.dialogue.intake, conv.dialogue.asking) == ("domestic_service_order", "phone")
    assert "手机号码" in first.replies[-1].text


async def test_an_address_passed_over_twice_leaves_it_to_the_read_back(hub: Hub):
    """The citizen answers the address question with a phone and then a yes: asked once with an
    example, then the read-back shows it missing and 确认 still files the case."""
    first = await hub.say("v4", "我要投诉，出租车司机不打表多收钱")
    assert "地址" in first.replies[-1].text
    again = await hub.say("v4", "我手机13879105678")
    assert "例如" in again.replies[-1].text  # the second question gives an example
    summary = await hub.say("v4", "是的")
    assert "地址：未提供" in summary.replies[-1].text
    assert "电话：13879105678" in summary.replies[-1].text
    result = await hub.say("v4", "确认")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.slot("case_no")


async def test_a_domestic_order_without_a_time_is_not_asked_for_one(hub: Hub):
    answer_when(
        hub,
        "约个保洁",
        BotAnswer(
            "order_domestic_service",
            0.9,
            KbDecision.NONE,
            entities=(("service_type", "保洁"), ("address", "锦绣花园3栋501")),
        ),
    )
    await hub.say("v5", "帮我约个保洁，锦绣花园3栋501")
    summary = await hub.say("v5", "13812345679")
    text = summary.replies[-1].text
    assert "请核对登记信息" in text
    assert "时间：未指定，服务人员会电话与您约定" in text


async def test_a_follow_up_to_an_unpicked_clarify_is_answered_and_names_its_question(hub: Hub):
    """The citizen asks on instead of picking from the offer: the first offered question is
    the topic, and the answer says which question it answers."""
    answered = BotAnswer(
        "consult", 0.8, KbDecision.ANSWER, "到派出所补领，工本费20元。", "kb-0015",
        kb_question="身份证丢了怎么补办？",
    )  # fmt: skip
    answer_when(hub, "身份证丢了怎么补办？ ", answered)  # the follow-up asked with the topic
    offer = await hub.say("v6", "证件的事想问问")
    assert "您是想问以下哪个问题" in offer.replies[-1].text
    result = await hub.say("v6", "要多少钱")
    assert result.replies[-1].text == "关于“身份证丢了怎么补办？”：到派出所补领，工本费20元。"
    assert result.replies[-1].kb_article_id == "kb-0015"


async def test_a_yes_that_urges_files_the_case_even_when_read_as_asking_for_a_person(hub: Hub):
    answer_when(
        hub, "派人", BotAnswer("ask_human", 0.8, KbDecision.NONE)
    )  # the parser hears a request for a person in the urging
    await hub.say("v7", "我要投诉物业")
    await hub.say("v7", "幸福小区3栋")
    summary = await hub.say("v7", "13812345670")
    assert "请核对登记信息" in summary.replies[-1].text
    result = await hub.say("v7", "确认，快点派人来")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.slot("case_no")
    assert (conv.state, conv.queue) == (ConversationState.QUEUED, "complaint")


async def test_what_first_then_a_place_and_a_phone_with_other_words_start_the_intake(hub: Hub):
    answer_when(
        hub, "空调", BotAnswer("order_domestic_service", 0.3, KbDecision.NONE)
    )  # a request the parser is unsure of
    answer_when(
        hub,
        "雅苑小区",
        BotAnswer("inform", 0.2, KbDecision.NONE, entities=(("address", "雅苑小区3栋"),)),
    )
    await hub.say("v8", "空调吹热风，叫个师傅来修")
    result = await hub.say("v8", "格力的挂机，雅苑小区3栋，电话18879104567")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.intake == "domestic_service_order"
    assert conv.dialogue.asking == "confirm"
    assert conv.dialogue.slot("what") == "空调吹热风，叫个师傅来修"


async def test_a_detail_given_while_the_parser_hears_a_person_asked_for_stays_in_the_intake(
    hub: Hub,
):
    answer_when(
        hub,
        "加油站",
        BotAnswer(
            "ask_human",
            0.2,
            KbDecision.NONE,
            entities=(("address", "迎宾大道加油站"), ("phone", "15007912468")),
        ),
    )
    await hub.say("v9", "我要投诉物业")
    result = await hub.say("v9", "就在迎宾大道加油站旁边，我电话15007912468")
    assert "请核对登记信息" in result.replies[-1].text
    assert result.state is ConversationState.BOT


def test_counting_words_do_not_make_a_question():
    from routing.dialogue_state import is_question

    assert not is_question("好几个骑电动车的差点翻进去")
    assert not is_question("这几天一直停水")
    assert is_question("要几天能办好")


def test_regional_yes_words_confirm():
    from routing.intake import _confirms, _confirms_and_urges

    assert all(_confirms(w) for w in ("对头", "要得", "中", "嗯呐，没毛病"))
    assert _confirms_and_urges("对头，就是那里")
    assert not _confirms_and_urges("对头，但是电话不对")


def test_cantonese_and_framed_yes_words_confirm():
    from routing.intake import _confirms, _confirms_and_urges

    assert all(_confirms(w) for w in ("冇问题", "这回对头了", "没错啦", "好的呀", "系啊"))
    assert _confirms("要得，没得问题")
    assert _confirms("啱晒，就咁")
    assert _confirms_and_urges("冇问题，就咁啦")
    assert not any(_confirms(w) for w in ("对了吗", "这回不对了", "中不中", "不是"))


async def test_a_repair_of_a_household_appliance_is_a_domestic_service_order(hub: Hub):
    answer_when(
        hub,
        "空调",
        BotAnswer(
            "report_repair",
            0.9,
            KbDecision.NONE,
            entities=(("address", "财大小区8栋402"), ("phone", "13879156789")),
        ),
    )
    result = await hub.say("v10", "空调不制冷了，财大小区8栋402，电话13879156789")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.intake == "domestic_service_order"
    assert "类型：家政服务预约" in result.replies[-1].text


def test_a_new_intake_forgets_the_questions_passed_over_in_the_last():
    from routing.config import IntakePolicy
    from routing.dialogue_state import DialogueState
    from routing.intake import Intake

    policy = IntakePolicy(ask={"complaint": ("address", "phone")})
    intake = Intake(None, policy, lambda: None)  # type: ignore[arg-type]
    after_last = DialogueState(asked=("address", "address"))
    step = intake.start(after_last, "complaint", "我还要投诉超市")
    assert step.state.asking == "address"


def _ranked(*scored: tuple[str, float], category: dict[str, str] | None = None):
    return tuple(RankedArticle(a, f"{a}的问题", s, (category or {}).get(a)) for a, s in scored)


def _answered(*scored: tuple[str, float]) -> BotAnswer:
    return BotAnswer(
        "consult", 0.9, KbDecision.ANSWER, kb_article_id=scored[0][0], ranking=_ranked(*scored)
    )


def test_a_follow_up_naming_a_sibling_gets_the_sibling():
    """公积金租房提取 + 那买房呢: the topic's words keep the rent article first, the turn's own
    words rank the purchase article first; together the purchase article wins."""
    combined = _answered(("rent", 1.50), ("buy", 1.48), ("loan", 1.40))
    own = _answered(("buy", 1.45), ("loan", 1.41), ("rent", 1.39))
    picked = closer_to_the_turn(combined, own)
    assert picked is not None
    assert picked.article_id == "buy"
    assert picked.question == "buy的问题"


def test_a_plain_aspect_keeps_the_topic_article():
    # 水表过户 + 要带啥材料: the turn's own words like the topic article as much as any
    combined = _answered(("water", 1.50), ("power", 1.46), ("gas", 1.40))
    own = _answered(("power", 1.30), ("water", 1.29), ("gas", 1.28))
    assert closer_to_the_turn(combined, own) is None


def test_generic_words_ranking_an_unrelated_article_do_not_pull_the_answer_away():
    # 身份证补办 + 要花钱不: the sibling would win the sum only through the floor score, but
    # the turn's own best three are unrelated articles
    combined = _answered(("idcard", 1.50), ("hukou", 1.49), ("temp", 1.40))
    own = _answered(("price", 1.40), ("fee", 1.39), ("refund", 1.385), ("hukou", 1.38), ("x", 1.3))
    assert closer_to_the_turn(combined, own) is None


def test_a_bare_aspect_moves_to_a_sibling_only_one_it_clearly_points_to():
    """工本费多少 after the ID renewal: its own ranking is a near tie (the passport article by
    a hair), so the topic article answers it; 要准备些啥材料 after the enrolment answer leads
    its own ranking clearly, so the materials sibling does."""
    combined = _answered(("renew", 1.47), ("visa", 1.43), ("passport", 1.42))
    tie = _answered(("passport", 1.428), ("licence", 1.427), ("loan", 1.35), ("renew", 1.33))
    assert closer_to_the_turn(combined, tie, "工本费多少") is None
    clear = _answered(("passport", 1.49), ("licence", 1.42), ("loan", 1.35), ("renew", 1.33))
    picked = closer_to_the_turn(combined, clear, "要准备些啥材料")
    assert picked is not None
    assert picked.article_id == "passport"


def test_a_close_article_of_another_category_is_no_sibling():
    # 水表过户 + 收钱吗: the turn's own words rank the shop-overcharging article first, but it
    # is not the water-meter article's sibling; the topic article answers the fee
    categories = {"water": "水电气", "transfer": "水电气", "overcharge": "市场监管"}
    combined = BotAnswer(
        "consult",
        0.9,
        KbDecision.ANSWER,
        kb_article_id="water",
        ranking=_ranked(
            ("water", 1.50), ("overcharge", 1.48), ("transfer", 1.40), category=categories
        ),
    )
    own = BotAnswer(
        "consult",
        0.6,
        KbDecision.CLARIFY,
        ranking=_ranked(("overcharge", 1.45), ("water", 1.30), category=categories),
    )
    assert closer_to_the_turn(combined, own) is None


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("收不收钱的", True),
        ("多收的钱退不退", True),
        ("装好以后坏了找谁修", True),
        ("有没有补贴", True),
        ("我要投诉", False),
        ("西湖区桃源小区12栋", False),
    ],
)
def test_a_not_a_and_who_ask_questions(text: str, asks: bool):
    assert is_question(text) is asks


async def test_a_follow_up_naming_what_no_article_mentions_is_not_the_topic_again(hub: Hub):
    """医保 answered; 那车船税呢 reads the topic again only by the topic's words: the bot must
    not repeat the medical-insurance answer for a thing the knowledge base does not hold."""
    await hub.say("v12", "新生儿医保怎么办")
    answer_when(hub, "车船税", replace(MEDICAL_ANSWER, novel_terms=("车船税",)))
    result = await hub.say("v12", "那车船税呢")
    assert result.replies
    assert all("90天" not in r.text for r in result.replies)


@pytest.mark.parametrize(
    ("turn", "terms", "repeated"),
    [
        ("那交强险呢", ("交强险",), False),  # the topic article never mentions it
        ("那参保登记呢", ("参保",), True),  # it does
        ("要带啥材料", ("材料",), True),  # an aspect names no thing of its own
        ("网上能办吗，月子里出不了门", ("月子",), True),  # said why, in a clause that asks nothing
    ],
)
async def test_a_follow_up_naming_what_the_topic_article_never_mentions_is_not_it_again(
    hub: Hub, turn: str, terms: tuple[str, ...], repeated: bool
):
    who = f"v25-{turn}"
    await hub.say(who, "新生儿医保怎么办")
    mentions = frozenset({"新生儿", "医保", "参保", "登记"})
    topic_again = replace(MEDICAL_ANSWER, terms=terms, kb_mentions=mentions)
    answer_when(hub, turn, topic_again)
    result = await hub.say(who, turn)
    assert any("90天" in r.text for r in result.replies) is repeated


async def test_an_address_after_a_complaint_question_takes_the_complaint_in(hub: Hub):
    """楼下烧烤店油烟…你们管不管 is asked as a question and answered; the address that follows
    is where, for that complaint, whatever the parser makes of an address alone."""
    answer_when(
        hub,
        "管不管",
        BotAnswer("complaint", 0.9, KbDecision.ANSWER, "可向城管部门投诉。", "kb-0132", "城市管理"),
    )
    first = await hub.say("v13", "楼下烧烤店油烟天天往我家灌，你们管不管")
    assert "城管" in first.replies[0].text
    answer_when(
        hub,
        "桃源小区",
        BotAnswer(
            "report_repair",
            0.9,
            KbDecision.NONE,
            entities=(("district", "西湖区"), ("address", "桃花路桃源小区12栋")),
        ),
    )
    result = await hub.say("v13", "西湖区桃花路桃源小区12栋，就在一楼门面")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert (conv.dialogue.intake, conv.dialogue.asking) == ("complaint", "phone")
    assert conv.dialogue.slot("what") == "楼下烧烤店油烟天天往我家灌，你们管不管"


def test_no_ranking_settles_nothing():
    assert (
        closer_to_the_turn(BotAnswer("consult", 0.9, KbDecision.ANSWER), _answered(("a", 1.0)))
        is None
    )


async def test_asking_who_answers_is_answered_not_handed_over(hub: Hub):
    answer_when(hub, "机器人", BotAnswer("ask_human", 0.9, KbDecision.NONE))
    result = await hub.say("v11", "你是真人还是机器人")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.state is ConversationState.BOT
    assert "智能客服" in result.replies[-1].text
    assert "转人工" in result.replies[-1].quick_replies
    assert not asks_who_answers("你们是不是人啊，办事这么慢")  # anger, not a question
    asked = await hub.say("v11", "你是机器人吗，给我转人工")  # this one asks for a person
    conv = await hub.stack.router.book.get(asked.conversation_id)
    assert conv.state is ConversationState.QUEUED


def _complaint_with_a_place(hub: Hub) -> None:
    answer_when(
        hub,
        "秤有鬼",
        BotAnswer("complaint", 0.9, KbDecision.NONE, entities=(("address", "幸福小区3栋"),)),
    )


async def test_a_correction_that_carries_the_change_is_read_back_at_once(hub: Hub):
    """不对，电话最后一位是6 with the number: applied and read back, no "what to change?"
    round; the yes that follows files the case (not taken for a new address)."""
    _complaint_with_a_place(hub)
    await hub.say("v14", "菜市场的秤有鬼，幸福小区3栋")
    summary = await hub.say("v14", "13979112345")
    assert "电话：13979112345" in summary.replies[-1].text
    again = await hub.say("v14", "不对不对，电话最后一位是6，13979112346")
    assert "电话：13979112346" in again.replies[-1].text
    assert "请核对" in again.replies[-1].text
    result = await hub.say("v14", "这回对头了")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.slot("case_no")
    assert conv.dialogue.slot("address") == "幸福小区3栋"


async def test_a_yes_after_asking_what_to_change_reads_back_again(hub: Hub):
    _complaint_with_a_place(hub)
    await hub.say("v15", "菜市场的秤有鬼，幸福小区3栋")
    await hub.say("v15", "13979112345")
    asked = await hub.say("v15", "修改")
    assert "修改的内容" in asked.replies[-1].text
    summary = await hub.say("v15", "对")
    assert "请核对" in summary.replies[-1].text
    assert "地址：幸福小区3栋" in summary.replies[-1].text


async def test_a_detail_of_the_topic_keeps_the_topic_when_the_turn_itself_points_at_it(hub: Hub):
    """他是职工医保，去哪申请 after the long-term-care answer: the turn names a detail (职工医保)
    that a clarify choice shares (医保断缴), but the turn's own best article is the topic, so
    the topic answers it."""
    await hub.say("v17", "新生儿医保怎么办")
    usual = hub.bot.answer
    own = BotAnswer(
        "consult",
        0.6,
        KbDecision.CLARIFY,
        choices=("医保断缴后有什么影响，怎么补缴？",),
        ranking=(
            RankedArticle("kb-0001", "新生儿医保怎么办理？", 1.477),
            RankedArticle("kb-0013", "医保断缴后有什么影响，怎么补缴？", 1.474),
        ),
    )

    lapse = BotAnswer("consult", 0.9, KbDecision.ANSWER, "断缴3个月内可补缴。", "kb-0013")

    async def answer(text: str) -> BotAnswer:
        if text == "职工医保去哪申请":
            return own
        if text == own.choices[0]:
            return lapse
        return await usual(text)

    hub.bot.answer = answer  # type: ignore[method-assign]
    result = await hub.say("v17", "职工医保去哪申请")
    assert "90天" in result.replies[-1].text


async def test_a_progress_reading_without_a_case_gives_the_answer_found(hub: Hub):
    """那新证没下来这段时间坐飞机咋整 heard as a progress question: the citizen has no case and
    gave no number, and the knowledge base answers the turn, so the answer is what they get."""
    answer_when(
        hub,
        "坐飞机",
        BotAnswer("query_case_status", 0.6, KbDecision.ANSWER, "可申请临时身份证。", "kb-0017"),
    )
    result = await hub.say("v18", "那新证没下来这段时间坐飞机咋整")
    assert "临时身份证" in result.replies[-1].text
    # asked plainly, with no answer found, the status desk still says there is no case
    answer_when(hub, "进展", BotAnswer("query_case_status", 0.9, KbDecision.NONE))
    result = await hub.say("v18", "我的事情有进展了吗")
    assert "没有登记的工单" in result.replies[-1].text


@pytest.mark.parametrize(
    ("text", "wants"),
    [
        ("我还是想找个真人问问具体的", True),
        ("能不能找个客服", True),
        ("给我转人工", True),
        ("不用转人工，我自己看", False),
        ("你是真人还是机器人", False),
        ("你们人工服务几点下班", False),
    ],
)
def test_asking_outright_for_a_person(text: str, wants: bool):
    assert asks_for_a_person(text) is wants


async def test_asking_outright_for_a_person_queues_however_unsure_the_parser(hub: Hub):
    answer_when(hub, "真人", BotAnswer("ask_human", 0.44, KbDecision.NONE))
    result = await hub.say("v19", "我还是想找个真人问问具体的")
    assert result.state is ConversationState.QUEUED


@pytest.mark.parametrize(
    ("who", "second", "intake"),
    [
        ("v20", ("complaint", 0.26), "repair"),  # together sure of a case: the best taken in
        ("v21", ("consult", 0.3), ""),  # one request kind alone, unsure: nothing taken in
    ],
)
async def test_a_request_split_between_two_case_kinds_is_still_taken_in(
    hub: Hub, who: str, second: tuple[str, float], intake: str
):
    """report_repair 0.48 with complaint 0.26 second: the parser is sure a case is asked for."""
    reading = BotAnswer(
        "report_repair", 0.48, KbDecision.NONE, intents=(("report_repair", 0.48), second)
    )
    answer_when(hub, "大坑", reading)
    result = await hub.say(who, "路上有个大坑，好几个骑电动车的都摔过，能不能派人补一下")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert conv.dialogue.intake == intake


async def test_praise_and_a_suggestion_are_acknowledged_not_read_as_the_topic(hub: Hub):
    await hub.say("v22", "新生儿医保怎么办")
    answer_when(hub, "点个赞", BotAnswer("praise", 0.72, KbDecision.NONE))
    result = await hub.say("v22", "你这个回答得蛮清楚，给你点个赞")
    assert [r.text for r in result.replies] == ["感谢您的肯定和鼓励！还有其他问题可以随时问我。"]
    answer_when(hub, "短信提醒", BotAnswer("suggestion", 0.92, KbDecision.NONE))
    result = await hub.say("v22", "建议你们医保缴费前能不能发个短信提醒")
    assert "感谢您的宝贵建议" in result.replies[0].text
    assert result.state is ConversationState.BOT


async def test_a_question_the_parser_half_hears_as_a_suggestion_stays_on_the_topic(hub: Hub):
    await hub.say("v23", "新生儿医保怎么办")
    turn = "医保能在手机上弄不，不想跑窗口"
    answer_exactly(hub, turn, BotAnswer("suggestion", 0.69, KbDecision.NONE))
    result = await hub.say("v23", turn)
    assert result.replies[0].text == "新生儿在出生后90天内办理居民医保参保登记。"


async def test_details_after_a_question_about_a_service_order_that_service(hub: Hub):
    """想搵个月嫂，点样约啊 is answered (how booking works); an address and a phone next are
    the order's details, whatever the parser guesses of them (report_repair 0.34)."""
    asked = BotAnswer(
        "order_domestic_service",
        0.8,
        KbDecision.ANSWER,
        "可在平台预约月嫂。",
        "kb-0075",
        "家政服务",
    )
    answer_when(hub, "月嫂", asked)
    details = BotAnswer(
        "report_repair",
        0.34,
        KbDecision.NONE,
        entities=(("district", "青云谱区"), ("address", "洪都中大道"), ("phone", "15879112345")),
        intents=(("report_repair", 0.34), ("consult", 0.22), ("order_domestic_service", 0.15)),
    )
    answer_when(hub, "洪都中大道", details)
    result = await hub.say("v24", "想搵个月嫂，点样约啊")
    assert result.replies[0].text == "可在平台预约月嫂。"
    result = await hub.say("v24", "我哋住青云谱区洪都中大道，电话15879112345")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert (conv.dialogue.intake, conv.dialogue.asking) == ("domestic_service_order", "confirm")
    assert conv.dialogue.slot("what") == "想搵个月嫂，点样约啊"


async def test_small_talk_the_parser_is_sure_of_is_never_read_with_the_topic(hub: Hub):
    """今天热死了，你们那边热不热 after an answer: the topic-combined query would find the
    topic's article; a sure out-of-scope turn is told what the hotline is for instead."""
    await hub.say("v26", "新生儿医保怎么办")
    turn = "今天热死了，你们那边热不热"
    answer_exactly(hub, turn, BotAnswer("out_of_scope", 0.95, KbDecision.NONE))
    result = await hub.say("v26", turn)
    assert "不在12345热线的服务范围内" in result.replies[0].text
