import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.conversation_model import Media
from routing.waiting import QueueEntry, WaitingQueue

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def entry(cid: str, priority: int = 0, at: float = 0.0, media: Media = Media.CHAT) -> QueueEntry:
    return QueueEntry(cid, "general", priority, T0 + timedelta(seconds=at), media=media)


def test_fifo_within_a_priority_level():
    q = WaitingQueue("general")
    for i in range(5):
        q.add(entry(f"c{i}", at=i))
    assert [e.conversation_id for e in q.ordered(T0 + timedelta(seconds=10))] == [
        f"c{i}" for i in range(5)
    ]


def test_higher_priority_first_but_a_long_wait_beats_newer_vips():
    q = WaitingQueue("general", ageing_step_s=30)
    q.add(entry("normal", priority=0, at=0))
    q.add(entry("vip", priority=50, at=60))
    soon = T0 + timedelta(seconds=61)
    assert [e.conversation_id for e in q.ordered(soon)] == ["vip", "normal"]
    # normal gains a point per 30 s waited: after 25 min it outranks a VIP who just arrived
    q.add(entry("late_vip", priority=50, at=50 * 30 + 60))
    late = T0 + timedelta(seconds=50 * 30 + 61)
    assert [e.conversation_id for e in q.ordered(late)] == ["vip", "normal", "late_vip"]


def test_put_back_at_head_goes_before_everyone_of_its_level_and_keeps_that_order():
    q = WaitingQueue("general")
    q.add(entry("a", at=0))
    q.add(entry("b", at=1))
    back = q.add(entry("returned", at=100), at_head=True)
    assert back.queued_at < T0  # stored ordering key: sorts first after a restart too
    assert [e.conversation_id for e in q.ordered(T0 + timedelta(seconds=200))] == [
        "returned",
        "a",
        "b",
    ]


def test_position_counts_everyone_ahead():
    q = WaitingQueue("general")
    for i in range(3):
        q.add(entry(f"c{i}", at=i))
    q.add(entry("emergency", priority=1000, at=5))
    now = T0 + timedelta(seconds=6)
    assert q.position("emergency", now) == 1
    assert q.position("c0", now) == 2
    assert q.position("c2", now) == 4
    assert q.position("missing", now) == 0


def test_removed_entries_leave_no_gap():
    q = WaitingQueue("general")
    for i in range(3):
        q.add(entry(f"c{i}", at=i))
    q.remove("c1")
    assert q.position("c2", T0 + timedelta(seconds=5)) == 2
    assert len(q) == 2


entries = st.lists(
    st.tuples(st.sampled_from([0, 50, 1000]), st.integers(0, 3000), st.sampled_from(list(Media))),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(entries, st.integers(0, 5000))
def test_position_agrees_with_service_order(items: list[tuple[int, int, Media]], later: int):
    q = WaitingQueue("general", ageing_step_s=30)
    for i, (priority, at, media) in enumerate(items):
        q.add(entry(f"c{i}", priority, at, media))
    now = T0 + timedelta(seconds=3000 + later)
    order = [e.conversation_id for e in q.ordered(now)]
    assert sorted(order) == sorted(f"c{i}" for i in range(len(items)))
    for index, cid in enumerate(order):
        assert q.position(cid, now) == index + 1


@settings(max_examples=100, deadline=None)
@given(entries)
def test_same_priority_is_served_in_arrival_order(items: list[tuple[int, int, Media]]):
    q = WaitingQueue("general")
    for i, (priority, at, media) in enumerate(items):
        q.add(entry(f"c{i}", priority, at, media))
    order = list(q.ordered(T0 + timedelta(seconds=4000)))
    for a, b in itertools.pairwise(order):
        if a.priority == b.priority:
            assert a.sort_key() <= b.sort_key()
