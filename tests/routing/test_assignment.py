from collections import Counter

from routing.acd import Strategy
from routing.config import QueueConfig
from routing.conversation_model import Media
from routing.events import ConversationOffered, OfferWithdrawn
from routing.presence import AgentStatus
from tests.fakes.routing import make_rig


def q(
    name: str = "general", strategy: Strategy = Strategy.LEAST_RECENT, **kw: object
) -> QueueConfig:
    return QueueConfig(name, name, strategy, **kw)  # type: ignore[arg-type]


async def test_waiting_conversation_is_assigned_as_soon_as_an_agent_is_ready():
    rig = make_rig()
    await rig.wait("c1")
    assert rig.owner("c1") is None
    await rig.agent("a1", {"general": 5})
    assert rig.owner("c1") == "a1"


async def test_freed_capacity_is_used_at_once_without_a_sweep():
    rig = make_rig()
    await rig.agent("a1", {"general": 5}, max_chats=1)
    await rig.wait("c1")
    await rig.wait("c2")
    assert rig.owner("c2") is None
    await rig.acd.release("a1", "c1")
    assert rig.owner("c2") == "a1"


async def test_one_call_or_up_to_n_chats():
    rig = make_rig()
    await rig.agent("a1", {"general": 5}, max_chats=2)
    await rig.wait("chat1")
    await rig.wait("chat2")
    await rig.wait("call1", media=Media.VOICE)
    await rig.wait("chat3")
    seat = rig.acd.presence.seat("a1")
    assert seat is not None
    assert seat.chats == {"chat1", "chat2"}
    await rig.acd.release("a1", "chat1")
    # the call waited longer than chat3 and needs an agent with nothing open: a1 gets no new
    # chat until the call can be served
    assert seat.chats == {"chat2"}
    assert not seat.calls
    await rig.acd.release("a1", "chat2")
    assert seat.calls == {"call1"}
    assert rig.owner("chat3") is None
    await rig.acd.release("a1", "call1")
    await rig.advance(rig.acd.config.wrap_up_s + 1)  # voice wrap-up, then ready
    assert rig.owner("chat3") == "a1"


async def test_emergency_jumps_the_queue():
    rig = make_rig()
    await rig.wait("normal1")
    await rig.wait("normal2")
    await rig.wait("sos", priority=1000)
    await rig.agent("a1", {"general": 5}, max_chats=1)
    assert rig.owner("sos") == "a1"


async def test_least_recent_gives_work_to_the_longest_idle_agent():
    rig = make_rig()
    await rig.agent("a1", {"general": 5}, max_chats=1)
    await rig.advance(10)
    await rig.agent("a2", {"general": 5}, max_chats=1)
    await rig.wait("c1")
    assert rig.owner("c1") == "a1"
    await rig.advance(5)
    await rig.acd.release("a1", "c1")  # a1 is now the most recently busy
    await rig.wait("c2")
    assert rig.owner("c2") == "a2"


async def test_round_robin_remembers_where_it_stopped():
    rig = make_rig([q(strategy=Strategy.ROUND_ROBIN)])
    for login in ("a1", "a2", "a3"):
        await rig.agent(login, {"general": 5}, max_chats=10)
    for i in range(6):
        await rig.wait(f"c{i}")
    assert [rig.owner(f"c{i}") for i in range(6)] == ["a1", "a2", "a3", "a1", "a2", "a3"]


async def test_fewest_spreads_load():
    rig = make_rig([q(strategy=Strategy.FEWEST)])
    for login in ("a1", "a2", "a3"):
        await rig.agent(login, {"general": 5}, max_chats=10)
    for i in range(9):
        await rig.wait(f"c{i}")
    assert Counter(rig.record.owners.values()) == {"a1": 3, "a2": 3, "a3": 3}


async def test_higher_skill_level_is_preferred_while_free():
    rig = make_rig([q(strategy=Strategy.FEWEST)])
    await rig.agent("expert", {"general": 9}, max_chats=1)
    await rig.agent("novice", {"general": 3}, max_chats=1)
    await rig.wait("c1")
    await rig.wait("c2")
    assert rig.owner("c1") == "expert"
    assert rig.owner("c2") == "novice"


async def test_weighted_random_favours_low_penalty():
    rig = make_rig([q(strategy=Strategy.WEIGHTED_RANDOM)], seed=3)
    await rig.agent("strong", {"general": 10}, max_chats=10_000)  # penalty 0 → weight 1
    await rig.agent("weak", {"general": 1}, max_chats=10_000)  # penalty 9 → weight 0.1
    for i in range(300):
        await rig.wait(f"c{i}")
    counts = Counter(rig.record.owners.values())
    assert counts["strong"] > 5 * counts["weak"] > 0


async def test_ring_all_offers_everyone_and_the_first_to_accept_wins():
    rig = make_rig([q(strategy=Strategy.RING_ALL, auto_accept=False)])
    await rig.agent("a1", {"general": 5})
    await rig.agent("a2", {"general": 5})
    await rig.wait("call", media=Media.VOICE)
    offer = next(e for e in rig.events if isinstance(e, ConversationOffered))
    assert offer.agents == ("a1", "a2")
    assert await rig.acd.accept("a2", "call")
    assert not await rig.acd.accept("a1", "call")
    assert rig.owner("call") == "a2"
    withdrawn = [e for e in rig.events if isinstance(e, OfferWithdrawn)]
    assert withdrawn[-1].agents == ("a1",)
    assert withdrawn[-1].reason == "accepted_by_other"


async def test_missed_offer_goes_to_the_next_agent_and_is_counted():
    rig = make_rig([q(auto_accept=False, offer_timeout_s=20)])
    await rig.agent("a1", {"general": 5})
    await rig.advance(1)
    await rig.agent("a2", {"general": 5})
    await rig.wait("c1")
    assert rig.acd.offers.open()["c1"].agents == {"a1"}
    await rig.advance(21)
    assert rig.acd.offers.open()["c1"].agents == {"a2"}
    seat = rig.acd.presence.seat("a1")
    assert seat is not None
    assert seat.missed_offers == 1
    assert await rig.acd.accept("a2", "c1")


async def test_agent_missing_offers_in_a_row_is_paused():
    rig = make_rig([q(auto_accept=False, offer_timeout_s=20)], autopause_after_missed=2)
    await rig.agent("a1", {"general": 5})
    await rig.wait("c1")
    await rig.advance(21)
    await rig.advance(21)  # re-offered to a1 (nobody else), missed again
    seat = rig.acd.presence.seat("a1")
    assert seat is not None
    assert seat.status is AgentStatus.AWAY
    assert rig.owner("c1") is None
    assert len(rig.acd.queues["general"]) == 1


async def test_manual_queue_waits_for_a_pick():
    rig = make_rig([q(strategy=Strategy.MANUAL)])
    await rig.agent("a1", {"general": 5})
    await rig.wait("c1")
    assert rig.owner("c1") is None
    assert await rig.acd.pick("a1", "c1")
    assert rig.owner("c1") == "a1"
    assert not await rig.acd.pick("a1", "c1")


async def test_disconnected_agent_loses_conversations_after_grace_to_the_head_of_queue():
    rig = make_rig(disconnect_grace_s=30)
    await rig.agent("a1", {"general": 5}, max_chats=1)
    await rig.wait("c1")
    await rig.agent("busy", {"general": 5}, max_chats=0)
    await rig.wait("c2")
    await rig.acd.connection_lost("a1")
    await rig.advance(29)
    assert rig.owner("c1") == "a1"
    await rig.advance(2)
    assert rig.owner("c1") is None
    assert ("c1", "disconnected") in rig.record.requeues
    assert [e.conversation_id for e in rig.acd.queues["general"].ordered(rig.clock.now())] == [
        "c1",
        "c2",
    ]


async def test_reconnecting_within_grace_keeps_conversations():
    rig = make_rig(disconnect_grace_s=30)
    await rig.agent("a1", {"general": 5})
    await rig.wait("c1")
    await rig.acd.connection_lost("a1")
    await rig.advance(10)
    await rig.acd.connection_restored("a1")
    await rig.advance(60)
    assert rig.owner("c1") == "a1"


async def test_overflow_moves_to_another_queue():
    rig = make_rig([q("water", overflow_after_s=60, overflow_queue="general"), q("general")])
    await rig.agent("generalist", {"general": 5})
    await rig.wait("c1", queue="water")
    await rig.advance(59)
    assert rig.owner("c1") is None
    await rig.advance(2)
    assert rig.owner("c1") == "generalist"


async def test_overflow_widens_skills():
    rig = make_rig([q("emergency", overflow_after_s=30, widen_skills=("general",)), q("general")])
    await rig.agent("generalist", {"general": 5})
    await rig.wait("sos", queue="emergency", priority=1000)
    assert rig.owner("sos") is None
    await rig.advance(31)
    assert rig.owner("sos") == "generalist"


async def test_position_and_wait_estimate():
    rig = make_rig(default_handle_time_s=120)
    await rig.agent("a1", {"general": 5}, max_chats=1, status=AgentStatus.BUSY)
    for i in range(3):
        await rig.wait(f"c{i}")
    assert rig.acd.position("c0") == (1, 120)
    assert rig.acd.position("c2") == (3, 360)
    await rig.agent("a2", {"general": 5}, max_chats=2, status=AgentStatus.BUSY)
    assert rig.acd.position("c2") == (3, 120)


async def test_busy_and_away_agents_get_nothing_new():
    rig = make_rig()
    await rig.agent("a1", {"general": 5}, status=AgentStatus.BUSY)
    await rig.wait("c1")
    assert rig.owner("c1") is None
    await rig.acd.set_status("a1", AgentStatus.READY)
    assert rig.owner("c1") == "a1"


async def test_voice_wrap_up_then_ready_again():
    rig = make_rig(wrap_up_s=30)
    await rig.agent("a1", {"general": 5})
    await rig.wait("call1", media=Media.VOICE)
    await rig.acd.release("a1", "call1")
    await rig.wait("call2", media=Media.VOICE)
    seat = rig.acd.presence.seat("a1")
    assert seat is not None
    assert seat.status is AgentStatus.WRAP_UP
    assert rig.owner("call2") is None
    await rig.advance(31)
    assert rig.owner("call2") == "a1"


async def test_lost_assignment_race_releases_the_reservation():
    rig = make_rig()
    rig.record.gone.add("c1")  # e.g. the customer closed it meanwhile
    await rig.agent("a1", {"general": 5}, max_chats=1)
    await rig.wait("c1")
    await rig.wait("c2")
    seat = rig.acd.presence.seat("a1")
    assert seat is not None
    assert rig.owner("c1") is None
    assert seat.offers == {}
    assert rig.owner("c2") == "a1"
