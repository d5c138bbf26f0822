from agent_web.kb_panel import fragment_segments
from agent_web.keys import KB_SEARCH
from tests.agent_web.conftest import FakeKb, Hub, MakeHub

CANNED = "/api/v1/agent/canned"


async def test_personal_replies_are_private_and_shared_ones_visible_to_all(hub: Hub):
    agent = await hub.staff("agent1")
    supervisor = await hub.staff("super")
    await agent.json(
        "POST", CANNED, {"shortcut": "hi", "title": "问候", "text": "您好，请讲"}, status=201
    )
    await supervisor.json(
        "POST", CANNED, {"shortcut": "bye", "text": "感谢来电，再见", "shared": True}, status=201
    )
    other = await hub.staff("agent2")
    mine = {r["shortcut"]: r for r in (await agent.json("GET", CANNED))["replies"]}
    theirs = {r["shortcut"] for r in (await other.json("GET", CANNED))["replies"]}
    assert set(mine) == {"hi", "bye"}
    assert mine["hi"]["editable"] is True
    assert mine["bye"]["editable"] is False
    assert mine["bye"]["title"] == "bye"
    assert theirs == {"bye"}


async def test_an_agent_cannot_create_or_edit_shared_replies(hub: Hub):
    agent = await hub.staff("agent1")
    resp = await agent.post(CANNED, {"shortcut": "x", "text": "共享", "shared": True})
    assert resp.status == 403
    supervisor = await hub.staff("super")
    shared = (
        await supervisor.json(
            "POST", CANNED, {"shortcut": "s", "text": "共享", "shared": True}, status=201
        )
    )["reply"]
    edit = await agent.put(f"{CANNED}/{shared['id']}", {"shortcut": "s", "text": "改了"})
    assert edit.status == 403
    assert (await agent.delete(f"{CANNED}/{shared['id']}")).status == 403


async def test_someone_elses_personal_reply_is_not_found(hub: Hub):
    agent = await hub.staff("agent1")
    reply = (await agent.json("POST", CANNED, {"shortcut": "mine", "text": "私有"}, status=201))[
        "reply"
    ]
    other = await hub.staff("agent2")
    resp = await other.put(f"{CANNED}/{reply['id']}", {"shortcut": "mine", "text": "抢"})
    assert resp.status == 404


async def test_edit_and_delete_my_reply(hub: Hub):
    agent = await hub.staff("agent1")
    reply = (await agent.json("POST", CANNED, {"shortcut": "addr", "text": "地址？"}, status=201))[
        "reply"
    ]
    changed = await agent.json(
        "PUT", f"{CANNED}/{reply['id']}", {"shortcut": "/addr2", "text": "请告诉我详细地址"}
    )
    assert changed["reply"]["shortcut"] == "addr2"
    await agent.json("DELETE", f"{CANNED}/{reply['id']}")
    assert (await agent.json("GET", CANNED))["replies"] == []


async def test_a_taken_shortcut_is_409_and_a_bad_one_400(hub: Hub):
    agent = await hub.staff("agent1")
    await agent.json("POST", CANNED, {"shortcut": "dup", "text": "一"}, status=201)
    again = await agent.post(CANNED, {"shortcut": "dup", "text": "二"})
    assert again.status == 409
    assert (await again.json())["reason"] == "shortcut /dup is already used"
    bad = await agent.post(CANNED, {"shortcut": "has space", "text": "三"})
    assert bad.status == 400


# ---------------------------------------------------------------- the KB panel


async def test_the_kb_panel_says_when_no_kb_is_loaded(hub: Hub):
    agent = await hub.staff("agent1")
    body = await agent.json("GET", "/api/v1/agent/kb/search?q=医保")
    assert body == {"available": False, "hits": []}


async def test_kb_hits_come_as_text_runs_with_marks(make_hub: MakeHub):
    hub = await make_hub(setup=lambda app: app.__setitem__(KB_SEARCH, FakeKb()))
    agent = await hub.staff("agent1")
    body = await agent.json("GET", "/api/v1/agent/kb/search?q=yibao")
    [hit] = body["hits"]
    assert hit["article_id"] == "kb-0001"
    assert hit["match"] == "exact"
    assert hit["fragments"] == [
        [
            {"text": "新生儿", "mark": False},
            {"text": "医保", "mark": True},
            {"text": "怎么办理<img src=x onerror=alert(1)>", "mark": False},
        ]
    ]


async def test_kb_search_needs_a_query(hub: Hub):
    agent = await hub.staff("agent1")
    assert (await agent.get("/api/v1/agent/kb/search")).status == 400


def test_only_mark_survives_as_markup_in_a_fragment():
    runs = fragment_segments("<b>x</b><mark><script>y</script></mark>&amp;")
    assert runs == [
        {"text": "<b>x</b>", "mark": False},
        {"text": "<script>y</script>", "mark": True},
        {"text": "&", "mark": False},
    ]


class AsyncKb(FakeKb):
    async def search(self, text: str, limit: int = 10) -> list:  # type: ignore[override]
        return super().search(text, limit)


async def test_an_async_kb_works_too(make_hub: MakeHub):
    hub = await make_hub(setup=lambda app: app.__setitem__(KB_SEARCH, AsyncKb()))
    agent = await hub.staff("agent1")
    body = await agent.json("GET", "/api/v1/agent/kb/search?q=医保")
    assert [h["article_id"] for h in body["hits"]] == ["kb-0001"]
