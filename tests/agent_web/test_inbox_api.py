from agent_web.keys import EVENTS
from tests.agent_web.conftest import Hub, MakeHub

INBOX = "/api/v1/agent/inbox"


def conv_path(cid: str, tail: str = "") -> str:
    return f"/api/v1/agent/conversations/{cid}{tail}"


async def test_a_ready_agent_gets_the_conversation_with_its_channel(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    sent = await hub.customer("u1", "转人工")
    inbox = await agent.json("GET", INBOX)
    [conv] = inbox["conversations"]
    assert conv["id"] == sent["conversation_id"]
    assert conv["channel"] == "rest"
    assert conv["state"] == "assigned"
    assert conv["escalation_reason"] == "ask_human"
    assert inbox["me"]["status"] == "ready"
    assert inbox["me"]["load"] == 1


async def test_presence_switch_and_load(hub: Hub):
    agent = await hub.staff("agent1")
    me = (await agent.json("POST", "/api/v1/agent/status", {"status": "busy"}))["me"]
    assert me["status"] == "busy"
    assert me["max_chats"] == 4
    resp = await agent.post("/api/v1/agent/status", {"status": "offline"})
    assert resp.status == 400
    assert (await resp.json())["reason"] == "status must be ready, busy or away"


async def test_the_reply_reaches_the_customer_and_a_retry_is_not_sent_twice(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u2", "转人工"))["conversation_id"]
    body = {"text": "您好，我是李娜，请讲", "client_id": "c-1"}
    first = await agent.json("POST", conv_path(cid, "/messages"), body, status=201)
    assert first["message"]["text"] == "您好，我是李娜，请讲"
    again = await agent.json("POST", conv_path(cid, "/messages"), body)
    assert again == {"duplicate": True}
    assert (await hub.customer_inbox("u2")).count("您好，我是李娜，请讲") == 1


async def test_an_empty_reply_is_400(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u3", "转人工"))["conversation_id"]
    resp = await agent.post(conv_path(cid, "/messages"), {"text": "   ", "client_id": "c-2"})
    assert resp.status == 400
    assert (await resp.json())["reason"] == "the message is empty"


async def test_an_internal_note_never_reaches_the_customer(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u4", "转人工"))["conversation_id"]
    note = await agent.json("POST", conv_path(cid, "/notes"), {"text": "客户情绪激动"}, status=201)
    assert note["message"]["internal"] is True
    assert "客户情绪激动" not in await hub.customer_inbox("u4")
    transcript = (await agent.json("GET", conv_path(cid)))["messages"]
    assert [m["text"] for m in transcript if m["internal"]] == ["客户情绪激动"]


async def test_the_transcript_shows_what_the_bot_understood(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    await hub.customer("u5", "新生儿医保怎么办")
    cid = (await hub.customer("u5", "转人工"))["conversation_id"]
    messages = (await agent.json("GET", conv_path(cid)))["messages"]
    said = {m["text"]: m for m in messages if m["sender"] == "customer"}
    assert said["新生儿医保怎么办"]["nlu"]["intent"] == "consult"
    assert said["转人工"]["nlu"]["intent"] == "ask_human"
    assert said["转人工"]["nlu"]["confidence"] == 0.95
    bot = next(m for m in messages if m["sender"] == "bot")
    assert bot["bot"]["kb_article_id"] == "kb-0001"


async def test_offers_are_listed_with_their_countdown_and_can_be_accepted(make_hub: MakeHub):
    hub = await make_hub(general={"auto_accept": False, "offer_timeout_s": 60})
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u6", "转人工"))["conversation_id"]
    inbox = await agent.json("GET", INBOX)
    [offer] = inbox["offers"]
    assert offer["conversation_id"] == cid
    assert offer["queue_title"] == "综合咨询"
    assert 55 <= offer["ttl_s"] <= 60
    assert offer["conversation"]["customer"]["id"]
    accepted = await agent.json("POST", f"/api/v1/agent/offers/{cid}/accept")
    assert accepted["conversation"]["state"] == "assigned"
    after = await agent.json("GET", INBOX)
    assert after["offers"] == []
    assert [c["id"] for c in after["conversations"]] == [cid]


async def test_a_declined_offer_goes_to_another_agent(make_hub: MakeHub):
    hub = await make_hub(general={"auto_accept": False, "offer_timeout_s": 60})
    first = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u7", "转人工"))["conversation_id"]
    second = await hub.staff("agent2", ready=True)
    await first.json("POST", f"/api/v1/agent/offers/{cid}/decline")
    offers = (await second.json("GET", INBOX))["offers"]
    assert [o["conversation_id"] for o in offers] == [cid]
    late = await first.post(f"/api/v1/agent/offers/{cid}/accept")
    assert late.status == 409


async def test_manual_queues_are_picked_by_hand(make_hub: MakeHub):
    hub = await make_hub(general={"strategy": "manual"})
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u8", "转人工"))["conversation_id"]
    waiting = (await agent.json("GET", "/api/v1/agent/waiting"))["waiting"]
    general = next(q for q in waiting if q["queue"] == "general")
    assert general["manual"] is True
    [entry] = general["entries"]
    assert entry["conversation_id"] == cid
    assert entry["pickable"] is True
    assert entry["channel"] == "rest"
    picked = await agent.json("POST", f"/api/v1/agent/waiting/{cid}/pick")
    assert picked["conversation"]["agent"] == "agent1"


async def test_an_automatic_queue_cannot_be_picked(make_hub: MakeHub):
    hub = await make_hub(general={"auto_accept": False, "offer_timeout_s": 60})
    await hub.staff("agent2", ready=True)
    cid = (await hub.customer("u9", "转人工"))["conversation_id"]
    agent = await hub.staff("agent1", ready=True)
    resp = await agent.post(f"/api/v1/agent/waiting/{cid}/pick")
    assert resp.status == 409


async def test_transfer_to_a_queue_leaves_a_note(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u10", "转人工"))["conversation_id"]
    moved = await agent.json(
        "POST", conv_path(cid, "/transfer"), {"queue": "transport", "note": "公交线路问题"}
    )
    assert moved["conversation"]["queue"] == "transport"
    assert moved["conversation"]["state"] == "queued"
    other = await hub.staff("agent2", ready=True)
    messages = (await other.json("GET", conv_path(cid)))["messages"]
    assert "转接备注：公交线路问题" in [m["text"] for m in messages if m["internal"]]


async def test_transfer_needs_exactly_one_target(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u11", "转人工"))["conversation_id"]
    resp = await agent.post(conv_path(cid, "/transfer"), {"note": "?"})
    assert resp.status == 400
    resp = await agent.post(conv_path(cid, "/transfer"), {"queue": "nope"})
    assert resp.status == 400
    assert (await resp.json())["reason"] == "没有这个队列"


async def test_transfer_to_an_agent_and_invite_an_expert(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u12", "转人工"))["conversation_id"]
    expert = await hub.staff("agent2", ready=True)
    invited = await agent.json("POST", conv_path(cid, "/invite"), {"expert": "agent2"})
    assert invited["conversation"]["participants"] == ["agent2"]
    assert [c["id"] for c in (await expert.json("GET", INBOX))["conversations"]] == [cid]
    moved = await agent.json(
        "POST", conv_path(cid, "/transfer"), {"agent": "agent2", "note": "请跟进"}
    )
    assert moved["conversation"]["agent"] == "agent2"


async def test_close_needs_a_known_wrap_up_code(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u13", "转人工"))["conversation_id"]
    bad = await agent.post(conv_path(cid, "/close"), {"wrap_up_code": "whatever"})
    assert bad.status == 400
    await agent.json("POST", conv_path(cid, "/end"))
    closed = await agent.json("POST", conv_path(cid, "/close"), {"wrap_up_code": "resolved"})
    assert closed["conversation"]["state"] == "closed"
    assert closed["conversation"]["wrap_up_code"] == "resolved"
    assert "本次服务已结束，感谢您的咨询。" in await hub.customer_inbox("u13")


async def test_hand_back_returns_the_customer_to_the_bot(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u14", "转人工"))["conversation_id"]
    back = await agent.json("POST", conv_path(cid, "/hand-back"))
    assert back["conversation"]["state"] == "bot"
    assert (await agent.json("GET", INBOX))["conversations"] == []


async def test_the_directory_lists_transfer_targets_and_wrap_up_codes(hub: Hub):
    agent = await hub.staff("agent1")
    directory = await agent.json("GET", "/api/v1/agent/directory")
    logins = [a["login"] for a in directory["agents"]]
    assert "agent2" in logins
    assert "water1" not in logins
    general = next(q for q in directory["queues"] if q["name"] == "general")
    assert general | {"reply_timeout_s": None} == {
        "name": "general",
        "title": "综合咨询",
        "manual": False,
        "reply_timeout_s": None,
    }
    assert "resolved" in directory["wrap_up_codes"]


async def test_help_request_raises_a_supervisor_alert(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("u15", "转人工"))["conversation_id"]
    seen = []
    subscription = hub.app[EVENTS].subscribe(lambda e: seen.append(e) or False)
    await agent.json("POST", conv_path(cid, "/help"), {"text": "客户要求赔偿"})
    subscription.close()
    [alert] = [e for e in seen if type(e).__name__ == "SupervisorAlert"]
    assert alert.kind == "help_requested"
    assert alert.agent == "agent1"
    assert alert.text == "话务员李娜请求协助：客户要求赔偿"


async def test_an_unknown_conversation_is_404(hub: Hub):
    agent = await hub.staff("agent1")
    resp = await agent.get(conv_path("0123456789abcdef01234567"))
    assert resp.status == 404
    assert (await resp.json())["error"] == "ConversationNotFound"
