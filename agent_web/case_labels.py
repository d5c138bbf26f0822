"""zh-CN names of what the case workbench shows: states, actions, types, lights, satisfaction,
and the workflow's refusals (the domain speaks English; the workbench speaks Chinese)."""

from __future__ import annotations

from cases.errors import IllegalTransition
from cases.model import CaseState, CaseType, ExtensionState, Satisfaction
from cases.sla import SlaLight
from cases.workflow import CaseAction

STATE_LABELS: dict[str, str] = {
    CaseState.NEW: "待受理",
    CaseState.ACCEPTED: "已受理",
    CaseState.DISPATCHED: "已派单",
    CaseState.CONFIRMED: "已签收",
    CaseState.IN_PROGRESS: "办理中",
    CaseState.RETURNED: "退单待审",
    CaseState.REPLIED: "已回复",
    CaseState.REVISITED: "已回访",
    CaseState.CLOSED: "已办结",
    CaseState.REOPENED: "重办",
}

ACTION_LABELS: dict[str, str] = {
    "create": "登记",
    "recategorize": "修改分类",
    CaseAction.ACCEPT: "受理",
    CaseAction.DISPATCH: "派单",
    CaseAction.CONFIRM: "签收",
    CaseAction.RETURN: "退单",
    CaseAction.APPROVE_RETURN: "同意退单",
    CaseAction.REJECT_RETURN: "驳回退单",
    CaseAction.START: "开始办理",
    CaseAction.REQUEST_EXTENSION: "申请延期",
    CaseAction.APPROVE_EXTENSION: "同意延期",
    CaseAction.DENY_EXTENSION: "驳回延期",
    CaseAction.REPLY: "办理回复",
    CaseAction.REJECT_REPLY: "退回重办",
    CaseAction.REVISIT: "回访",
    CaseAction.CLOSE: "办结",
    CaseAction.REOPEN: "重办",
    CaseAction.SUPERVISE: "督办",
    CaseAction.MERGE: "并单",
}

TYPE_LABELS: dict[str, str] = {
    CaseType.CONSULT: "咨询",
    CaseType.COMPLAINT: "投诉",
    CaseType.SUGGESTION: "建议",
    CaseType.PRAISE: "表扬",
    CaseType.DOMESTIC_SERVICE_ORDER: "家政服务",
    CaseType.REPAIR: "报修",
    CaseType.EMERGENCY: "紧急求助",
    CaseType.TODO: "待办提醒",
    CaseType.PUBLIC_AFFAIRS: "公共事务",
}

LIGHT_LABELS: dict[str, str] = {
    SlaLight.GREEN: "正常",
    SlaLight.YELLOW: "预警",
    SlaLight.RED: "超期",
}

SATISFACTION_LABELS: dict[str, str] = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.NEUTRAL: "一般",
    Satisfaction.DISSATISFIED: "不满意",
    Satisfaction.UNREACHABLE: "无法联系",
}

EXTENSION_LABELS: dict[str, str] = {
    ExtensionState.NONE: "",
    ExtensionState.REQUESTED: "延期待审",
    ExtensionState.APPROVED: "已延期",
    ExtensionState.DENIED: "延期被驳回",
}

STALE = "工单已被他人修改，请刷新后重试"

# The workflow's refusal details (cases/workflow.py), by a phrase each contains.
_DETAILS = (
    ("must be handled by a department", "该类工单须派单至承办单位办理后才能办结"),
    ("already pending", "已有延期申请待审核"),
    ("no extension request is pending", "没有待审核的延期申请"),
    ("already supervised", "该工单已在督办中"),
    ("a department is required", "请选择承办单位"),
    ("cannot also assist", "主办单位不能同时是协办单位"),
    ("due_days must be", "办理时限须为 1–60 个工作日"),
    ("a note (comment) is required", "请填写说明"),
    ("a reason (comment) is required", "请填写原因"),
    ("days must be", "延期天数须为 1–60 个工作日"),
    ("a reply text is required", "请填写回复内容"),
    ("a satisfaction result is required", "请选择回访结果"),
)


def state_label(state: str | None) -> str:
    return STATE_LABELS.get(state or "", state or "")


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def refusal_reason(e: IllegalTransition) -> str:
    """The workflow's refusal in Chinese."""
    for phrase, chinese in _DETAILS:
        if phrase in e.detail:
            return chinese
    return f"工单当前状态为“{state_label(e.state)}”，不能{action_label(e.action)}"
