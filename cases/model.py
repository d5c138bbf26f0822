"""Cases (work orders): types, states and the Case value the rest of the hub sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CaseType(StrEnum):
    CONSULT = "consult"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬
    DOMESTIC_SERVICE_ORDER = "domestic_service_order"  # 家政服务订单
    REPAIR = "repair"  # 报修
    EMERGENCY = "emergency"  # 紧急求助（老年人一键通）
    TODO = "todo"  # 待办提醒
    PUBLIC_AFFAIRS = "public_affairs"  # 公共事务


class CaseState(StrEnum):
    NEW = "new"  # 新建
    ACCEPTED = "accepted"  # 已受理
    DISPATCHED = "dispatched"  # 已派单
    CONFIRMED = "confirmed"  # 已签收
    IN_PROGRESS = "in_progress"  # 办理中
    RETURNED = "returned"  # 已退回（待中心审核）
    REPLIED = "replied"  # 已回复
    REVISITED = "revisited"  # 已回访
    CLOSED = "closed"  # 已办结
    REOPENED = "reopened"  # 已重办


class ExtensionState(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    NEUTRAL = "neutral"  # 一般
    DISSATISFIED = "dissatisfied"  # 不满意
    UNREACHABLE = "unreachable"  # 无法联系 (revisit attempted, citizen not reached)


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    name: str
    phone: str  # E.164
    relation: str = ""


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One audit-trail entry: who did what to the case, when, from which state to which."""

    seq: int  # 1 for creation, then +1 per transition; equals the case version it produced
    action: str
    actor: str
    at: datetime
    from_state: CaseState | None
    to_state: CaseState
    comment: str = ""
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NewCase:
    """What a caller supplies to open a case; the repository adds number, state and dates."""

    type: CaseType
    title: str
    description: str = ""
    category: tuple[str, ...] = ()  # taxonomy codes, level 1 first (up to 4)
    customer_id: str | None = None
    conversation_id: str | None = None
    channel: str = ""
    contact_phone: str | None = None  # E.164
    address: str = ""
    department: str | None = None
    priority: int = 0
    emergency_contacts: tuple[EmergencyContact, ...] = ()
    remind_at: datetime | None = None  # todo cases
    linked: tuple[str, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)
    attachments: tuple[str, ...] = ()  # upload ids (the citizen's photos)


@dataclass(frozen=True, slots=True)
class Case:
    number: str  # YYYYMMDD-NNNNNN
    type: CaseType
    state: CaseState
    title: str
    description: str
    category: tuple[str, ...]
    customer_id: str | None
    conversation_id: str | None
    channel: str
    contact_phone: str | None
    address: str
    department: str | None
    priority: int
    created_at: datetime
    due_at: datetime
    version: int
    extension: ExtensionState = ExtensionState.NONE
    extension_days: int | None = None
    supervised: bool = False
    emergency_contacts: tuple[EmergencyContact, ...] = ()
    remind_at: datetime | None = None
    linked: tuple[str, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: Satisfaction | None = None
    reply: str = ""
    events: tuple[CaseEvent, ...] = ()
    created_by: str = ""  # the agent (or bot) who filed it: "my cases"
    assisting: tuple[str, ...] = ()  # 协办单位, beside the lead department
    dispatched_at: datetime | None = None
    sign_by: datetime | None = None  # the department must sign for it (签收) by then
    confirmed_at: datetime | None = None
    supervise_note: str = ""  # 督办意见
    supervise_by: datetime | None = None  # 督办时限
    attachments: tuple[str, ...] = ()  # upload ids: the citizen's photos, departments' replies

    @property
    def is_open(self) -> bool:
        return self.state is not CaseState.CLOSED
