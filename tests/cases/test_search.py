"""Worklists, search and the wallboard on the real database (the repository's filters)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cases.desk import CaseDesk
from cases.model import CaseState, CaseType, NewCase
from cases.search import CaseQuery, Worklist
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from cases.workflow import CaseAction, CaseCommand
from hub.settings import DATA_DIR
from mongo.cases import MongoCaseRepository
from mongo.client import Database
from primitives.clock import FixedClock

TAXONOMY = Taxonomy(load_taxonomy_file(Path(DATA_DIR / "taxonomy.yaml")))
WATER = ("02", "0201", "020101", "02010101")
NOISE = ("07", "0701", "070101", "07010101")
A = CaseAction


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))


@pytest.fixture
def repo(db: Database) -> MongoCaseRepository:
    return MongoCaseRepository(db)


@pytest.fixture
def desk(repo: MongoCaseRepository, clock: FixedClock) -> CaseDesk:
    return CaseDesk(repo, lambda: TAXONOMY, DuePolicy(), clock)


def report(title: str, category: tuple[str, ...] = WATER, **kw: object) -> NewCase:
    fields: dict[str, object] = {"type": CaseType.COMPLAINT, "title": title, "category": category}
    fields.update(kw)
    return NewCase(**fields)  # type: ignore[arg-type]


async def _dispatch(desk: CaseDesk, number: str, department: str, **kw: object) -> None:
    await desk.act(number, CaseCommand(A.ACCEPT, actor="agent1"))
    await desk.act(number, CaseCommand(A.DISPATCH, actor="agent1", department=department, **kw))  # type: ignore[arg-type]


async def test_worklists_and_search_fields(
    desk: CaseDesk, repo: MongoCaseRepository, clock: FixedClock
):
    water = await desk.open(
        report("停水三天", contact_phone="13800000001", address="青山湖区北京东路88号"),
        actor="agent1",
    )
    noise = await desk.open(
        report(
            "夜间施工噪声", NOISE, address="红谷滩区丰和中大道1号", description="每晚十点后施工"
        ),
        actor="agent2",
    )
    fresh = await desk.open(report("水压低"), actor="agent2")
    await _dispatch(desk, water.number, "water", assisting=("chengguan",))
    await _dispatch(desk, noise.number, "eco")
    now = clock.now()

    async def numbers(**kw: object) -> list[str]:
        page = await repo.search(CaseQuery(**kw), clock.now())  # type: ignore[arg-type]
        return [c.number for c in page.cases]

    assert await numbers(worklist=Worklist.TO_ACCEPT) == [fresh.number]
    assert await numbers(worklist=Worklist.MINE, actor="agent1") == [water.number]
    assert await numbers(worklist=Worklist.DEPARTMENT, department="water") == [water.number]
    assert await numbers(worklist=Worklist.DEPARTMENT, department="chengguan") == [water.number]
    assert await numbers(phone="+8613800000001") == [water.number]
    assert await numbers(address="北京东路") == [water.number]
    assert await numbers(text="十点") == [noise.number]
    assert await numbers(category="0701") == [noise.number]
    assert await numbers(state=CaseState.NEW) == [fresh.number]
    assert await numbers(worklist=Worklist.TO_ACCEPT, state=CaseState.DISPATCHED) == []
    assert await numbers(text="(") == []  # a regex metacharacter is searched as text
    assert sorted(await numbers(created_from=now - timedelta(hours=1))) == sorted(
        [water.number, noise.number, fresh.number]
    )
    assert await numbers(created_to=now - timedelta(hours=1)) == []

    clock.advance(minutes=31)
    assert sorted(await numbers(worklist=Worklist.SIGN_OFF_LATE)) == sorted(
        [water.number, noise.number]
    )
    await desk.act(water.number, CaseCommand(A.CONFIRM, actor="water1"))
    assert await numbers(worklist=Worklist.SIGN_OFF_LATE) == [noise.number]


async def test_most_urgent_first_with_paging_and_the_wallboard(
    desk: CaseDesk, repo: MongoCaseRepository, clock: FixedClock
):
    opened = [await desk.open(report(f"工单{i}"), actor="agent1") for i in range(5)]
    for i, case in enumerate(opened):
        await _dispatch(desk, case.number, "water", due_days=5 - i)  # the last is due first
    await desk.act(opened[2].number, CaseCommand(A.SUPERVISE, actor="supervisor", comment="加快"))
    clock.advance(days=3, minutes=1)  # Friday: cases due in ≤ 3 working days are overdue
    page = await repo.search(
        CaseQuery(worklist=Worklist.DEPARTMENT, department="water", per_page=2), clock.now()
    )
    assert page.total == 5
    assert [c.number for c in page.cases] == [opened[2].number, opened[4].number]
    second = await repo.search(
        CaseQuery(worklist=Worklist.DEPARTMENT, department="water", per_page=2, page=2), clock.now()
    )
    assert [c.number for c in second.cases] == [opened[3].number, opened[1].number]
    overdue = await repo.search(CaseQuery(worklist=Worklist.OVERDUE), clock.now())
    assert {c.number for c in overdue.cases} == {
        opened[2].number,
        opened[3].number,
        opened[4].number,
    }
    board = await repo.wallboard(clock.now(), clock.now() + timedelta(hours=12))
    assert (board.open, board.overdue, board.sign_off_late) == (5, 3, 5)


async def test_similar_open_cases_by_phone_or_address_in_the_same_category(
    desk: CaseDesk, repo: MongoCaseRepository, clock: FixedClock
):
    first = await desk.open(
        report("停水", contact_phone="13800000001", address="北京东路88号"), actor="agent1"
    )
    await desk.open(report("噪声", NOISE, contact_phone="13800000001"), actor="agent1")
    since = clock.now() - timedelta(days=30)
    by_address = await repo.similar_open(
        phone=None, address="北京东路88号", category="0201", since=since
    )
    by_phone = await repo.similar_open(
        phone="+8613800000001", address="", category="0201", since=since
    )
    assert [c.number for c in by_address] == [first.number]
    assert [c.number for c in by_phone] == [first.number]
    assert await repo.similar_open(phone=None, address="", category="0201", since=since) == []


async def test_a_case_stored_with_its_event_list_is_migrated_and_found(
    db: Database, desk: CaseDesk, repo: MongoCaseRepository, clock: FixedClock
):
    """Cases stored before the trail moved out of the case document (and before case_text)."""
    from mongo.cases import case_document
    from mongo.indexes import ensure_indexes

    case = await desk.open(report("楼道灯坏了", address="洪都北大道9号"), actor="agent1")
    case = await desk.act(case.number, CaseCommand(A.ACCEPT, actor="agent1"))
    old = case_document(case)
    del old["last_event"], old["text_indexed"]
    old["events"] = [
        {
            "seq": e.seq,
            "action": e.action,
            "actor": e.actor,
            "at": e.at,
            "from": None,
            "to": e.to_state.value,
            "comment": "",
            "data": {},
        }
        for e in case.events
    ]
    await db["cases"].replace_one({"number": case.number}, old)
    await db["case_events"].delete_many({})
    await db["case_text"].delete_many({})

    await ensure_indexes(db)
    stored = await db["cases"].find_one({"number": case.number})
    assert stored is not None
    assert "events" not in stored
    assert stored["last_event"]["action"] == "accept"
    assert [e.action for e in (await repo.get(case.number)).events] == ["create", "accept"]
    found = await repo.search(CaseQuery(text="灯坏", address="洪都北大道"), clock.now())
    assert [c.number for c in found.cases] == [case.number]


async def test_a_crash_between_the_update_and_the_trail_copy_is_repaired_on_read(
    db: Database, desk: CaseDesk, repo: MongoCaseRepository
):
    case = await desk.open(report("停水"), actor="agent1")
    await desk.act(case.number, CaseCommand(A.ACCEPT, actor="agent1"))
    await db["case_events"].delete_one({"_id": f"{case.number}#00002"})  # the copy never made
    assert [e.action for e in (await repo.get(case.number)).events] == ["create", "accept"]
    assert [e.action for e in await repo.audit_trail(case.number)] == ["create", "accept"]
