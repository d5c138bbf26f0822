from agent_web.keys import CASE_DESK, CONVERSATIONS, CUSTOMERS, ROUTER
from cases.model import CaseType, NewCase
from tests.agent_web.conftest import Hub


def context_path(cid: str) -> str:
    return f"/api/v1/agent/conversations/{cid}/context"


async def test_the_screen_pop_shows_tags_history_cases_and_what_the_bot_understood(hub: Hub):
    first = await hub.customer("p1", "新生儿医保怎么办")
    customer_id = (await hub.app[CONVERSATIONS].get(first["conversation_id"])).customer_id
    await hub.app[CUSTOMERS].set_tags(customer_id, frozenset({"elderly", "vip"}))
    hub.app[ROUTER].forget_customer(customer_id)
    await hub.app[CASE_DESK].open(
        NewCase(CaseType.CONSULT, "医保咨询", customer_id=customer_id, category=("04",)), "agent2"
    )
    # an earlier conversation, closed long ago
    old = await hub.app[ROUTER].conversation(first["conversation_id"])
    from dataclasses import replace
    from datetime import timedelta

    from routing.conversation_model import ConversationState

    await hub.app[ROUTER].save_conversation(
        replace(
            old,
            state=ConversationState.CLOSED,
            closed_at=old.created_at - timedelta(days=3),
            updated_at=old.created_at - timedelta(days=3),
        )
    )
    await hub.customer("p1", "报修 下水道堵了")
    cid = (await hub.customer("p1", "转人工"))["conversation_id"]
    agent = await hub.staff("agent1", ready=True)  # offered the waiting conversation
    assert cid != first["conversation_id"]
    ctx = await agent.json("GET", context_path(cid))
    assert ctx["customer"]["tags"] == ["elderly", "vip"]
    assert ctx["customer"]["identities"] == [{"kind": "rest", "value": "p1"}]
    assert [c["id"] for c in ctx["conversations"]] == [first["conversation_id"]]
    [case] = ctx["cases"]
    assert case["title"] == "医保咨询"
    assert case["category_label"] == "社会保障"
    intents = [(t["text"], t["intent"]) for t in ctx["understood"]]
    assert ("报修 下水道堵了", "report_repair") in intents
    assert ("转人工", "ask_human") in intents
    assert ctx["entities"]["address"] == "阳光花园3栋2单元501"
    assert ctx["can_edit_tags"] is False
    # the earlier conversation of a customer I serve is readable too
    earlier = await agent.get(f"/api/v1/agent/conversations/{first['conversation_id']}")
    assert earlier.status == 200


async def test_phone_identities_are_masked_in_the_profile(hub: Hub):
    from routing.customers import Identity, IdentityKind

    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("p2", "转人工"))["conversation_id"]
    conv = await hub.app[CONVERSATIONS].get(cid)
    await hub.app[CUSTOMERS].add_identity(
        conv.customer_id, Identity(IdentityKind.PHONE, "+8613812345678")
    )
    ctx = await agent.json("GET", context_path(cid))
    assert {"kind": "phone", "value": "138****5678"} in ctx["customer"]["identities"]


async def test_a_supervisor_edits_tags_and_an_agent_cannot(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("p3", "转人工"))["conversation_id"]
    customer_id = (await agent.json("GET", context_path(cid)))["customer"]["id"]
    path = f"/api/v1/supervisor/customers/{customer_id}/tags"
    assert (await agent.put(path, {"tags": ["vip"]})).status == 403
    supervisor = await hub.staff("super")
    ctx = await supervisor.json("GET", context_path(cid))
    assert ctx["can_edit_tags"] is True
    done = await supervisor.json("PUT", path, {"tags": ["important", "blacklist"]})
    assert done["customer"]["tags"] == ["blacklist", "important"]
    bad = await supervisor.put(path, {"tags": ["rich"]})
    assert bad.status == 400
    # the router forgot its cached copy: the new tags apply from the next message on
    assert customer_id not in hub.app[ROUTER]._customer_cache
