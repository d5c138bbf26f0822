"""Property tests of the ACD: capacity, single assignment, priority/FIFO order, liveness."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from routing.acd import Strategy
from routing.config import QueueConfig
from routing.conversation_model import Media
from routing.presence import AgentStatus
from tests.fakes.routing import AcdRig, make_rig

QUEUES = [
    QueueConfig(
        "general", "综合", Strategy.LEAST_RECENT, overflow_after_s=120, widen_skills=("water",)
    ),
    QueueConfig(
        "water", "供水", Strategy.ROUND_ROBIN, overflow_after_s=90, overflow_queue="general"
    ),
    QueueConfig("emergency", "紧急", Strategy.RING_ALL, auto_accept=False, offer_timeout_s=15),
    QueueConfig("complaint", "投诉", Strategy.FEWEST, auto_accept=False, offer_timeout_s=20),
]
SKILLS = st.dictionaries(st.sampled_from([q.name for q in QUEUES]), st.integers(1, 10), min_size=1)


def run(coro):  # the state machine is synchronous; each rule runs one coroutine to completion
    return asyncio.run(coro)


class AcdMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rig: AcdRig = make_rig(QUEUES, disconnect_grace_s=30, wrap_up_s=20)
        self.n_conv = 0
        self.n_agents = 0
        self.ever_assigned: set[str] = set()
        self.closed: set[str] = set()

    @rule(skills=SKILLS, max_chats=st.integers(1, 4))
    def add_agent(self, skills: dict[str, int], max_chats: int) -> None:
        self.n_agents += 1
        run(self.rig.agent(f"a{self.n_agents}", skills, max_chats))

    @rule(
        queue=st.sampled_from([q.name for q in QUEUES]),
        priority=st.sampled_from([0, 50, 1000]),
        voice=st.booleans(),
    )
    def arrive(self, queue: str, priority: int, voice: bool) -> None:
        self.n_conv += 1
        media = Media.VOICE if voice else Media.CHAT
        run(self.rig.wait(f"c{self.n_conv}", queue, priority, media))

    @precondition(lambda self: self.n_agents > 0)
    @rule(data=st.data())
    def finish_one(self, data: st.DataObject) -> None:
        serving = [
            (s.login, c) for s in self.rig.acd.presence.seats.values() for c in s.chats | s.calls
        ]
        if serving:
            login, cid = data.draw(st.sampled_from(sorted(serving)))
            self.closed.add(cid)
            run(self.rig.acd.release(login, cid))

    @precondition(lambda self: self.n_agents > 0)
    @rule(data=st.data(), status=st.sampled_from(list(AgentStatus)))
    def change_status(self, data: st.DataObject, status: AgentStatus) -> None:
        login = f"a{data.draw(st.integers(1, self.n_agents))}"
        if status is AgentStatus.OFFLINE:
            return  # signing out is modelled by disconnect + grace
        run(self.rig.acd.set_status(login, status))

    @precondition(lambda self: self.n_agents > 0)
    @rule(data=st.data(), back=st.booleans())
    def connection(self, data: st.DataObject, back: bool) -> None:
        login = f"a{data.draw(st.integers(1, self.n_agents))}"
        seat = self.rig.acd.presence.seat(login)
        assert seat is not None
        if back:
            run(self.rig.acd.connection_restored(login))
        elif seat.connected:
            run(self.rig.acd.connection_lost(login))

    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        offers = sorted(
            (cid, login) for cid, o in self.rig.acd.offers.open().items() for login in o.agents
        )
        if offers:
            cid, login = data.draw(st.sampled_from(offers))
            run(self.rig.acd.accept(login, cid) if accept else self.rig.acd.decline(login, cid))

    @rule(seconds=st.sampled_from([1, 5, 16, 25, 31, 95, 125]))
    def time_passes(self, seconds: int) -> None:
        run(self.rig.advance(seconds))

    @invariant()
    def no_agent_above_capacity(self) -> None:
        for seat in self.rig.acd.presence.seats.values():
            offered_calls = [c for c, m in seat.offers.items() if m is Media.VOICE]
            if seat.calls or offered_calls:
                assert len(seat.calls) + len(offered_calls) <= 1
                assert not seat.chats
            else:
                assert len(seat.chats) + len(seat.offers) <= seat.max_chats

    @invariant()
    def each_conversation_is_in_one_place(self) -> None:
        places: dict[str, str] = {}
        for seat in self.rig.acd.presence.seats.values():
            for cid in seat.chats | seat.calls:
                assert cid not in places, f"{cid} served twice"
                places[cid] = seat.login
        for name, queue in self.rig.acd.queues.items():
            for entry in queue:
                assert entry.conversation_id not in places, (
                    f"{entry.conversation_id} queued and served"
                )
                places[entry.conversation_id] = name
        for cid in self.rig.acd.offers.open():
            assert cid not in places, f"{cid} offered and queued/served"
        # the assignment log agrees: one owner per conversation, and it is the serving agent
        for cid, login in places.items():
            if not login.startswith("a"):
                continue
            assert self.rig.record.owners.get(cid) == login

    @invariant()
    def nothing_waits_while_an_eligible_agent_is_free(self) -> None:
        by_queue = {q.name: q for q in QUEUES}
        for name, queue in self.rig.acd.queues.items():
            for entry in queue:
                if entry.excluded or entry.skills:
                    continue
                for seat in self.rig.acd.presence.with_skill(name):
                    free = seat.connected and seat.can_take(entry.media)
                    blocked_by_call = any(
                        e.media is Media.VOICE and not e.excluded
                        for q in self.rig.acd.queues.values()
                        for e in q
                        if any(e.accepts_skill(s) for s in seat.skills)
                    )
                    assert (
                        not free or blocked_by_call or by_queue[name].strategy is Strategy.MANUAL
                    ), f"{entry.conversation_id} waits while {seat.login} is free"

    def teardown(self) -> None:
        """Liveness: with every agent back and ready, everything waiting gets served."""

        async def drain() -> None:
            acd = self.rig.acd
            for login in list(acd.presence.seats):
                await acd.connection_restored(login)
                await acd.set_status(login, AgentStatus.READY)
            for _ in range(2000):
                waiting = sum(len(q) for q in acd.queues.values()) + len(acd.offers.open())
                if not waiting:
                    break
                for cid, offer in list(acd.offers.open().items()):
                    await acd.accept(sorted(offer.agents)[0], cid)
                for seat in list(acd.presence.seats.values()):
                    for cid in sorted(seat.chats | seat.calls):
                        await acd.release(seat.login, cid)
                    if seat.status is not AgentStatus.READY:  # autopaused, wrap-up …
                        await acd.set_status(seat.login, AgentStatus.READY)
                await self.rig.advance(5)
            skills = {skill for seat in acd.presence.seats.values() for skill in seat.skills}
            leftover = [
                e.conversation_id
                for q in acd.queues.values()
                for e in q
                if any(e.accepts_skill(skill) for skill in skills)  # capacity exists for it
            ]
            assert not leftover, f"never served: {leftover}"
            assert not acd.offers.open()

        run(drain())


AcdMachine.TestCase.settings = settings(
    max_examples=int(__import__("os").environ.get("ACD_EXAMPLES", "60")),
    stateful_step_count=40,
    deadline=None,
)
TestAcdProperties = AcdMachine.TestCase


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 50, 1000]), st.integers(0, 600)), min_size=1, max_size=30
    )
)
def test_one_agent_serves_in_priority_then_fifo_order(arrivals: list[tuple[int, int]]):
    """With one single-chat agent, each conversation served is the head of the queue then."""

    async def scenario() -> None:
        rig = make_rig([QueueConfig("general", "综合")])
        await rig.agent("a1", {"general": 5}, max_chats=1, status=AgentStatus.BUSY)
        start = rig.clock.now()
        for i, (priority, at) in sorted(enumerate(arrivals), key=lambda p: p[1][1]):
            rig.clock.set(start + timedelta(seconds=at))
            await rig.wait(f"c{i}", priority=priority)
        rig.clock.set(start + timedelta(seconds=700))
        queue = rig.acd.queues["general"]
        expected_next = queue.head(rig.clock.now())
        await rig.acd.set_status("a1", AgentStatus.READY)
        served = []
        while True:
            seat = rig.acd.presence.seat("a1")
            assert seat is not None
            current = next(iter(seat.chats), None)
            if current is None:
                break
            assert expected_next is not None
            assert current == expected_next.conversation_id
            served.append(current)
            await rig.advance(10)
            expected_next = queue.head(rig.clock.now())
            await rig.acd.release("a1", current)
        assert len(served) == len(arrivals)

    asyncio.run(scenario())
