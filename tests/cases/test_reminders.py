"""The reminder pass on the real database: each alert once per deadline, re-armed when the
deadline moves, none for cases that are done."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cases.desk import CaseDesk
from cases.model import CaseType, NewCase
from cases.reminders import AlertKind, CaseAlert, CaseReminders
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy, load_taxonomy_file
from cases.workflow import CaseAction, CaseCommand
from hub.settings import DATA_DIR
from mongo.cases import MongoCaseRepository
from mongo.client import Database
from primitives.clock import FixedClock

TAXONOMY = Taxonomy(load_taxonomy_file(Path(DATA_DIR / "taxonomy.yaml")))
A = CaseAction


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # Tuesday 09:30 in Beijing


@pytest.fixture
def repo(db: Database) -> MongoCaseRepository:
    return MongoCaseRepository(db)


@pytest.fixture
def desk(repo: MongoCaseRepository, clock: FixedClock) -> CaseDesk:
    return CaseDesk(repo, lambda: TAXONOMY, DuePolicy(), clock)


async def test_each_alert_once_per_deadline(
    desk: CaseDesk, repo: MongoCaseRepository, clock: FixedClock
):
    heard: list[CaseAlert] = []
    reminders = CaseReminders(repo, clock, warn_before=timedelta(hours=4))

    async def listen(alert: CaseAlert) -> None:
        heard.append(alert)

    reminders.on_alert(listen)
    case = await desk.open(NewCase(CaseType.COMPLAINT, "停水"), actor="agent1")
    await desk.act(case.number, CaseCommand(A.ACCEPT, actor="agent1"))
    await desk.act(
        case.number, CaseCommand(A.DISPATCH, actor="agent1", department="water", due_days=1)
    )
    todo = await desk.open(
        NewCase(CaseType.TODO, "回电", remind_at=clock.now() + timedelta(minutes=10)),
        actor="agent2",
    )
    assert await reminders.run_once() == []

    clock.advance(minutes=31)
    assert [(a.kind, a.case.number) for a in await reminders.run_once()] == [
        (AlertKind.SIGN_OFF_LATE, case.number),
        (AlertKind.TODO_DUE, todo.number),
    ]
    assert await reminders.run_once() == []  # once

    clock.advance(hours=21)  # Wednesday 07:01: due at 09:30 → within the 4 h warning
    assert [a.kind for a in await reminders.run_once()] == [AlertKind.DUE_SOON]
    clock.advance(hours=3)
    assert [a.kind for a in await reminders.run_once()] == [AlertKind.OVERDUE]
    assert await reminders.run_once() == []

    # the department signs and gets an extension: the new deadline is watched afresh
    await desk.act(case.number, CaseCommand(A.CONFIRM, actor="water1"))
    await desk.act(
        case.number, CaseCommand(A.REQUEST_EXTENSION, actor="water1", days=1, comment="材料")
    )
    await desk.act(case.number, CaseCommand(A.APPROVE_EXTENSION, actor="supervisor"))
    assert await reminders.run_once() == []
    clock.advance(days=1)
    assert [a.kind for a in await reminders.run_once()] == [AlertKind.OVERDUE]
    assert [a.kind for a in heard] == [
        AlertKind.SIGN_OFF_LATE,
        AlertKind.TODO_DUE,
        AlertKind.DUE_SOON,
        AlertKind.OVERDUE,
        AlertKind.OVERDUE,
    ]

    # a replied case runs against no one
    await desk.act(case.number, CaseCommand(A.REPLY, actor="water1", reply="已恢复供水"))
    clock.advance(days=5)
    assert [a.case.number for a in await reminders.run_once()] == []


async def test_cases_due_soon_are_found_behind_a_batch_of_overdue_ones(
    desk: CaseDesk, repo: MongoCaseRepository, clock: FixedClock
):
    reminders = CaseReminders(repo, clock, warn_before=timedelta(hours=4), batch=2)
    for _ in range(3):  # overdue: due in one working day, then the clock moves two days on
        late = await desk.open(NewCase(CaseType.COMPLAINT, "旧件"), actor="agent1")
        await desk.act(late.number, CaseCommand(A.ACCEPT, actor="agent1"))
        await desk.act(
            late.number, CaseCommand(A.DISPATCH, actor="agent1", department="water", due_days=1)
        )
    clock.advance(days=2)
    soon = await desk.open(NewCase(CaseType.COMPLAINT, "新件"), actor="agent1")
    await desk.act(soon.number, CaseCommand(A.ACCEPT, actor="agent1"))
    await desk.act(
        soon.number, CaseCommand(A.DISPATCH, actor="agent1", department="water", due_days=1)
    )
    clock.advance(hours=21)  # the new case is due within the 4-hour warning
    raised = await reminders.run_once()
    assert (AlertKind.DUE_SOON, soon.number) in [(a.kind, a.case.number) for a in raised]
