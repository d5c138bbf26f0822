import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cases.desk import CaseDesk
from cases.errors import CaseNotFound, IllegalTransition, UnknownCategory
from cases.model import CaseState, CaseType, EmergencyContact, NewCase, Satisfaction
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from cases.workflow import CaseAction, CaseCommand
from hub.settings import DATA_DIR
from mongo.cases import MongoCaseRepository
from mongo.client import Database
from primitives.clock import FixedClock
from primitives.errors import InvalidInput, StaleWrite

TAXONOMY = Taxonomy(load_taxonomy_file(Path(DATA_DIR / "taxonomy.yaml")))
A = CaseAction


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # 09:30 in Beijing


@pytest.fixture
def desk(db: Database, clock: FixedClock) -> CaseDesk:
    return CaseDesk(MongoCaseRepository(db), lambda: TAXONOMY, DuePolicy(), clock)


def complaint(**kw: object) -> NewCase:
    fields: dict[str, object] = {
        "type": CaseType.COMPLAINT,
        "title": "夜间施工噪声扰民",
        "category": ("08", "0801", "080101", "08010101"),
        "contact_phone": "138 1234 5678",
    }
    fields.update(kw)
    return NewCase(**fields)  # type: ignore[arg-type]


async def test_200_concurrent_creations_get_200_distinct_numbers(desk: CaseDesk):
    cases = await asyncio.gather(*(desk.open(complaint(), actor="agent1") for _ in range(200)))
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == 200
    assert all(re.fullmatch(r"20261124-\d{6}", n) for n in numbers)
    assert sorted(numbers) == [f"20261124-{i:06d}" for i in range(1, 201)]


async def test_numbers_restart_each_local_day(desk: CaseDesk, clock: FixedClock):
    first = await desk.open(complaint(), actor="agent1")
    clock.advance(hours=15)  # 00:30 next day in Beijing, still the 24th in UTC
    second = await desk.open(complaint(), actor="agent1")
    assert first.number == "20261124-000001"
    assert second.number == "20261125-000001"


async def test_new_case_is_stored_with_due_date_and_creation_event(desk: CaseDesk, db: Database):
    case = await desk.open(complaint(), actor="agent1")
    stored = await MongoCaseRepository(db).get(case.number)
    assert stored.state is CaseState.NEW
    assert stored.contact_phone == "+8613812345678"
    assert stored.due_at > stored.created_at
    assert [(e.seq, e.action, e.actor) for e in stored.events] == [(1, "create", "agent1")]


async def test_full_workflow_leaves_a_complete_audit_trail(
    desk: CaseDesk, db: Database, clock: FixedClock
):
    case = await desk.open(complaint(), actor="agent1")
    steps = [
        CaseCommand(A.ACCEPT, "agent1", "来电受理"),
        CaseCommand(A.DISPATCH, "agent1", department="eco"),
        CaseCommand(A.CONFIRM, "eco1"),
        CaseCommand(A.REQUEST_EXTENSION, "eco1", "需现场监测", days=3),
        CaseCommand(A.APPROVE_EXTENSION, "supervisor"),
        CaseCommand(A.START, "eco1"),
        CaseCommand(A.REPLY, "eco1", reply="已责令施工方夜间停工"),
        CaseCommand(A.REVISIT, "agent2", satisfaction=Satisfaction.SATISFIED),
        CaseCommand(A.CLOSE, "agent2"),
    ]
    for cmd in steps:
        clock.advance(minutes=10)
        await desk.act(case.number, cmd)
    repo = MongoCaseRepository(db)
    stored = await repo.get(case.number)
    trail = await repo.audit_trail(case.number)
    assert stored.state is CaseState.CLOSED
    assert stored.version == 1 + len(steps)
    assert [e.seq for e in trail] == list(range(1, 2 + len(steps)))
    assert [e.action for e in trail] == ["create"] + [c.action.value for c in steps]
    assert trail == list(stored.events)  # the audit collection agrees with the case
    times = [e.at for e in trail]
    assert times == sorted(times)
    assert trail[1].comment == "来电受理"
    assert ("department", "eco") in trail[2].data


async def test_refused_transition_changes_nothing(desk: CaseDesk, db: Database):
    case = await desk.open(complaint(), actor="agent1")
    with pytest.raises(IllegalTransition, match="cannot reply a case in state new"):
        await desk.act(case.number, CaseCommand(A.REPLY, "eco1", reply="x"))
    stored = await MongoCaseRepository(db).get(case.number)
    assert stored.version == 1
    assert len(await MongoCaseRepository(db).audit_trail(case.number)) == 1


async def test_stale_write_is_refused_not_overwritten(desk: CaseDesk, db: Database):
    case = await desk.open(complaint(), actor="agent1")
    await desk.act(case.number, CaseCommand(A.ACCEPT, "agent1"), expected_version=1)
    with pytest.raises(StaleWrite, match="expected version 1"):
        await desk.act(case.number, CaseCommand(A.ACCEPT, "agent2"), expected_version=1)
    stored = await MongoCaseRepository(db).get(case.number)
    assert [e.actor for e in stored.events] == ["agent1", "agent1"]


async def test_racing_writers_on_the_same_version_one_wins(db: Database, desk: CaseDesk):
    case = await desk.open(complaint(), actor="agent1")
    repo = MongoCaseRepository(db)
    from cases.workflow import apply_command

    now = datetime.now(UTC)
    a = apply_command(case, CaseCommand(A.ACCEPT, "agent1"), now, DuePolicy())
    b = apply_command(case, CaseCommand(A.ACCEPT, "agent2"), now, DuePolicy())
    results = await asyncio.gather(repo.save(a, case), repo.save(b, case), return_exceptions=True)
    assert sum(isinstance(r, StaleWrite) for r in results) == 1
    stored = await repo.get(case.number)
    assert stored.version == 2
    assert len(await repo.audit_trail(case.number)) == 2


async def test_cases_about_the_same_event_are_linked_both_ways(desk: CaseDesk, db: Database):
    first = await desk.open(complaint(), actor="agent1")
    second = await desk.open(complaint(linked=(first.number,)), actor="agent2")
    third = await desk.open(complaint(), actor="agent2")
    await desk.link(third.number, first.number)
    repo = MongoCaseRepository(db)
    assert set((await repo.get(first.number)).linked) == {second.number, third.number}
    assert (await repo.get(third.number)).linked == (first.number,)
    with pytest.raises(CaseNotFound):
        await desk.link(first.number, "20990101-000001")


async def test_emergency_case_keeps_contacts_and_jumps_priority(desk: CaseDesk, clock: FixedClock):
    case = await desk.open(
        NewCase(
            type=CaseType.EMERGENCY,
            title="老人一键呼叫：摔倒起不来",
            emergency_contacts=(EmergencyContact("李明", "+8613900001111", "儿子"),),
            address="东湖区幸福路8号3栋201",
        ),
        actor="system",
    )
    assert case.priority >= 100
    assert case.emergency_contacts[0].relation == "儿子"
    assert case.due_at == clock.now() + timedelta(hours=2)


async def test_todo_needs_a_reminder_time(desk: CaseDesk, clock: FixedClock):
    with pytest.raises(InvalidInput, match="提醒时间"):
        await desk.open(NewCase(type=CaseType.TODO, title="回电话给张先生"), actor="agent1")
    remind = clock.now() + timedelta(hours=3)
    case = await desk.open(
        NewCase(type=CaseType.TODO, title="回电话", remind_at=remind), actor="agent1"
    )
    assert case.due_at == remind


async def test_category_must_be_a_path_in_the_taxonomy(desk: CaseDesk):
    with pytest.raises(UnknownCategory):
        await desk.open(complaint(category=("99",)), actor="agent1")
    with pytest.raises(InvalidInput, match="not under"):
        await desk.open(complaint(category=("01", "0201")), actor="agent1")


async def test_recategorising_is_audited_and_version_checked(desk: CaseDesk, db: Database):
    case = await desk.open(complaint(), actor="agent1")
    path = ("02", "0201", "020101", "02010101")
    after = await desk.edit_category(case.number, path, actor="agent2", expected_version=1)
    assert after.category == path
    assert after.events[-1].action == "recategorize"
    with pytest.raises(StaleWrite):
        await desk.edit_category(case.number, path, actor="agent3", expected_version=1)


async def test_invalid_contact_phone_is_a_clear_error(desk: CaseDesk):
    with pytest.raises(InvalidInput, match="联系电话格式不正确"):
        await desk.open(complaint(contact_phone="12"), actor="agent1")
