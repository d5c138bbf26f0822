from dataclasses import replace
from datetime import UTC, datetime

from mongo.customers import MongoCustomerRepository
from routing import replies
from routing.bot import BotAnswer, KbDecision
from routing.conversation_model import ConversationState, Priority
from routing.customers import Identity, IdentityKind
from routing.events import ConversationQueued, SupervisorAlert
from routing.messages import DeliveryState, InboundMessage
from routing.presence import AgentStatus
from tests.routing.conftest import Hub, make_hub, routing_config


async def test_knowledge_question_is_answered_by_the_bot_with_two_writes(hub: Hub):
    result = await hub.say("v1", "宝宝医保怎么办")
    assert result.state is ConversationState.BOT
    assert result.replies[0].kb_article_id == "kb-0001"
    assert "90天内" in result.replies[0].text
    assert replies.HUMAN_BUTTON in result.replies[0].quick_replies
    before = await hub.db["messages"].count_documents({})
    writes_conv = await hub.db["conversations"].count_documents({})
    again = await hub.say("v1", "停水了怎么办")
    assert again.conversation_id == result.conversation_id
    assert await hub.db["messages"].count_documents({}) == before + 2
    assert await hub.db["conversations"].count_documents({}) == writes_conv


async def test_small_talk_gets_a_friendly_reply(hub: Hub):
    result = await hub.say("v1", "你好")
    assert result.replies[0].text == replies.GREETING


async def test_clarify_offers_the_choices(hub: Hub):
    result = await hub.say("v1", "证件的问题")
    assert result.replies[0].text.startswith(replies.CLARIFY_PREFIX)
    assert "身份证到期怎么换领？" in result.replies[0].quick_replies


async def test_a_number_reply_picks_a_clarify_choice(hub: Hub):
    await hub.say("v1", "证件的问题")
    await hub.say("v1", "第二个")
    assert hub.bot.calls[-1] == "身份证到期怎么换领？"
    await hub.say("v1", "2")  # the offer was used up: "2" is just text now
    assert hub.bot.calls[-1] == "2"


def test_choice_numbers_in_every_form():
    offer = ("甲", "乙", "丙")
    assert [replies.chosen(t, offer) for t in ("1", "２", "三", "第3个", "4", "好")] == [
        "甲",
        "乙",
        "丙",
        "丙",
        None,
        None,
    ]


async def test_second_unsure_turn_in_a_row_escalates(hub: Hub):
    first = await hub.say("v1", "嗯嗯那个事")
    assert first.state is ConversationState.BOT
    second = await hub.say("v1", "就是那个事情啊")
    assert second.state is ConversationState.QUEUED
    # no agent signed in: no place in line or wait is promised; a message or callback is offered
    assert "暂无人工客服" in second.replies[-1].text
    assert "您前面还有" not in second.replies[-1].text
    assert second.replies[-1].quick_replies == ("留言", "预约回电")


async def test_out_of_scope_turns_the_bot_is_sure_of_are_not_an_unsure_streak(hub: Hub):
    """明天会不会下雨 twice: the bot understood both (out of scope, surely); a person would not
    answer them better, so the citizen is not put in a queue for them."""
    usual = hub.bot.answer

    async def answer(text: str) -> BotAnswer:
        if "下雨" in text:
            return BotAnswer("out_of_scope", 0.9, KbDecision.NONE)
        return await usual(text)

    hub.bot.answer = answer  # type: ignore[method-assign]
    await hub.say("v1", "明天会不会下雨")
    second = await hub.say("v1", "那后天会不会下雨")
    assert second.state is ConversationState.BOT
    # told what the hotline is for, not asked to say it again in other words
    assert "不在12345热线的服务范围内" in second.replies[0].text


async def test_the_queue_position_is_told_when_an_agent_is_on_duty(hub: Hub):
    await hub.agent("a1", {"general": 5}, ready=False)
    await hub.stack.desk.set_status("a1", AgentStatus.BUSY)  # signed in, taking nothing new
    queued = await hub.say("v1", "转人工")
    assert queued.state is ConversationState.QUEUED
    assert "您前面还有0位" in queued.replies[-1].text


async def test_with_no_agent_on_duty_the_citizen_can_leave_a_message_and_keep_the_place(hub: Hub):
    queued = await hub.say("v1", "转人工")
    assert "暂无人工客服" in queued.replies[-1].text
    asked = await hub.say("v1", "留言")
    assert asked.state is ConversationState.QUEUED  # still in line for when someone signs in
    done = await hub.say("v1", "家门口路灯坏了三天")
    assert "您的留言已登记，工单号" in done.replies[-1].text


async def test_a_good_answer_resets_the_unsure_streak(hub: Hub):
    await hub.say("v1", "嗯嗯那个事")
    await hub.say("v1", "医保")
    third = await hub.say("v1", "还有那个事")
    assert third.state is ConversationState.BOT


async def test_ask_human_queues_then_an_agent_is_assigned_and_chats(hub: Hub):
    queued = await hub.say("v1", "我要转人工")
    assert queued.state is ConversationState.QUEUED
    cid = queued.conversation_id
    await hub.agent("a1", {"general": 5})
    conv = await hub.stack.router.book.get(cid)
    assert (conv.state, conv.agent) == (ConversationState.ASSIGNED, "a1")
    assert "您好，人工客服客服a1为您服务。" in await hub.delivered()

    during = await hub.say("v1", "路灯坏了好几天")
    assert during.replies == ()  # the agent answers, not the bot
    sent = await hub.stack.desk.reply("a1", cid, "您好，请提供具体位置", client_id="c-1")
    assert sent is not None
    assert (await hub.delivered())[-1] == "您好，请提供具体位置"
    assert (
        await hub.stack.desk.reply("a1", cid, "您好，请提供具体位置", client_id="c-1") is None
    )  # retry
    stored = await hub.stack.messages.list_for_conversation(cid)
    assert [m.text for m in stored].count("您好，请提供具体位置") == 1


async def test_complaint_goes_to_the_complaint_queue(hub: Hub):
    await hub.say("v1", "我要投诉物业")  # the bot takes the complaint in: it asks first
    result = await hub.say("v1", "转人工")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert (conv.state, conv.queue, conv.escalation_reason) == (
        ConversationState.QUEUED,
        "complaint",
        "complaint",
    )


async def test_emergency_jumps_the_queue_and_alerts_supervisors(hub: Hub):
    events = hub.stack.bus.subscribe()
    for i in range(3):
        await hub.say(f"other{i}", "转人工")
    result = await hub.say("grandma", "救命 我摔倒了")
    assert result.replies[-1].text == replies.EMERGENCY
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert (conv.queue, conv.priority) == ("emergency", Priority.EMERGENCY)
    seen = [events.queue.get_nowait() for _ in range(events.queue.qsize())]
    assert any(isinstance(e, SupervisorAlert) and e.conversation_id == conv.id for e in seen)
    await hub.agent("a1", {"general": 5, "emergency": 5}, max_chats=1)
    # emergency is ring-all with manual accept: it is offered before the earlier general chats
    assert conv.id in hub.stack.acd.offers
    await hub.stack.desk.accept("a1", conv.id)
    assert (await hub.stack.router.book.get(conv.id)).agent == "a1"


async def test_elderly_customer_goes_to_a_person_with_priority(hub: Hub):
    first = await hub.say("laoren", "你好")
    customer_id = (await hub.stack.router.book.get(first.conversation_id)).customer_id
    await MongoCustomerRepository(hub.db).set_tags(customer_id, frozenset({"elderly"}))
    hub.stack.router.forget_customer(customer_id)
    result = await hub.say("laoren", "医保怎么交")
    assert "90天内" in result.replies[0].text  # the bot still answers while they wait
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert (conv.state, conv.priority) == (ConversationState.QUEUED, Priority.ELDERLY_OR_VIP)


async def test_bot_keeps_answering_while_the_customer_waits(hub: Hub):
    await hub.say("v1", "转人工")
    result = await hub.say("v1", "停水怎么办")
    assert "提前24小时" in result.replies[0].text
    assert "暂无人工客服" in result.replies[0].text  # nobody signed in: no wait promised
    assert result.state is ConversationState.QUEUED


async def test_waiting_customer_in_danger_is_upgraded_to_emergency(hub: Hub):
    await hub.say("v1", "转人工")
    result = await hub.say("v1", "救命")
    conv = await hub.stack.router.book.get(result.conversation_id)
    assert (conv.queue, conv.priority) == ("emergency", Priority.EMERGENCY)
    assert len(hub.stack.acd.queues["general"]) == 0


async def test_retried_message_is_stored_once_and_gets_the_same_reply(hub: Hub):
    first = await hub.say("v1", "医保", msg_id="dup-1")
    again = await hub.say("v1", "医保", msg_id="dup-1")
    assert again.duplicate
    assert again.message_id == first.message_id
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    assert await hub.db["messages"].count_documents({"external_id": "test:dup-1"}) == 1
    assert len(hub.bot.calls) == 1


async def test_retry_of_a_message_that_was_never_answered_gets_answered(hub: Hub):
    first = await hub.say("v1", "你好", msg_id="x-1")
    await hub.db["messages"].delete_many({"external_id": {"$regex": "^test:x-1:r"}})
    again = await hub.say("v1", "你好", msg_id="x-1")
    assert again.duplicate
    assert again.replies[0].text == replies.GREETING
    assert again.message_id == first.message_id


async def test_message_soon_after_closing_reopens_later_starts_anew(hub: Hub):
    first = await hub.say("v1", "转人工")
    await hub.agent("a1", {"general": 5})
    await hub.stack.desk.close("a1", first.conversation_id, "resolved")
    await hub.advance(600)
    reopened = await hub.say("v1", "还有个问题")
    assert reopened.conversation_id == first.conversation_id
    assert reopened.state is ConversationState.BOT
    await hub.stack.desk.customer_left(first.conversation_id)
    await hub.advance(hub.stack.router.config.reopen_window_s + 1)
    fresh = await hub.say("v1", "你好")
    assert fresh.conversation_id != first.conversation_id


async def test_idle_bot_conversation_is_closed_and_a_new_one_starts(hub: Hub):
    first = await hub.say("v1", "你好")
    await hub.advance(hub.stack.router.config.bot_idle_close_s + 1)
    second = await hub.say("v1", "你好")
    assert second.conversation_id != first.conversation_id
    old = await hub.stack.conversations.get(first.conversation_id)
    assert old.state is ConversationState.CLOSED


async def test_one_customer_on_two_channels_is_one_history(hub: Hub):
    first = await hub.say("v1", "你好", channel="rest")
    customers = MongoCustomerRepository(hub.db)
    customer_id = (await hub.stack.router.book.get(first.conversation_id)).customer_id
    await customers.add_identity(customer_id, Identity(IdentityKind.WECHAT, "gh:o_1"))
    from routing.messages import InboundMessage

    msg = InboundMessage(
        "wechat", "gh", "7001", Identity(IdentityKind.WECHAT, "gh:o_1"), "医保", hub.clock.now()
    )
    second = await hub.stack.router.handle_inbound(msg)
    assert second.conversation_id == first.conversation_id
    conv = await hub.stack.router.book.get(first.conversation_id)
    assert (conv.last_channel, conv.reply_to) == ("wechat", "gh:o_1")


async def test_after_hours_offers_a_message_that_becomes_a_case(db):
    config = routing_config()
    general = replace(config.queues["general"], hours=config.queues["callback"].hours)
    h = await make_hub(db, replace(config, queues={**config.queues, "general": general}))
    h.clock.set(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))  # 22:00 in Beijing
    result = await h.say("v1", "转人工")
    assert "非工作时间" in result.replies[-1].text
    assert replies.LEAVE_BUTTON in result.replies[-1].quick_replies
    ask = await h.say("v1", "留言")
    assert ask.replies[0].text == replies.LEAVE_MESSAGE_ASK
    done = await h.say("v1", "幸福路8号路灯不亮三天了，电话13812345678")
    assert "工单号20261124-000001" in done.replies[0].text
    case = await db["cases"].find_one({"number": "20261124-000001"})
    assert case["description"].startswith("幸福路8号路灯不亮")
    assert case["conversation_id"] == result.conversation_id


async def test_after_hours_callback_asks_for_a_phone_and_books_the_next_opening(db):
    config = routing_config()
    general = replace(config.queues["general"], hours=config.queues["callback"].hours)
    h = await make_hub(db, replace(config, queues={**config.queues, "general": general}))
    h.clock.set(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    await h.say("v1", "转人工")
    ask = await h.say("v1", "预约回电")
    assert ask.replies[0].text == replies.CALLBACK_NEED_PHONE
    done = await h.say("v1", "13812345678")
    assert "11月25日 08:30" in done.replies[0].text
    case = await db["cases"].find_one({"type": "todo"})
    assert case["contact_phone"] == "+8613812345678"
    # where to call back, not who the citizen is: the number is not linked to them
    phone = Identity(IdentityKind.PHONE, "+8613812345678")
    assert await MongoCustomerRepository(db).find_by_identity(phone) is None


async def test_blacklisted_customer_is_blocked_or_limited(db):
    h = await make_hub(
        db, replace(routing_config(), blacklist=replace(routing_config().blacklist, daily_limit=2))
    )
    first = await h.say("troll", "你好")
    customer_id = (await h.stack.router.book.get(first.conversation_id)).customer_id
    await MongoCustomerRepository(db).set_tags(customer_id, frozenset({"blacklist"}))
    h.stack.router.forget_customer(customer_id)
    assert (await h.say("troll", "你好")).replies[0].text == replies.GREETING
    assert (await h.say("troll", "你好")).replies[0].text == replies.GREETING
    limited = await h.say("troll", "转人工")
    assert limited.replies[0].text == replies.DAILY_LIMIT
    assert limited.state is ConversationState.BOT


async def test_silent_agent_loses_the_conversation_to_another(hub: Hub):
    await hub.agent("slow", {"general": 9}, max_chats=1)
    result = await hub.say("v1", "转人工")
    cid = result.conversation_id
    assert (await hub.stack.router.book.get(cid)).agent == "slow"
    await hub.agent("quick", {"general": 5}, max_chats=1)
    await hub.say("v1", "有人吗")
    await hub.advance(181)
    conv = await hub.stack.router.book.get(cid)
    assert conv.agent == "quick"
    assert "正在为您转接其他客服，请稍候。" in await hub.delivered()


async def test_agent_who_answers_in_time_keeps_the_conversation(hub: Hub):
    await hub.agent("a1", {"general": 9})
    await hub.agent("a2", {"general": 5})
    cid = (await hub.say("v1", "转人工")).conversation_id
    await hub.say("v1", "有人吗")
    await hub.advance(100)
    await hub.stack.desk.reply("a1", cid, "在的", client_id="1")
    await hub.advance(200)
    assert (await hub.stack.router.book.get(cid)).agent == "a1"


async def test_transfer_to_a_queue_with_a_note(hub: Hub):
    await hub.agent("a1", {"general": 5})
    cid = (await hub.say("v1", "转人工")).conversation_id
    await hub.stack.desk.transfer_to_queue("a1", cid, "water", note="水表问题，请供水专席处理")
    conv = await hub.stack.router.book.get(cid)
    assert (conv.state, conv.queue) == (ConversationState.QUEUED, "water")
    await hub.agent("w1", {"water": 5})
    conv = await hub.stack.router.book.get(cid)
    assert conv.agent == "w1"
    notes = [m for m in await hub.stack.messages.list_for_conversation(cid) if m.kind == "note"]
    assert "水表问题" in notes[0].text
    assert any("正在为您转接到供水服务" in t for t in await hub.delivered())


async def test_transfer_to_an_agent_invite_and_take_over(hub: Hub):
    from routing.agents import Role

    await hub.agent("a1", {"general": 5})
    await hub.agent("a2", {"general": 5})
    await hub.agent(
        "boss", {"general": 5}, roles=frozenset({Role.SUPERVISOR, Role.AGENT}), ready=False
    )
    cid = (await hub.say("v1", "转人工")).conversation_id
    first = (await hub.stack.router.book.get(cid)).agent
    other = "a2" if first == "a1" else "a1"
    await hub.stack.desk.transfer_to_agent(first, cid, other, note="请协助")
    assert (await hub.stack.router.book.get(cid)).agent == other
    await hub.stack.desk.invite(other, cid, "boss")
    assert (await hub.stack.router.book.get(cid)).participants == ("boss",)
    await hub.stack.desk.note("boss", cid, "注意安抚情绪", whisper=True)
    await hub.stack.desk.take_over("boss", cid)
    conv = await hub.stack.router.book.get(cid)
    assert conv.agent == "boss"
    seat = hub.stack.acd.presence.seat(other)
    assert seat is not None
    assert cid not in seat.chats


async def test_only_the_serving_agent_may_reply(hub: Hub):
    import pytest

    from primitives.errors import NotAllowed

    await hub.agent("a1", {"general": 5})
    await hub.agent("stranger", {"water": 5})
    cid = (await hub.say("v1", "转人工")).conversation_id
    with pytest.raises(NotAllowed):
        await hub.stack.desk.reply("stranger", cid, "hi", client_id="x")


async def test_hand_back_to_bot_then_the_bot_answers(hub: Hub):
    await hub.agent("a1", {"general": 5})
    cid = (await hub.say("v1", "转人工")).conversation_id
    await hub.stack.desk.hand_back("a1", cid)
    result = await hub.say("v1", "医保")
    assert result.state is ConversationState.BOT
    assert result.replies[0].kb_article_id == "kb-0001"


async def test_closing_frees_capacity_for_the_next_in_line(hub: Hub):
    await hub.agent("a1", {"general": 5}, max_chats=1)
    first = (await hub.say("v1", "转人工")).conversation_id
    second = (await hub.say("v2", "转人工")).conversation_id
    assert (await hub.stack.router.book.get(second)).state is ConversationState.QUEUED
    await hub.stack.desk.end("a1", first)
    assert (await hub.stack.router.book.get(first)).state is ConversationState.WRAP_UP
    await hub.stack.desk.close("a1", first, "resolved")
    conv = await hub.stack.router.book.get(second)
    assert (conv.state, conv.agent) == (ConversationState.ASSIGNED, "a1")
    closed = await hub.stack.conversations.get(first)
    assert (closed.state, closed.wrap_up_code) == (ConversationState.CLOSED, "resolved")


async def test_wrap_up_closes_itself_after_the_timeout(hub: Hub):
    await hub.agent("a1", {"general": 5})
    cid = (await hub.say("v1", "转人工")).conversation_id
    await hub.stack.desk.end("a1", cid)
    await hub.advance(hub.stack.router.config.conversation_wrap_up_s + 1)
    assert (await hub.stack.conversations.get(cid)).state is ConversationState.CLOSED


async def test_disconnected_agent_conversation_goes_to_another_after_grace(hub: Hub):
    await hub.agent("a1", {"general": 9}, max_chats=1)
    cid = (await hub.say("v1", "转人工")).conversation_id
    await hub.agent("a2", {"general": 5}, max_chats=1)
    await hub.stack.desk.disconnected("a1")
    await hub.advance(29)
    assert (await hub.stack.router.book.get(cid)).agent == "a1"
    await hub.advance(2)
    assert (await hub.stack.router.book.get(cid)).agent == "a2"


async def test_restart_keeps_every_waiting_conversation_in_order(db):
    h = await make_hub(db)
    ids = [(await h.say(f"v{i}", "转人工")).conversation_id for i in range(8)]
    sos = (await h.say("sos", "救命")).conversation_id
    await h.stack.outbox.close()

    restarted = await make_hub(db)  # a new process: nothing in memory, same database
    order = [
        e.conversation_id
        for e in restarted.stack.acd.queues["general"].ordered(restarted.clock.now())
    ]
    assert order == ids
    assert sos in restarted.stack.acd.queues["emergency"]
    await restarted.agent("a1", {"general": 5}, max_chats=3)
    assigned = [c for c in ids if (await restarted.stack.router.book.get(c)).agent == "a1"]
    assert assigned == ids[:3]


async def test_case_status_is_told_only_to_its_owner(hub: Hub):
    from cases.model import CaseType, NewCase

    first = await hub.say("v1", "你好")
    owner = (await hub.stack.router.book.get(first.conversation_id)).customer_id
    desk = hub.stack.router.dialogs._cases
    case = await desk.open(NewCase(CaseType.REPAIR, "路灯不亮", customer_id=owner), actor="agent1")
    mine = await hub.say("v1", f"查一下进度 {case.number}")
    assert f"工单{case.number}（路灯不亮）：已登记" in mine.replies[0].text
    theirs = await hub.say("v2", f"查一下进度 {case.number}")
    assert "没有查到您名下的工单" in theirs.replies[0].text


async def test_case_status_covers_cases_filed_with_the_customers_proven_phone(hub: Hub):
    """A case an agent filed from a call names the caller's number; the same citizen texting
    from that number (an SMS identity: proven by the network) is told of it."""
    from cases.model import CaseType, NewCase
    from cases.workflow import CaseAction, CaseCommand

    desk = hub.stack.router.dialogs._cases
    case = await desk.open(
        NewCase(CaseType.REPAIR, "路灯不亮", contact_phone="13800001111"), actor="agent1"
    )
    await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, actor="agent1"))
    sms = InboundMessage(
        channel="sms",
        account="test",
        provider_id="s1",
        identity=Identity(IdentityKind.PHONE, "+8613800001111"),
        text="查一下进度",
        received_at=hub.clock.now(),
    )
    told = (await hub.stack.router.handle_inbound(sms)).replies[0].text
    assert f"工单{case.number}（路灯不亮）：已受理" in told
    assert "最新进展" in told
    assert "已受理" in told
    stranger = await hub.say("v9", f"查一下进度 {case.number}")
    assert "没有查到您名下的工单" in stranger.replies[0].text


async def test_failed_delivery_is_retried_then_marked_failed(hub: Hub):
    await hub.agent("a1", {"general": 5})
    cid = (await hub.say("v1", "转人工")).conversation_id
    await hub.delivered()
    hub.sender.fail_next = 1
    sent = await hub.stack.desk.reply("a1", cid, "第一条", client_id="r1")
    await hub.stack.outbox.drain()
    assert sent is not None
    assert (
        await hub.stack.messages.find_by_external("rest", "agent:a1:r1")
    ).delivery is DeliveryState.SENT
    hub.sender.fail_next = 10
    await hub.stack.desk.reply("a1", cid, "第二条", client_id="r2")
    await hub.stack.outbox.drain()
    failed = await hub.stack.messages.find_by_external("rest", "agent:a1:r2")
    assert failed is not None
    assert failed.delivery is DeliveryState.FAILED
    # the sender's own reason is technical (English): the agent reads a Chinese one
    assert failed.error == "消息发送失败，请稍后重试或改用其他渠道联系"


async def test_queued_event_names_the_reason(hub: Hub):
    events = hub.stack.bus.subscribe()
    await hub.say("v1", "我要投诉")
    await hub.say("v1", "转人工")
    seen = [events.queue.get_nowait() for _ in range(events.queue.qsize())]
    queued = [e for e in seen if isinstance(e, ConversationQueued)]
    assert queued[0].reason == "complaint"


async def test_waiting_customers_hear_when_their_place_changes(hub: Hub):
    from routing.events import QueuePosition

    events = hub.stack.bus.subscribe(lambda e: isinstance(e, QueuePosition))
    ids = [(await hub.say(f"v{i}", "转人工")).conversation_id for i in range(3)]
    await hub.advance(3)  # changes are coalesced for 2 s
    told = {
        e.conversation_id: e.position
        for e in [events.queue.get_nowait() for _ in range(events.queue.qsize())]
    }
    assert told == {ids[0]: 1, ids[1]: 2, ids[2]: 3}
    await hub.agent("a1", {"general": 5}, max_chats=1)  # takes the first in line
    await hub.advance(3)
    moved = [events.queue.get_nowait() for _ in range(events.queue.qsize())]
    assert {(e.conversation_id, e.position) for e in moved} == {(ids[1], 1), (ids[2], 2)}


async def test_a_message_over_the_length_cap_is_stored_and_answered_without_the_bot(hub: Hub):
    limit = hub.stack.router.config.max_text_chars
    text = "我家楼下的路灯坏了，" * (limit // 5)
    result = await hub.say("v1", text)
    assert result.replies[0].text == replies.TOO_LONG.format(limit=limit)
    assert hub.bot.calls == []
    stored = await hub.db["messages"].find_one({"_id": result.message_id})
    assert stored["text"] == text
