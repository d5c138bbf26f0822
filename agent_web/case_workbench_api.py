"""The case workbench (agents, supervisors) and the department portal, over one API.

GET  /api/v1/cases?list=&number=&phone=&address=&text=&type=&category=&department=&state=
                   &from=YYYY-MM-DD&to=YYYY-MM-DD&page=&per_page=   worklists and search
GET  /api/v1/cases/similar?phone=&address=&category=     open cases a report may repeat (并单)
GET  /api/v1/cases/{number}                              the case page and what the caller may do
POST /api/v1/cases/{number}/actions                      {"action","version",…} → {"case"}
POST /api/v1/cases/{number}/attachments                  multipart "file" → 201 {"attachment"}
GET  /api/v1/cases/{number}/attachments/{id}             the file, as a download
GET  /api/v1/supervisor/case-board                       the wallboard's case counters

Department staff always get their own department's inbox and see only the cases their
department leads or assists (any other number is a 404). Errors are in Chinese.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web

from agent_web.auth import Caller, refusal, requires
from agent_web.case_access import (
    action_refusal,
    is_centre,
    may_do,
    portal_department,
    visible_case,
)
from agent_web.case_files import FILE_ID, MAX_BYTES
from agent_web.case_labels import STALE, refusal_reason
from agent_web.case_views import attachment_url, case_context, case_detail, case_row
from agent_web.json_input import read_json
from agent_web.keys import CASE_DESK, CASE_FILES, CASE_FINDER, CLOCK, DEPARTMENTS
from cases.desk import CaseDesk
from cases.errors import IllegalTransition
from cases.model import Case, CaseState, CaseType, Satisfaction
from cases.search import MAX_PER_PAGE, CaseQuery, Worklist
from cases.workflow import CaseAction, CaseCommand
from primitives.errors import StaleWrite
from primitives.local_time import LOCAL_TZ
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from routing.agents import Role

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT)
CENTRE = (Role.AGENT, Role.SUPERVISOR)
SIMILAR_WITHIN = timedelta(days=30)
MAX_PAGE = 10_000
_UPLOAD_CHUNK = 64 * 1024
E = TypeVar("E", bound=StrEnum)


# ---------------------------------------------------------------- lists and search


@requires(*STAFF)
async def list_cases(request: web.Request, me: Caller) -> web.Response:
    q = request.query
    if is_centre(me):
        worklist = _choice(Worklist, q.get("list") or "all", "工单列表")
        department = _short(q, "department") or None
        if worklist is Worklist.DEPARTMENT and department is None:
            raise bad("查看部门收件箱时请指定部门（department）")
    else:  # a department's own inbox, whatever was asked
        worklist, department = Worklist.DEPARTMENT, portal_department(me)
    query = CaseQuery(
        worklist=worklist,
        actor=me.login,
        department=department,
        number=_short(q, "number"),
        phone=_phone(q.get("phone")) or "",
        address=_short(q, "address", 100),
        text=_short(q, "text", 100),
        type=_choice(CaseType, q["type"], "工单类型") if q.get("type") else None,
        category=_short(q, "category"),
        state=_choice(CaseState, q["state"], "工单状态") if q.get("state") else None,
        created_from=_day(q.get("from"), "from"),
        created_to=_day(q.get("to"), "to", next_day=True),
        page=_int(q, "page", 1, MAX_PAGE, 1),
        per_page=_int(q, "per_page", 1, MAX_PER_PAGE, 20),
    )
    if query.created_from and query.created_to and query.created_from >= query.created_to:
        raise bad("开始日期不能晚于结束日期")
    found = await request.app[CASE_FINDER].search(query, request.app[CLOCK].now())
    ctx = await case_context(request.app)
    return web.json_response(
        {
            "cases": [case_row(c, ctx) for c in found.cases],
            "total": found.total,
            "page": found.page,
            "per_page": found.per_page,
        }
    )


@requires(*CENTRE)
async def similar(request: web.Request, me: Caller) -> web.Response:
    q = request.query
    phone = _phone(q.get("phone"))
    address = _short(q, "address", 300)
    codes = [c.strip() for c in (q.get("category") or "").split(",") if c.strip()]
    if not phone and not address.strip():
        return web.json_response({"cases": []})
    since = request.app[CLOCK].now() - SIMILAR_WITHIN
    found = await request.app[CASE_FINDER].similar_open(
        phone=phone, address=address, category=codes[-1] if codes else "", since=since
    )
    ctx = await case_context(request.app)
    return web.json_response({"cases": [case_row(c, ctx) for c in found]})


@requires(Role.SUPERVISOR)
async def case_board(request: web.Request, me: Caller) -> web.Response:
    now = request.app[CLOCK].now()
    tomorrow = now.astimezone(LOCAL_TZ).date() + timedelta(days=1)
    board = await request.app[CASE_FINDER].wallboard(
        now, datetime.combine(tomorrow, time(), LOCAL_TZ)
    )
    return web.json_response(
        {
            "open": board.open,
            "overdue": board.overdue,
            "due_today": board.due_today,
            "awaiting_audit": board.awaiting_audit,
            "sign_off_late": board.sign_off_late,
            "to_revisit": board.to_revisit,
        }
    )


# ---------------------------------------------------------------- one case


@requires(*STAFF)
async def get_case(request: web.Request, me: Caller) -> web.Response:
    case = await visible_case(request.app, me, request.match_info["number"])
    return web.json_response(await case_detail(request.app, me, case))


@requires(*STAFF)
async def act(request: web.Request, me: Caller) -> web.Response:
    case = await visible_case(request.app, me, request.match_info["number"])
    body = await read_json(request)
    action = _choice(CaseAction, body.get("action"), "操作")
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise bad("缺少工单版本号（version），请刷新后重试")
    if not may_do(me, case, action):
        raise action_refusal(action)
    cmd = await _command(request.app, body, action, me, case)
    after = await apply(request.app[CASE_DESK], case.number, cmd, version)
    return web.json_response(await case_detail(request.app, me, after))


async def apply(desk: CaseDesk, number: str, cmd: CaseCommand, version: int | None) -> Case:
    """desk.act, its refusals in Chinese: 409 stale, 409 for the state, 400 for the input."""
    try:
        return await desk.act(number, cmd, expected_version=version)
    except StaleWrite:
        raise refusal(409, "stale", STALE) from None
    except IllegalTransition as e:
        if e.missing:
            raise refusal(400, "bad_request", refusal_reason(e)) from None
        raise refusal(409, "illegal_transition", refusal_reason(e)) from None


async def _command(
    app: web.Application, body: dict[str, Any], action: CaseAction, me: Caller, case: Case
) -> CaseCommand:
    department = _field(body, "department", 64) or None
    assisting = _codes(body, "assisting")
    if action is CaseAction.DISPATCH:
        active = {d.code for d in await app[DEPARTMENTS].all() if d.active}
        for code in (department, *assisting):
            if code is not None and code not in active:
                raise bad(f"承办单位 {code} 不存在")
    satisfaction = _field(body, "satisfaction", 32)
    if satisfaction and satisfaction not in {s.value for s in Satisfaction}:
        raise bad("回访结果无效，请选择 满意 / 一般 / 不满意 / 无法联系")
    return CaseCommand(
        action=action,
        actor=me.login,
        comment=_field(body, "comment", 2000),
        department=department if action is CaseAction.DISPATCH else None,
        days=_optional_int(body, "days", "延期天数"),
        reply=_field(body, "reply", 5000),
        satisfaction=Satisfaction(satisfaction) if satisfaction else None,
        assisting=tuple(assisting) if action is CaseAction.DISPATCH else (),
        due_days=_optional_int(body, "due_days", "办理时限"),
        attachments=await _own_files(app, body, case),
        until=_until(body.get("until")),
    )


async def _own_files(app: web.Application, body: dict[str, Any], case: Case) -> tuple[str, ...]:
    """Attachment ids of files uploaded for this case (or already on it)."""
    ids = _codes(body, "attachments")
    for file_id in ids:
        if file_id in case.attachments:
            continue
        stored = await app[CASE_FILES].open(file_id)
        if stored is None or stored.file.case_number != case.number:
            raise bad("附件不存在或不属于该工单，请重新上传")
    return tuple(ids)


# ---------------------------------------------------------------- attachments


@requires(*STAFF)
async def upload(request: web.Request, me: Caller) -> web.Response:
    case = await visible_case(request.app, me, request.match_info["number"])
    if not request.content_type.startswith("multipart/"):
        raise bad("请以 multipart/form-data 上传文件（字段 file）")
    if request.content_length is not None and request.content_length > MAX_BYTES + 64 * 1024:
        raise refusal(413, "too_large", "文件超过 10 MB")
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            raise bad("请选择要上传的文件（字段 file）")
        if isinstance(part, BodyPartReader) and part.name == "file":
            break
        await part.release()
    data = bytearray()
    while chunk := await part.read_chunk(_UPLOAD_CHUNK):
        data += chunk
        if len(data) > MAX_BYTES:
            raise refusal(413, "too_large", "文件超过 10 MB")
    # browsers send the name as UTF-8, some clients (aiohttp's) percent-encoded: read both
    name = unquote(part.filename or "附件")
    file = await request.app[CASE_FILES].save(case.number, name, bytes(data), me.login)
    attachment = {
        "id": file.id,
        "name": file.name,
        "url": attachment_url(case.number, file.id),
        "content_type": file.content_type,
        "size": file.size,
    }
    return web.json_response({"attachment": attachment}, status=201)


@requires(*STAFF)
async def download(request: web.Request, me: Caller) -> web.StreamResponse:
    case = await visible_case(request.app, me, request.match_info["number"])
    file_id = request.match_info["file_id"]
    stored = await request.app[CASE_FILES].open(file_id)
    if stored is None or not (
        file_id in case.attachments or stored.file.case_number == case.number
    ):
        raise refusal(404, "not_found", "附件不存在")
    ascii_name = stored.file.name.encode("ascii", "replace").decode().replace('"', "_")
    disposition = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.file.name)}"
    )
    return web.FileResponse(
        stored.path,
        headers={
            "Content-Type": stored.file.content_type,
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------- reading input (zh-CN errors)


def bad(reason: str) -> web.HTTPException:
    return refusal(400, "bad_request", reason)


def _choice(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise bad(f"{what}无效：{str(value)[:32]}") from None


def _short(q: Any, name: str, max_len: int = 64) -> str:
    value = q.get(name) or ""
    if len(value) > max_len:
        raise bad(f"参数 {name} 过长（最多 {max_len} 个字符）")
    return value.strip()


def _int(q: Any, name: str, low: int, high: int, default: int) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"参数 {name} 须为整数") from None
    if not low <= value <= high:
        raise bad(f"参数 {name} 须在 {low}–{high} 之间")
    return value


def _phone(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return PhoneNumber.parse(raw).e164
    except InvalidPhoneNumber:
        raise bad("电话号码格式不正确") from None


def _day(raw: str | None, name: str, *, next_day: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise bad(f"日期 {name} 格式应为 YYYY-MM-DD") from None
    if next_day:  # "to" includes the whole day
        day += timedelta(days=1)
    return datetime.combine(day, time(), LOCAL_TZ)


def _field(body: dict[str, Any], name: str, max_len: int) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad(f"字段 {name} 须为文本")
    if len(value) > max_len:
        raise bad(f"字段 {name} 过长（最多 {max_len} 个字符）")
    return value


def _codes(body: dict[str, Any], name: str, max_items: int = 20) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > max_items
        or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value)
    ):
        raise bad(f"字段 {name} 须为不超过 {max_items} 项的列表")
    return list(dict.fromkeys(value))


def _optional_int(body: dict[str, Any], name: str, what: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{what}须为整数（工作日）")
    return value


def _until(raw: object) -> datetime | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise bad("督办时限格式不正确")
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise bad("督办时限格式不正确") from None
    return at if at.tzinfo else at.replace(tzinfo=LOCAL_TZ)


def add_routes(app: web.Application) -> None:
    # /similar before /{number}: routes match in the order they were added
    app.router.add_get("/api/v1/cases", list_cases)
    app.router.add_get("/api/v1/cases/similar", similar)
    app.router.add_get("/api/v1/cases/{number}", get_case)
    app.router.add_post("/api/v1/cases/{number}/actions", act)
    app.router.add_post("/api/v1/cases/{number}/attachments", upload)
    app.router.add_get(f"/api/v1/cases/{{number}}/attachments/{{file_id:{FILE_ID}}}", download)
    app.router.add_get("/api/v1/supervisor/case-board", case_board)
