"""Cases as the workbench's JSON: a row per case in the lists, the full case page, the
catalogue's suggestion. Labels are zh-CN; phone numbers are masked except for the centre."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from agent_web.auth import Caller
from agent_web.case_access import caller_actions, is_centre
from agent_web.case_labels import (
    EXTENSION_LABELS,
    LIGHT_LABELS,
    SATISFACTION_LABELS,
    TYPE_LABELS,
    action_label,
    state_label,
)
from agent_web.keys import AGENTS, CASE_FILES, CATALOGUE, CLOCK, DEPARTMENTS, SLA, TAXONOMY
from agent_web.views import iso
from cases.catalogue import CatalogueEntry
from cases.errors import UnknownCategory
from cases.model import Case
from cases.sla import SlaPolicy
from cases.taxonomy import Taxonomy
from primitives.phone import PhoneNumber


@dataclass(frozen=True, slots=True)
class CaseContext:
    """What rendering cases needs, looked up once per request."""

    departments: dict[str, str]  # code -> name
    taxonomy: Taxonomy
    sla: SlaPolicy
    now: datetime

    def department_name(self, code: str | None) -> str:
        return self.departments.get(code, code) if code else ""

    def category_name(self, code: str) -> str:
        try:
            return self.taxonomy.get(code).name
        except UnknownCategory:
            return code


async def case_context(app: web.Application) -> CaseContext:
    departments = {d.code: d.name for d in await app[DEPARTMENTS].all()}
    return CaseContext(departments, app[TAXONOMY][0], app[SLA], app[CLOCK].now())


def case_row(c: Case, ctx: CaseContext) -> dict[str, Any]:
    light = ctx.sla.light(c, ctx.now)
    return {
        "number": c.number,
        "type": c.type.value,
        "type_label": TYPE_LABELS.get(c.type, c.type.value),
        "state": c.state.value,
        "state_label": state_label(c.state),
        "title": c.title,
        "address": c.address,
        "contact_phone": _masked(c.contact_phone),
        "department": c.department,
        "department_name": ctx.department_name(c.department),
        "assisting": list(c.assisting),
        "created_at": iso(c.created_at),
        "due_at": iso(c.due_at),
        "sign_by": iso(c.sign_by),
        "light": light.value,
        "light_label": LIGHT_LABELS[light],
        "supervised": c.supervised,
        "extension": c.extension.value,
        "extension_label": EXTENSION_LABELS[c.extension],
        "version": c.version,
    }


async def case_detail(app: web.Application, me: Caller, c: Case) -> dict[str, Any]:
    """{"case": …, "suggestion": …} as GET /api/v1/cases/{number} answers."""
    ctx = await case_context(app)
    names = {a.login: a.name for a in await app[AGENTS].all()}
    row = case_row(c, ctx)
    row.update(
        {
            "description": c.description,
            "category": [{"code": code, "name": ctx.category_name(code)} for code in c.category],
            "assisting_names": [ctx.department_name(d) for d in c.assisting],
            "reply": c.reply,
            "satisfaction": c.satisfaction.value if c.satisfaction else None,
            "satisfaction_label": SATISFACTION_LABELS[c.satisfaction] if c.satisfaction else "",
            "supervise_note": c.supervise_note,
            "supervise_by": iso(c.supervise_by),
            "linked": list(c.linked),
            "conversation_id": c.conversation_id,
            "channel": c.channel,
            "created_by": c.created_by,
            "accepted_at": iso(c.accepted_at),
            "dispatched_at": iso(c.dispatched_at),
            "confirmed_at": iso(c.confirmed_at),
            "closed_at": iso(c.closed_at),
            "extension_days": c.extension_days,
            "attachments": await _attachments(app, c),
            "events": [
                {
                    "seq": e.seq,
                    "action": e.action,
                    "action_label": action_label(e.action),
                    "actor": e.actor,
                    "actor_name": names.get(e.actor, e.actor),
                    "at": iso(e.at),
                    "from_state": e.from_state.value if e.from_state else None,
                    "to_state": e.to_state.value,
                    "to_state_label": state_label(e.to_state),
                    "comment": e.comment,
                    "data": dict(e.data),
                }
                for e in c.events
            ],
            "actions": [
                {"action": a.value, "label": action_label(a)} for a in caller_actions(me, c)
            ],
        }
    )
    if is_centre(me):
        row["contact_phone_full"] = _national(c.contact_phone)
    suggestion = app[CATALOGUE].suggest(c.category) if is_centre(me) else None
    return {"case": row, "suggestion": suggestion_json(suggestion, ctx)}


def suggestion_json(entry: CatalogueEntry | None, ctx: CaseContext) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "category": entry.category,
        "lead": entry.lead,
        "lead_name": ctx.department_name(entry.lead),
        "assisting": departments_json(entry.assisting, ctx),
        "due_days": entry.due_days,
    }


def departments_json(codes: Sequence[str], ctx: CaseContext) -> list[dict[str, str]]:
    return [{"code": code, "name": ctx.department_name(code)} for code in codes]


def attachment_url(number: str, file_id: str) -> str:
    return f"/api/v1/cases/{number}/attachments/{file_id}"


async def _attachments(app: web.Application, c: Case) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for file_id in c.attachments:
        stored = await app[CASE_FILES].open(file_id)
        if stored is None:  # a file the store cannot serve (gone, or a channel it cannot read)
            out.append({"id": file_id, "name": "附件", "url": None, "content_type": ""})
            continue
        out.append(
            {
                "id": file_id,
                "name": stored.file.name,
                "url": attachment_url(c.number, file_id),
                "content_type": stored.file.content_type,
                "size": stored.file.size,
            }
        )
    return out


def _masked(phone: str | None) -> str:
    return str(PhoneNumber(phone)) if phone else ""  # 138****5678


def _national(phone: str | None) -> str:
    return PhoneNumber(phone).national if phone else ""
