"""The case draft an agent sees takes what the bot gathered over the whole conversation, not
the last turn's intent."""

from __future__ import annotations

from tests.agent_web.conftest import Hub


async def test_the_draft_keeps_the_complaint_and_the_phone_given_turns_earlier(hub: Hub):
    agent = await hub.staff("super", ready=True)  # serves the complaint queue
    await hub.customer("draft-1", "我要投诉 物业不作为")
    await hub.customer("draft-1", "13812345678")
    last = await hub.customer("draft-1", "你好")  # the last turn is small talk
    await hub.customer("draft-1", "转人工")
    cid = last["conversation_id"]
    draft = (await agent.json("GET", f"/api/v1/agent/conversations/{cid}/case-draft"))["draft"]
    assert draft["type"] == "complaint"
    assert draft["contact_phone"] in ("13812345678", "+8613812345678")
