"""The hotline case workflow as a pure state machine.

new → accepted → dispatched → confirmed → in_progress → replied → revisited → closed, with the
side paths the hotline manuals describe: a department returns a case (centre audits the return),
asks for an extension (centre approves or denies), the centre supervises (督办) or rejects a
reply, and a closed case can be reopened. `apply_command` returns the next Case and its audit
event; the repository stores both in one atomic, version-checked write.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from cases.errors import IllegalTransition
from cases.model import (
    Case,
    CaseEvent,
    CaseState,
    CaseType,
    ExtensionState,
    Satisfaction,
)
from cases.sla import DuePolicy

S = CaseState


class CaseAction(StrEnum):
    ACCEPT = "accept"  # 受理
    DISPATCH = "dispatch"  # 派单
    CONFIRM = "confirm"  # 签收 (department)
    RETURN = "return"  # 退单 (department rejects the case)
    APPROVE_RETURN = "approve_return"  # 中心同意退单: back to the centre to re-dispatch
    REJECT_RETURN = "reject_return"  # 中心驳回退单: back to the same department
    START = "start"  # 开始办理
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    REPLY = "reply"  # 办理回复
    REJECT_REPLY = "reject_reply"  # 中心审核不通过，重新办理
    REVISIT = "revisit"  # 回访
    CLOSE = "close"  # 办结
    REOPEN = "reopen"  # 重办
    SUPERVISE = "supervise"  # 督办
    MERGE = "merge"  # 并单: a repeat report of the same matter recorded on this case


# action -> (states it may start from, state it leads to; None keeps the state)
_MOVES: dict[CaseAction, tuple[frozenset[CaseState], CaseState | None]] = {
    CaseAction.ACCEPT: (frozenset({S.NEW}), S.ACCEPTED),
    CaseAction.DISPATCH: (frozenset({S.ACCEPTED, S.REOPENED}), S.DISPATCHED),
    CaseAction.CONFIRM: (frozenset({S.DISPATCHED}), S.CONFIRMED),
    CaseAction.RETURN: (frozenset({S.DISPATCHED, S.CONFIRMED}), S.RETURNED),
    CaseAction.APPROVE_RETURN: (frozenset({S.RETURNED}), S.ACCEPTED),
    CaseAction.REJECT_RETURN: (frozenset({S.RETURNED}), S.DISPATCHED),
    CaseAction.START: (frozenset({S.CONFIRMED}), S.IN_PROGRESS),
    CaseAction.REQUEST_EXTENSION: (frozenset({S.CONFIRMED, S.IN_PROGRESS}), None),
    CaseAction.APPROVE_EXTENSION: (frozenset({S.CONFIRMED, S.IN_PROGRESS}), None),
    CaseAction.DENY_EXTENSION: (frozenset({S.CONFIRMED, S.IN_PROGRESS}), None),
    CaseAction.REPLY: (frozenset({S.CONFIRMED, S.IN_PROGRESS}), S.REPLIED),
    CaseAction.REJECT_REPLY: (frozenset({S.REPLIED}), S.IN_PROGRESS),
    CaseAction.REVISIT: (frozenset({S.REPLIED}), S.REVISITED),
    CaseAction.CLOSE: (frozenset({S.REVISITED, S.ACCEPTED}), S.CLOSED),
    CaseAction.REOPEN: (frozenset({S.REVISITED, S.CLOSED}), S.REOPENED),
    CaseAction.SUPERVISE: (
        frozenset(s for s in S if s not in (S.NEW, S.CLOSED)),
        None,
    ),
    CaseAction.MERGE: (frozenset(s for s in S if s is not S.CLOSED), None),
}

# A department signs for (签收) a dispatched case within this time; later sign-offs are flagged.
SIGN_OFF_WITHIN = timedelta(minutes=30)

# Who may act: the department handling the case, or the centre (agents and supervisors).
DEPARTMENT_ACTIONS = frozenset(
    {
        CaseAction.CONFIRM,
        CaseAction.RETURN,
        CaseAction.START,
        CaseAction.REQUEST_EXTENSION,
        CaseAction.REPLY,
    }
)
SUPERVISOR_ACTIONS = frozenset({CaseAction.SUPERVISE})
CENTRE_ACTIONS = frozenset(CaseAction) - DEPARTMENT_ACTIONS - SUPERVISOR_ACTIONS

# Cases the centre may close on the spot (直接办结) without dispatching to a department.
DIRECT_CLOSE_TYPES = frozenset(
    {CaseType.CONSULT, CaseType.PRAISE, CaseType.SUGGESTION, CaseType.PUBLIC_AFFAIRS, CaseType.TODO}
)


@dataclass(frozen=True, slots=True)
class CaseCommand:
    action: CaseAction
    actor: str
    comment: str = ""
    department: str | None = None  # dispatch
    days: int | None = None  # request / approve extension (working days)
    reply: str = ""  # reply
    satisfaction: Satisfaction | None = None  # revisit
    assisting: tuple[str, ...] = ()  # dispatch: 协办单位
    due_days: int | None = None  # dispatch: working days (the catalogue's); None: the type's
    attachments: tuple[str, ...] = ()  # reply / merge: upload ids
    until: datetime | None = None  # supervise: the deadline set by the supervisor
    conversation_id: str | None = None  # merge: the conversation the repeat report came from


def allowed_actions(case: Case) -> list[CaseAction]:
    """Actions the case's current state allows (for UIs to offer only valid buttons)."""
    return [a for a in CaseAction if _refusal(case, CaseCommand(a, actor="-")) is None]


def apply_command(case: Case, cmd: CaseCommand, now: datetime, due: DuePolicy) -> Case:
    """Return the case after cmd, with one more audit event and version + 1.

    Raises IllegalTransition naming the state and the action when the workflow refuses it.
    """
    reason = _refusal(case, cmd)
    if reason is not None:
        raise IllegalTransition(case.state.value, cmd.action.value, reason)
    reason = _missing_input(case, cmd)
    if reason is not None:
        raise IllegalTransition(case.state.value, cmd.action.value, reason, missing=True)
    _, target = _MOVES[cmd.action]
    to_state = target or case.state
    changed = _effects(case, cmd, now, due)
    event = CaseEvent(
        seq=case.version + 1,
        action=cmd.action.value,
        actor=cmd.actor,
        at=now,
        from_state=case.state,
        to_state=to_state,
        comment=cmd.comment,
        data=_event_data(cmd),
    )
    return replace(
        case, **changed, state=to_state, version=case.version + 1, events=(*case.events, event)
    )


def _refusal(case: Case, cmd: CaseCommand) -> str | None:
    """Why the case's state refuses cmd (a short reason), or None when it allows it; the
    command's own input is checked apart (_missing_input)."""
    sources, _ = _MOVES[cmd.action]
    if case.state not in sources:
        return "not allowed from this state"
    a = cmd.action
    if a is CaseAction.CLOSE and case.state is S.ACCEPTED and case.type not in DIRECT_CLOSE_TYPES:
        return f"a {case.type.value} case must be handled by a department before closing"
    if a is CaseAction.REQUEST_EXTENSION and case.extension is ExtensionState.REQUESTED:
        return "an extension request is already pending"
    if a in (CaseAction.APPROVE_EXTENSION, CaseAction.DENY_EXTENSION) and (
        case.extension is not ExtensionState.REQUESTED
    ):
        return "no extension request is pending"
    if a is CaseAction.SUPERVISE and case.supervised:
        return "the case is already supervised"
    return None


def _missing_input(case: Case, cmd: CaseCommand) -> str | None:
    a = cmd.action
    if a is CaseAction.DISPATCH and not (cmd.department or "").strip():
        return "a department is required"
    if a is CaseAction.DISPATCH and cmd.department in cmd.assisting:
        return "the lead department cannot also assist"
    if a is CaseAction.DISPATCH and cmd.due_days is not None and not 1 <= cmd.due_days <= 60:
        return "due_days must be between 1 and 60"
    if a in (CaseAction.SUPERVISE, CaseAction.MERGE) and not cmd.comment.strip():
        return "a note (comment) is required"
    if a in (CaseAction.RETURN, CaseAction.REOPEN, CaseAction.REJECT_REPLY) and not (
        cmd.comment.strip()
    ):
        return "a reason (comment) is required"
    if a is CaseAction.REQUEST_EXTENSION and (cmd.days is None or not 1 <= cmd.days <= 60):
        return "days must be between 1 and 60"
    if a is CaseAction.REPLY and not cmd.reply.strip():
        return "a reply text is required"
    if a is CaseAction.REVISIT and cmd.satisfaction is None:
        return "a satisfaction result is required"
    return None


def _effects(case: Case, cmd: CaseCommand, now: datetime, due: DuePolicy) -> dict[str, object]:
    a = cmd.action
    if a is CaseAction.ACCEPT:
        return {"accepted_at": now}
    if a is CaseAction.DISPATCH:
        return {
            "department": cmd.department,
            "assisting": tuple(dict.fromkeys(cmd.assisting)),
            "dispatched_at": now,
            "sign_by": now + SIGN_OFF_WITHIN,
            "confirmed_at": None,
            "due_at": due.dispatch_due(case.type, now, cmd.due_days),
        }
    if a is CaseAction.CONFIRM:
        return {"confirmed_at": now}
    if a is CaseAction.APPROVE_RETURN:
        return {"department": None, "assisting": (), "sign_by": None}
    if a is CaseAction.REJECT_RETURN:  # back to the same department, which signs again
        return {"sign_by": now + SIGN_OFF_WITHIN, "confirmed_at": None}
    if a is CaseAction.REQUEST_EXTENSION:
        return {"extension": ExtensionState.REQUESTED, "extension_days": cmd.days}
    if a is CaseAction.APPROVE_EXTENSION:
        days = cmd.days or case.extension_days or 1
        return {"extension": ExtensionState.APPROVED, "due_at": due.extend(case.due_at, days)}
    if a is CaseAction.DENY_EXTENSION:
        return {"extension": ExtensionState.DENIED}
    if a is CaseAction.REPLY:
        return {"reply": cmd.reply.strip(), "attachments": _more(case.attachments, cmd.attachments)}
    if a is CaseAction.MERGE:
        return {"attachments": _more(case.attachments, cmd.attachments)}
    if a is CaseAction.REVISIT:
        return {"satisfaction": cmd.satisfaction}
    if a is CaseAction.CLOSE:  # 直接办结 carries the answer given on the spot as the reply
        # supervision ends with the case (its events keep the record)
        done = {"closed_at": now, "supervised": False}
        return done | ({"reply": cmd.reply.strip()} if cmd.reply.strip() else {})
    if a is CaseAction.REOPEN:
        return {"closed_at": None, "satisfaction": None, "due_at": due.due_at(case.type, now)}
    if a is CaseAction.SUPERVISE:
        return {
            "supervised": True,
            "supervise_note": cmd.comment.strip(),
            "supervise_by": cmd.until,
        }
    return {}


def _more(have: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*have, *new)))


def _event_data(cmd: CaseCommand) -> tuple[tuple[str, str], ...]:
    data: list[tuple[str, str]] = []
    if cmd.department:
        data.append(("department", cmd.department))
    if cmd.days is not None:
        data.append(("days", str(cmd.days)))
    if cmd.reply:
        data.append(("reply", cmd.reply.strip()))
    if cmd.satisfaction is not None:
        data.append(("satisfaction", cmd.satisfaction.value))
    if cmd.assisting:
        data.append(("assisting", ",".join(cmd.assisting)))
    if cmd.due_days is not None:
        data.append(("due_days", str(cmd.due_days)))
    if cmd.attachments:
        data.append(("attachments", ",".join(cmd.attachments)))
    if cmd.until is not None:
        data.append(("until", cmd.until.isoformat()))
    if cmd.conversation_id:
        data.append(("conversation_id", cmd.conversation_id))
    return tuple(data)
