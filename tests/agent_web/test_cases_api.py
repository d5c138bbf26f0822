from agent_web.keys import CASES
from tests.agent_web.conftest import Hub


def path(cid: str, tail: str) -> str:
    return f"/api/v1/agent/conversations/{cid}/{tail}"


async def test_the_case_draft_is_prefilled_from_the_entities(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    await hub.customer("k1", "报修 厨房下水道堵了")
    cid = (await hub.customer("k1", "转人工"))["conversation_id"]
    draft = (await agent.json("GET", path(cid, "case-draft")))["draft"]
    assert draft["type"] == "repair"
    assert draft["contact_phone"] == "13812345678"
    assert draft["address"] == "青山湖区阳光花园3栋2单元501"
    assert draft["service_type"] == "管道疏通"
    assert draft["title"] == "管道疏通：报修 厨房下水道堵了"
    assert draft["description"] == "报修 厨房下水道堵了\n转人工"


async def test_the_taxonomy_has_four_levels(hub: Hub):
    agent = await hub.staff("agent1")
    categories = (await agent.json("GET", "/api/v1/agent/taxonomy"))["categories"]
    assert {c["level"] for c in categories} == {1, 2, 3, 4}
    lamp = next(c for c in categories if c["code"] == "01010101")
    assert lamp == {"code": "01010101", "name": "路灯不亮", "parent": "010101", "level": 4}


async def test_a_case_is_filed_from_the_conversation_with_a_category_path(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("k2", "转人工"))["conversation_id"]
    body = {
        "type": "repair",
        "title": "路灯不亮",
        "description": "小区门口路灯三天不亮",
        "category": ["01", "0101", "010101", "01010101"],
        "contact_phone": "138 1234 5678",
        "address": "阳光花园北门",
    }
    case = (await agent.json("POST", path(cid, "cases"), body, status=201))["case"]
    assert case["type"] == "repair"
    assert case["state"] == "accepted"  # 受理 at once (issue 17): the citizen's notice fires
    assert case["category_label"] == "城乡建设 / 市政设施 / 路灯照明 / 路灯不亮"
    assert case["conversation_id"] == cid
    stored = await hub.app[CASES].get(case["number"])
    assert stored.contact_phone == "+8613812345678"
    assert stored.channel == "rest"
    messages = (await agent.json("GET", f"/api/v1/agent/conversations/{cid}"))["messages"]
    assert f"已创建工单 {case['number']}" in [m["text"] for m in messages if m["internal"]]


async def test_a_broken_category_path_is_400(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("k3", "转人工"))["conversation_id"]
    body = {"type": "consult", "title": "问询", "category": ["01", "0201"]}
    resp = await agent.post(path(cid, "cases"), body)
    assert resp.status == 400
    assert (await resp.json())["reason"] == "category 0201 is not under 01"


async def test_a_case_type_outside_the_list_is_400(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("k4", "转人工"))["conversation_id"]
    resp = await agent.post(path(cid, "cases"), {"type": "todo", "title": "提醒"})
    assert resp.status == 400


async def test_an_emergency_case_needs_a_phone(hub: Hub):
    agent = await hub.staff("agent1", ready=True)
    cid = (await hub.customer("k5", "转人工"))["conversation_id"]
    resp = await agent.post(path(cid, "cases"), {"type": "emergency", "title": "老人摔倒"})
    assert resp.status == 400
    assert "联系电话" in (await resp.json())["reason"]
