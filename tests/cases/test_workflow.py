from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from cases.errors import IllegalTransition
from cases.model import Case, CaseState, CaseType, ExtensionState, Satisfaction
from cases.sla import DuePolicy, WorkCalendar
from cases.workflow import (
    _MOVES,
    CaseAction,
    CaseCommand,
    allowed_actions,
    apply_command,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
DUE = DuePolicy()
A = CaseAction


def make_case(state: CaseState = CaseState.NEW, **kw: object) -> Case:
    base = Case(
        number="20261124-000001",
        type=CaseType.COMPLAINT,
        state=state,
        title="小区夜间施工噪声",
        description="",
        category=(),
        customer_id="c1",
        conversation_id=None,
        channel="wechat",
        contact_phone=None,
        address="",
        department="eco" if state is not CaseState.NEW else None,
        priority=0,
        created_at=NOW,
        due_at=NOW + timedelta(days=7),
        version=1,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def full_command(action: CaseAction) -> CaseCommand:
    """A command with every input an action may need, so only the state decides."""
    return CaseCommand(
        action,
        actor="agent1",
        comment="理由",
        department="eco",
        days=3,
        reply="已处理",
        satisfaction=Satisfaction.SATISFIED,
    )


def run(case: Case, *actions: CaseAction) -> Case:
    for action in actions:
        case = apply_command(case, full_command(action), NOW, DUE)
    return case


def test_main_path_reaches_closed_with_one_event_per_step():
    path = [A.ACCEPT, A.DISPATCH, A.CONFIRM, A.START, A.REPLY, A.REVISIT, A.CLOSE]
    case = run(make_case(), *path)
    assert case.state is CaseState.CLOSED
    assert case.version == 1 + len(path)
    assert [e.action for e in case.events] == [a.value for a in path]
    states = [e.to_state for e in case.events]
    assert states == [
        CaseState.ACCEPTED,
        CaseState.DISPATCHED,
        CaseState.CONFIRMED,
        CaseState.IN_PROGRESS,
        CaseState.REPLIED,
        CaseState.REVISITED,
        CaseState.CLOSED,
    ]
    assert [e.seq for e in case.events] == list(range(2, 2 + len(path)))
    assert case.closed_at == NOW
    assert case.satisfaction is Satisfaction.SATISFIED


_REFUSED = [(s, a) for s in CaseState for a in CaseAction if s not in _MOVES[a][0]]


def test_the_table_refuses_most_pairs():
    assert len(_REFUSED) > 100  # guards against an accidentally permissive table


@pytest.mark.parametrize(("state", "action"), _REFUSED)
def test_every_transition_outside_the_table_is_refused(state: CaseState, action: CaseAction):
    case = make_case(state)
    with pytest.raises(IllegalTransition) as err:
        apply_command(case, full_command(action), NOW, DUE)
    assert f"cannot {action.value} a case in state {state.value}" in str(err.value)
    assert err.value.state == state.value
    assert err.value.action == action.value


def test_return_goes_to_centre_audit_then_back_to_dispatch():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.RETURN)
    assert case.state is CaseState.RETURNED
    assert run(case, A.REJECT_RETURN).state is CaseState.DISPATCHED
    approved = run(case, A.APPROVE_RETURN)
    assert approved.state is CaseState.ACCEPTED
    assert approved.department is None


def test_return_needs_a_reason():
    case = run(make_case(), A.ACCEPT, A.DISPATCH)
    with pytest.raises(IllegalTransition, match="reason"):
        apply_command(case, CaseCommand(A.RETURN, actor="water1"), NOW, DUE)


def test_dispatch_needs_a_department():
    case = run(make_case(), A.ACCEPT)
    with pytest.raises(IllegalTransition, match="department is required"):
        apply_command(case, CaseCommand(A.DISPATCH, actor="agent1"), NOW, DUE)


def test_extension_approved_moves_due_date_and_cannot_be_decided_twice():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.CONFIRM, A.START)
    requested = run(case, A.REQUEST_EXTENSION)
    assert requested.extension is ExtensionState.REQUESTED
    assert requested.state is CaseState.IN_PROGRESS
    with pytest.raises(IllegalTransition, match="already pending"):
        run(requested, A.REQUEST_EXTENSION)
    approved = run(requested, A.APPROVE_EXTENSION)
    assert approved.extension is ExtensionState.APPROVED
    assert approved.due_at > requested.due_at
    with pytest.raises(IllegalTransition, match="no extension request is pending"):
        run(approved, A.DENY_EXTENSION)


def test_extension_denied_keeps_due_date():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.CONFIRM, A.REQUEST_EXTENSION, A.DENY_EXTENSION)
    assert case.extension is ExtensionState.DENIED
    assert case.due_at == make_case().due_at


def test_supervise_marks_once_and_keeps_state():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.SUPERVISE)
    assert case.supervised
    assert case.state is CaseState.DISPATCHED
    with pytest.raises(IllegalTransition, match="already supervised"):
        run(case, A.SUPERVISE)


def test_closed_case_can_be_reopened_and_redispatched():
    closed = run(make_case(), A.ACCEPT, A.DISPATCH, A.CONFIRM, A.REPLY, A.REVISIT, A.CLOSE)
    reopened = run(closed, A.REOPEN)
    assert reopened.state is CaseState.REOPENED
    assert reopened.closed_at is None
    assert run(reopened, A.DISPATCH).state is CaseState.DISPATCHED


def test_complaint_cannot_be_closed_on_the_spot_but_consult_can():
    complaint = run(make_case(), A.ACCEPT)
    with pytest.raises(IllegalTransition, match="must be handled by a department"):
        run(complaint, A.CLOSE)
    consult = run(make_case(type=CaseType.CONSULT), A.ACCEPT, A.CLOSE)
    assert consult.state is CaseState.CLOSED


def test_revisit_needs_a_satisfaction_result():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.CONFIRM, A.REPLY)
    with pytest.raises(IllegalTransition, match="satisfaction"):
        apply_command(case, CaseCommand(A.REVISIT, actor="agent1"), NOW, DUE)


def test_allowed_actions_lists_only_what_the_state_permits():
    assert allowed_actions(make_case()) == [A.ACCEPT, A.MERGE]
    dispatched = run(make_case(), A.ACCEPT, A.DISPATCH)
    assert set(allowed_actions(dispatched)) == {A.CONFIRM, A.RETURN, A.SUPERVISE, A.MERGE}


def test_event_records_actor_time_states_and_comment():
    case = apply_command(
        make_case(),
        CaseCommand(A.ACCEPT, actor="agent7", comment="来电受理"),
        NOW,
        DUE,
    )
    event = case.events[-1]
    assert (event.actor, event.at, event.from_state, event.to_state, event.comment) == (
        "agent7",
        NOW,
        CaseState.NEW,
        CaseState.ACCEPTED,
        "来电受理",
    )


def test_dispatch_sets_lead_and_assisting_departments_sign_off_and_catalogue_deadline():
    calendar = WorkCalendar.from_lists([date(2026, 11, 25)], [])  # a holiday on Wednesday
    due = DuePolicy(calendar=calendar)
    case = apply_command(make_case(), CaseCommand(A.ACCEPT, actor="agent1"), NOW, due)
    cmd = CaseCommand(
        A.DISPATCH, actor="agent1", department="water", assisting=("chengguan",), due_days=3
    )
    dispatched = apply_command(case, cmd, NOW, due)
    assert (dispatched.department, dispatched.assisting) == ("water", ("chengguan",))
    assert dispatched.sign_by == NOW + timedelta(minutes=30)
    # Tuesday + 3 working days (Thursday, Friday, Monday): the holiday and the weekend skipped
    assert dispatched.due_at.date() == date(2026, 11, 30)
    assert dict(dispatched.events[-1].data) == {
        "department": "water",
        "assisting": "chengguan",
        "due_days": "3",
    }
    signed = apply_command(dispatched, CaseCommand(A.CONFIRM, actor="water1"), NOW, due)
    assert signed.confirmed_at == NOW


def test_dispatch_refuses_a_lead_that_also_assists():
    case = run(make_case(), A.ACCEPT)
    with pytest.raises(IllegalTransition, match="cannot also assist"):
        apply_command(
            case, CaseCommand(A.DISPATCH, actor="a", department="eco", assisting=("eco",)), NOW, DUE
        )


def test_return_approved_clears_the_departments_for_a_new_dispatch():
    returned = run(make_case(), A.ACCEPT, A.DISPATCH, A.RETURN)
    back = apply_command(returned, CaseCommand(A.APPROVE_RETURN, actor="agent1"), NOW, DUE)
    assert (back.state, back.department, back.assisting, back.sign_by) == (
        CaseState.ACCEPTED,
        None,
        (),
        None,
    )
    redispatched = apply_command(
        back, CaseCommand(A.DISPATCH, actor="agent1", department="housing"), NOW, DUE
    )
    assert redispatched.department == "housing"
    assert [e.action for e in redispatched.events][-3:] == ["return", "approve_return", "dispatch"]


def test_merge_records_a_repeat_report_without_changing_state():
    case = run(make_case(), A.ACCEPT, A.DISPATCH)
    merged = apply_command(
        case,
        CaseCommand(
            A.MERGE,
            actor="agent2",
            comment="又一位居民反映同一处噪声",
            conversation_id="c9",
            attachments=("u1",),
        ),
        NOW,
        DUE,
    )
    assert merged.state is case.state
    assert merged.version == case.version + 1
    assert merged.attachments == ("u1",)
    assert dict(merged.events[-1].data) == {"attachments": "u1", "conversation_id": "c9"}
    with pytest.raises(IllegalTransition, match="note"):
        apply_command(case, CaseCommand(A.MERGE, actor="agent2"), NOW, DUE)


def test_supervision_keeps_its_note_and_deadline():
    case = run(make_case(), A.ACCEPT, A.DISPATCH)
    until = NOW + timedelta(days=1)
    supervised = apply_command(
        case,
        CaseCommand(A.SUPERVISE, actor="supervisor", comment="今日内回复", until=until),
        NOW,
        DUE,
    )
    assert (supervised.supervised, supervised.supervise_note, supervised.supervise_by) == (
        True,
        "今日内回复",
        until,
    )


def test_reply_attachments_accumulate_on_the_case():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.CONFIRM)
    replied = apply_command(
        case,
        CaseCommand(A.REPLY, actor="water1", reply="已修复", attachments=("p1", "p2")),
        NOW,
        DUE,
    )
    assert replied.attachments == ("p1", "p2")


def test_supervision_ends_when_the_case_closes():
    case = run(make_case(), A.ACCEPT, A.DISPATCH, A.SUPERVISE, A.CONFIRM, A.REPLY, A.REVISIT)
    assert case.supervised
    closed = apply_command(case, CaseCommand(A.CLOSE, actor="agent1"), NOW, DUE)
    assert not closed.supervised
    assert [e.action for e in closed.events].count("supervise") == 1
