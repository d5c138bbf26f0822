from tests.agent_web.conftest import Hub

BOARD = "/api/v1/supervisor/board"


async def test_the_board_shows_waiting_customers_and_agents(hub: Hub):
    supervisor = await hub.staff("super")
    await hub.customer("s1", "转人工")  # nobody is ready: it waits
    board = await supervisor.json("GET", BOARD)
    general = next(q for q in board["queues"] if q["queue"] == "general")
    assert general["title"] == "综合咨询"
    assert general["waiting"] == 1
    assert general["longest_wait_s"] >= 0
    assert general["service_level"] is None
    agents = {a["login"]: a for a in board["agents"]}
    assert set(agents) == {"agent1", "agent2", "super"}
    assert agents["agent1"]["status"] == "offline"
    assert agents["agent1"]["max_chats"] == 4


async def test_the_board_counts_answers_within_service_level(hub: Hub):
    supervisor = await hub.staff("super")
    await hub.staff("agent1", ready=True)
    await hub.customer("s2", "转人工")
    board = await supervisor.json("GET", BOARD)
    general = next(q for q in board["queues"] if q["queue"] == "general")
    assert general["answered"] == 1
    assert general["service_level"] == 1.0
    agent1 = next(a for a in board["agents"] if a["login"] == "agent1")
    assert agent1["load"] == 1
    assert agent1["status"] == "ready"


async def test_a_whisper_reaches_the_agent_but_not_the_customer(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("s3", "转人工"))["conversation_id"]
    supervisor = await hub.staff("super")
    listed = (await supervisor.json("GET", "/api/v1/supervisor/conversations"))["conversations"]
    assert [c["id"] for c in listed] == [cid]
    await supervisor.json(
        "POST",
        f"/api/v1/supervisor/conversations/{cid}/whisper",
        {"text": "先安抚情绪"},
        status=201,
    )
    messages = (await agent.json("GET", f"/api/v1/agent/conversations/{cid}"))["messages"]
    whisper = next(m for m in messages if m["text"] == "先安抚情绪")
    assert whisper["internal"] is True
    assert whisper["sender_id"] == "super"
    assert "先安抚情绪" not in await hub.customer_inbox("s3")


async def test_a_supervisor_takes_over_a_conversation(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("s4", "转人工"))["conversation_id"]
    supervisor = await hub.staff("super")
    taken = await supervisor.json("POST", f"/api/v1/supervisor/conversations/{cid}/take-over")
    assert taken["conversation"]["agent"] == "super"
    assert (await agent.json("GET", "/api/v1/agent/inbox"))["conversations"] == []
    await supervisor.json(
        "POST",
        f"/api/v1/agent/conversations/{cid}/messages",
        {"text": "我是值班长", "client_id": "t1"},
        status=201,
    )
    assert "我是值班长" in await hub.customer_inbox("s4")
