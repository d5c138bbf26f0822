"""Cases in MongoDB.

A transition is one atomic update guarded by the version the caller read (optimistic
concurrency): it sets the changed fields and the case's `last_event` in the same write. The
audit trail is the `case_events` collection, one document per event whose `_id`
("<case number>#<seq>") makes its copy idempotent; the event is copied there right after the
update, and reading a case copies its `last_event` again if a crash came in between, so a
case and its trail can never disagree, with or without transactions.

The case document holds no event list: every filter of a worklist is evaluated on it (on the
embedded server, by SQLite parsing the stored JSON of each candidate), so it stays the same
small size however long a case's history grows. The two-character pieces that free-text
search matches on live beside it in `case_text`, for the same reason.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from contextlib import suppress
from datetime import date, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from cases.errors import CaseNotFound
from cases.model import (
    Case,
    CaseEvent,
    CaseState,
    CaseType,
    EmergencyContact,
    ExtensionState,
    Satisfaction,
)
from cases.reminders import DEADLINE_OF, AlertKind
from cases.search import (
    DEPARTMENT_STATES,
    MAX_PER_PAGE,
    OPEN_STATES,
    RUNNING_STATES,
    CasePage,
    CaseQuery,
    Wallboard,
    Worklist,
)
from mongo.client import Database, count
from mongo.counters import MongoCounters
from primitives.errors import StaleWrite

# Fields a transition may change; everything else is fixed at creation.
_MUTABLE = (
    "state",
    "department",
    "due_at",
    "extension",
    "extension_days",
    "supervised",
    "accepted_at",
    "closed_at",
    "satisfaction",
    "reply",
    "category",
    "title",
    "description",
    "address",
    "priority",
    "tags",
    "assisting",
    "dispatched_at",
    "sign_by",
    "confirmed_at",
    "supervise_note",
    "supervise_by",
    "attachments",
    "last_event",
)


class MongoCaseRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["cases"]
        self._events = db["case_events"]
        self._text = db["case_text"]
        self._counters = MongoCounters(db)

    async def next_number(self, day: date) -> str:
        stamp = day.strftime("%Y%m%d")
        n = await self._counters.next(f"case:{stamp}")
        return f"{stamp}-{n:06d}"

    async def add(self, case: Case) -> Case:
        await self._col.insert_one(_case_to_doc(case))
        await self._index_text(case)
        for event in case.events:
            await self._copy_event(case.number, event)
        return case

    async def get(self, number: str) -> Case:
        """The case with its whole audit trail."""
        doc = await self._col.find_one({"number": number})
        if doc is None:
            raise CaseNotFound(number)
        trail = await self.audit_trail(number)
        last = doc.get("last_event")
        if last is not None and (not trail or trail[-1].seq < last["seq"]):
            event = _event_from_doc(last)  # the copy a crash prevented
            await self._copy_event(number, event)
            trail.append(event)
        return _case_from_doc(doc, tuple(trail))

    async def save(self, case: Case, before: Case) -> Case:
        """Write case's changes since before, and its new events, if the stored version is
        still before.version.

        Raises StaleWrite when someone else wrote first, CaseNotFound when it is gone.
        """
        new_doc, old_doc = _case_to_doc(case), _case_to_doc(before)
        changed = {k: new_doc[k] for k in _MUTABLE if new_doc[k] != old_doc[k]}
        update: dict[str, Any] = {"$set": changed | {"version": case.version}}
        rearmed = {f"alerts.{k.value}": "" for k, f in DEADLINE_OF.items() if f in changed}
        if rearmed:  # a moved deadline: its alerts are due again
            update["$unset"] = rearmed
        new_events = [e for e in case.events if e.seq > before.version]
        result = await self._col.update_one(
            {"number": case.number, "version": before.version}, update
        )
        if result.matched_count == 0:
            if await self._col.find_one({"number": case.number}, {"_id": 1}) is None:
                raise CaseNotFound(case.number)
            raise StaleWrite(f"case {case.number}", before.version)
        for event in new_events:
            await self._copy_event(case.number, event)
        if any(new_doc[k] != old_doc[k] for k in ("title", "description", "address")):
            await self._index_text(case)
        return case

    async def set_links(self, number: str, linked: tuple[str, ...]) -> None:
        await self._col.update_one(
            {"number": number}, {"$addToSet": {"linked": {"$each": list(linked)}}}
        )

    async def find_for_customer(
        self, customer_id: str, *, phone: str | None = None, limit: int = 50
    ) -> list[Case]:
        """The customer's cases, and those filed with their (proven) phone as the contact,
        newest first. Two indexed reads rather than one $or, which no index serves."""
        found = {}
        wheres: list[dict[str, Any]] = [{"customer_id": customer_id}]
        if phone:
            wheres.append({"contact_phone": phone})
        for where in wheres:
            cursor = self._col.find(where).sort("created_at", DESCENDING).limit(limit)
            async for d in cursor:
                found[d["number"]] = _case_from_doc(d)
        newest = sorted(found.values(), key=lambda c: c.created_at, reverse=True)
        return newest[:limit]

    async def find_open(
        self, *, department: str | None = None, state: CaseState | None = None, limit: int = 200
    ) -> list[Case]:
        # Open states listed rather than "$ne closed": an index can seek to a list of values,
        # never to "everything but", and closed cases are most of the history.
        open_states = [s.value for s in CaseState if s is not CaseState.CLOSED]
        query: dict[str, Any] = {"state": state.value if state else {"$in": open_states}}
        if department:
            query["department"] = department
        cursor = self._col.find(query).sort("due_at", 1).limit(limit)
        return [_case_from_doc(d) async for d in cursor]

    async def search(self, query: CaseQuery, now: datetime) -> CasePage:
        """One page of a worklist or search, most urgent first: supervised cases, then by due
        date (overdue ones are the earliest)."""
        per_page = max(1, min(query.per_page, MAX_PER_PAGE))
        page = max(1, query.page)
        where = case_filter(query, now, await self._text_matches(query.text, query.address))
        cursor = (
            self._col.find(where)
            .sort([("supervised", DESCENDING), ("due_at", 1), ("number", 1)])
            .skip((page - 1) * per_page)
            .limit(per_page)
        )
        found = [_case_from_doc(d) async for d in cursor]
        total = await count(self._col, where)
        return CasePage(found, total, page, per_page)

    async def similar_open(
        self, *, phone: str | None, address: str, category: str, since: datetime, limit: int = 10
    ) -> list[Case]:
        """Open cases of the same category from the same phone or at the same address since
        a date: candidates for merging a repeat report (并单)."""
        same: list[dict[str, Any]] = []
        if phone:
            same.append({"contact_phone": phone})
        if address.strip():
            at = await self._text_matches("", address)
            same.append({"number": {"$in": at}} if at is not None else {"address": address})
        if not same:
            return []
        where: dict[str, Any] = {
            "state": {"$in": sorted(s.value for s in OPEN_STATES)},
            "created_at": {"$gte": since},
            "$or": same,
        }
        if category:
            where["category"] = category
        cursor = self._col.find(where).sort("created_at", DESCENDING).limit(limit)
        return [_case_from_doc(d) async for d in cursor]

    async def wallboard(self, now: datetime, day_end: datetime) -> Wallboard:
        running = {"state": {"$in": sorted(s.value for s in RUNNING_STATES)}}
        open_ = {"state": {"$in": sorted(s.value for s in OPEN_STATES)}}
        col = self._col
        return Wallboard(
            open=await count(col, open_),
            overdue=await count(col, running | {"due_at": {"$lt": now}}),
            due_today=await count(col, running | {"due_at": {"$gte": now, "$lt": day_end}}),
            awaiting_audit=await count(col, _AWAITING_AUDIT),
            sign_off_late=await count(
                col, {"state": CaseState.DISPATCHED.value, "sign_by": {"$lt": now}}
            ),
            to_revisit=await count(col, {"state": CaseState.REPLIED.value}),
        )

    async def alert_candidates(
        self, kind: AlertKind, now: datetime, horizon: datetime, *, limit: int
    ) -> list[Case]:
        field = DEADLINE_OF[kind]
        # due soon: still ahead (the overdue ones are another alert's, and sorting them first
        # would fill every batch with cases this alert skips)
        window = {"$gte": now, "$lt": horizon} if kind is AlertKind.DUE_SOON else {"$lt": horizon}
        where: dict[str, Any] = {field: window, f"alerts.{kind.value}": {"$exists": False}}
        if kind in (AlertKind.DUE_SOON, AlertKind.OVERDUE):
            where["state"] = {"$in": sorted(s.value for s in RUNNING_STATES)}
        elif kind is AlertKind.SIGN_OFF_LATE:
            where["state"] = CaseState.DISPATCHED.value
        else:
            where["state"] = {"$in": sorted(s.value for s in OPEN_STATES)}
        if kind is AlertKind.TODO_DUE:
            where["type"] = CaseType.TODO.value
        cursor = self._col.find(where).sort(field, 1).limit(limit)
        return [_case_from_doc(d) async for d in cursor]

    async def mark_alerted(self, number: str, kind: AlertKind, deadline: datetime) -> bool:
        # alerts.<kind> holds the deadline it was raised for; a moved deadline unsets it (save)
        result = await self._col.update_one(
            {"number": number, f"alerts.{kind.value}": {"$exists": False}},
            {"$set": {f"alerts.{kind.value}": deadline}},
        )
        return result.modified_count == 1

    async def audit_trail(self, number: str) -> list[CaseEvent]:
        """Events of one case from the cross-case audit collection, in order."""
        cursor = self._events.find({"case_number": number}).sort("seq", 1)
        return [_event_from_doc(d) async for d in cursor]

    async def _text_matches(self, text: str, address: str) -> list[str] | None:
        """Numbers of the newest cases whose text and address hold every two-character piece
        of the queries (None: no such query, or one too short to cut into pieces)."""
        where: dict[str, Any] = {}
        if len(pieces := grams(text)):
            where["text_grams"] = {"$all": pieces}
        if len(pieces := grams(address)):
            where["address_grams"] = {"$all": pieces}
        if not where:
            return None
        cursor = self._text.find(where, {"_id": 1}).sort("created_at", DESCENDING)
        return [d["_id"] async for d in cursor.limit(MAX_TEXT_MATCHES)]

    async def _index_text(self, case: Case) -> None:
        doc = case_text_document(case)
        await self._text.replace_one({"_id": doc.pop("_id")}, doc, upsert=True)

    async def _copy_event(self, number: str, event: CaseEvent) -> None:
        doc = _event_to_doc(event) | {"_id": f"{number}#{event.seq:05d}", "case_number": number}
        with suppress(DuplicateKeyError):  # a retried copy of an event already recorded
            await self._events.insert_one(doc)


def case_filter(q: CaseQuery, now: datetime, matching: list[str] | None = None) -> dict[str, Any]:
    """The MongoDB filter of a worklist plus search fields; matching: the numbers that free
    text and address search found in `case_text` (None: no such search, or one character,
    matched by a regex here)."""
    where: dict[str, Any] = {}
    states: frozenset[CaseState] | None = None
    w = q.worklist
    if w is Worklist.MINE:
        where["created_by"] = q.actor
        states = OPEN_STATES
    elif w is Worklist.TO_ACCEPT:
        states = frozenset({CaseState.NEW})
    elif w is Worklist.OVERDUE:
        states = RUNNING_STATES
        where["due_at"] = {"$lt": now}
    elif w is Worklist.AUDIT:
        where |= _AWAITING_AUDIT
    elif w is Worklist.RETURNED:
        states = frozenset({CaseState.RETURNED})
    elif w is Worklist.TO_REVISIT:
        states = frozenset({CaseState.REPLIED})
    elif w is Worklist.TODO_DUE:
        states = OPEN_STATES
        where["type"] = CaseType.TODO.value
        where["remind_at"] = {"$lte": now}
    elif w is Worklist.SIGN_OFF_LATE:
        states = frozenset({CaseState.DISPATCHED})
        where["sign_by"] = {"$lt": now}
    elif w is Worklist.SUPERVISED:
        states = OPEN_STATES
        where["supervised"] = True
    elif w is Worklist.DEPARTMENT:
        states = DEPARTMENT_STATES | {CaseState.REPLIED, CaseState.RETURNED}
        where["$or"] = [{"department": q.department}, {"assisting": q.department}]
    if q.state is not None:
        if states is not None and q.state not in states:
            return {"_id": {"$in": []}}  # the worklist excludes that state: nothing
        states = frozenset({q.state})
    if states is not None:
        where["state"] = (
            next(iter(states)).value
            if len(states) == 1
            else {"$in": sorted(s.value for s in states)}
        )
    if q.department and w is not Worklist.DEPARTMENT:
        where["department"] = q.department
    if q.number.strip():
        where["number"] = q.number.strip()
    if q.phone:
        where["contact_phone"] = q.phone
    if q.type is not None:
        where["type"] = q.type.value
    if q.category:
        where["category"] = q.category
    if matching is not None:
        wanted = q.number.strip()
        where["number"] = {"$in": [n for n in matching if not wanted or n == wanted]}
    if q.address.strip() and not grams(q.address):
        where["address"] = {"$regex": re.escape(q.address.strip())}
    if q.text.strip() and not grams(q.text):
        pattern = {"$regex": re.escape(q.text.strip())}
        where["$and"] = [{"$or": [{"title": pattern}, {"description": pattern}]}]
    created: dict[str, datetime] = {}
    if q.created_from is not None:
        created["$gte"] = q.created_from
    if q.created_to is not None:
        created["$lt"] = q.created_to
    if created:
        where["created_at"] = created
    return where


_AWAITING_AUDIT: dict[str, Any] = {
    "$or": [{"state": CaseState.RETURNED.value}, {"extension": "requested"}]
}
_MAX_GRAMS = 600
# A free-text search looks at this many of the newest matching cases ("too many: narrow it").
MAX_TEXT_MATCHES = 1000


def grams(text: str) -> list[str]:
    """The distinct two-character pieces of text (NFKC, lower case, spaces and punctuation
    dropped): what substring search on Chinese text matches against."""
    chars = [c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum()]
    found = dict.fromkeys(a + b for a, b in itertools.pairwise(chars))
    return list(found)[:_MAX_GRAMS]


def _event_to_doc(e: CaseEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "action": e.action,
        "actor": e.actor,
        "at": e.at,
        "from": e.from_state.value if e.from_state else None,
        "to": e.to_state.value,
        "comment": e.comment,
        "data": dict(e.data),
    }


def _event_from_doc(d: Mapping[str, Any]) -> CaseEvent:
    return CaseEvent(
        seq=d["seq"],
        action=d["action"],
        actor=d["actor"],
        at=d["at"],
        from_state=CaseState(d["from"]) if d.get("from") else None,
        to_state=CaseState(d["to"]),
        comment=d.get("comment", ""),
        data=tuple(sorted((d.get("data") or {}).items())),
    )


def case_document(c: Case) -> dict[str, Any]:
    """The stored form of a case (bulk loads: bench/cases.py)."""
    return _case_to_doc(c)


def case_from_document(d: Mapping[str, Any]) -> Case:
    """A stored case as read by a list (its last event only)."""
    return _case_from_doc(d)


def case_text_document(c: Case) -> dict[str, Any]:
    """What free-text and address search match on, in `case_text`."""
    return {
        "_id": c.number,
        "text_grams": grams(c.title + " " + c.description),
        "address_grams": grams(c.address),
        "created_at": c.created_at,
    }


def _case_to_doc(c: Case) -> dict[str, Any]:
    return {
        "number": c.number,
        "type": c.type.value,
        "state": c.state.value,
        "title": c.title,
        "description": c.description,
        "category": list(c.category),
        "customer_id": c.customer_id,
        "conversation_id": c.conversation_id,
        "channel": c.channel,
        "contact_phone": c.contact_phone,
        "address": c.address,
        "department": c.department,
        "priority": c.priority,
        "created_at": c.created_at,
        "due_at": c.due_at,
        "version": c.version,
        "extension": c.extension.value,
        "extension_days": c.extension_days,
        "supervised": c.supervised,
        "emergency_contacts": [
            {"name": e.name, "phone": e.phone, "relation": e.relation} for e in c.emergency_contacts
        ],
        "remind_at": c.remind_at,
        "linked": list(c.linked),
        "tags": sorted(c.tags),
        "accepted_at": c.accepted_at,
        "closed_at": c.closed_at,
        "satisfaction": c.satisfaction.value if c.satisfaction else None,
        "reply": c.reply,
        "last_event": _event_to_doc(c.events[-1]) if c.events else None,
        "text_indexed": True,  # its case_text entry is written with it (migrations.py)
        "created_by": c.created_by,
        "assisting": list(c.assisting),
        "dispatched_at": c.dispatched_at,
        "sign_by": c.sign_by,
        "confirmed_at": c.confirmed_at,
        "supervise_note": c.supervise_note,
        "supervise_by": c.supervise_by,
        "attachments": list(c.attachments),
    }


def _case_from_doc(d: Mapping[str, Any], events: tuple[CaseEvent, ...] | None = None) -> Case:
    """events: the whole trail (get); lists carry only the last event."""
    if events is None:
        last = d.get("last_event")
        events = (_event_from_doc(last),) if last else ()
    return Case(
        number=d["number"],
        type=CaseType(d["type"]),
        state=CaseState(d["state"]),
        title=d["title"],
        description=d.get("description", ""),
        category=tuple(d.get("category", ())),
        customer_id=d.get("customer_id"),
        conversation_id=d.get("conversation_id"),
        channel=d.get("channel", ""),
        contact_phone=d.get("contact_phone"),
        address=d.get("address", ""),
        department=d.get("department"),
        priority=d.get("priority", 0),
        created_at=d["created_at"],
        due_at=d["due_at"],
        version=d["version"],
        extension=ExtensionState(d.get("extension", "none")),
        extension_days=d.get("extension_days"),
        supervised=d.get("supervised", False),
        emergency_contacts=tuple(EmergencyContact(**e) for e in d.get("emergency_contacts", [])),
        remind_at=d.get("remind_at"),
        linked=tuple(d.get("linked", ())),
        tags=frozenset(d.get("tags", ())),
        accepted_at=d.get("accepted_at"),
        closed_at=d.get("closed_at"),
        satisfaction=Satisfaction(d["satisfaction"]) if d.get("satisfaction") else None,
        reply=d.get("reply", ""),
        events=events,
        created_by=d.get("created_by", ""),
        assisting=tuple(d.get("assisting", ())),
        dispatched_at=d.get("dispatched_at"),
        sign_by=d.get("sign_by"),
        confirmed_at=d.get("confirmed_at"),
        supervise_note=d.get("supervise_note", ""),
        supervise_by=d.get("supervise_by"),
        attachments=tuple(d.get("attachments", ())),
    )
