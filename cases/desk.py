"""Opening cases and moving them through the workflow: the one place that writes cases."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Protocol

from cases.model import Case, CaseEvent, CaseState, CaseType, NewCase
from cases.sla import DuePolicy
from cases.taxonomy import Taxonomy
from cases.workflow import CaseCommand, apply_command
from primitives.clock import Clock
from primitives.errors import InvalidInput, StaleWrite
from primitives.local_time import LOCAL_TZ
from primitives.phone import PhoneNumber

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_DESCRIPTION = 5000

CaseListener = Callable[[Case], Awaitable[None]]


class CaseRepository(Protocol):
    async def next_number(self, day: date) -> str:
        """A new unique number YYYYMMDD-NNNNNN from an atomic counter for that local day."""
        ...

    async def add(self, case: Case) -> Case: ...

    async def get(self, number: str) -> Case:
        """Raises CaseNotFound."""
        ...

    async def save(self, case: Case, before: Case) -> Case:
        """Store case's changes since before. Raises StaleWrite when the stored version is
        no longer before.version (someone else wrote first)."""
        ...

    async def set_links(self, number: str, linked: tuple[str, ...]) -> None: ...

    async def find_for_customer(
        self, customer_id: str, *, phone: str | None = None, limit: int = 50
    ) -> list[Case]:
        """The customer's cases and those whose contact phone is phone, newest first."""
        ...

    async def audit_trail(self, number: str) -> list[CaseEvent]: ...


class CaseDesk:
    """Opens cases and applies workflow commands with optimistic concurrency."""

    def __init__(
        self,
        repo: CaseRepository,
        taxonomy: Callable[[], Taxonomy],
        due: DuePolicy,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._taxonomy = taxonomy
        self._due = due
        self._clock = clock
        self._listeners: list[CaseListener] = []

    def on_change(self, listener: CaseListener) -> None:
        """Call listener with the case after every stored change (its last event says which);
        notifications hang here. A failing listener is logged, never undoes the change."""
        self._listeners.append(listener)

    async def _announce(self, case: Case) -> None:
        for listener in self._listeners:
            try:
                await listener(case)
            except Exception:
                log.exception("case.listener_failed", extra={"case": case.number})

    async def open(self, new: NewCase, actor: str) -> Case:
        """Validate and store a new case in state new. Raises InvalidInput, UnknownCategory."""
        _validate_new(new)
        category = self._taxonomy().validate_path(new.category)
        phone = _phone(new.contact_phone)  # every check before a number is taken: none is burnt
        now = self._clock.now()
        due_at = self._due.due_at(new.type, now, new.remind_at)
        number = await self._repo.next_number(now.astimezone(LOCAL_TZ).date())
        created = CaseEvent(1, "create", actor, now, None, CaseState.NEW)
        case = Case(
            number=number,
            type=new.type,
            state=CaseState.NEW,
            title=new.title.strip(),
            description=new.description.strip(),
            category=category,
            customer_id=new.customer_id,
            conversation_id=new.conversation_id,
            channel=new.channel,
            contact_phone=phone,
            address=new.address.strip(),
            department=new.department,
            priority=new.priority if new.type is not CaseType.EMERGENCY else max(new.priority, 100),
            created_at=now,
            due_at=due_at,
            version=1,
            emergency_contacts=new.emergency_contacts,
            remind_at=new.remind_at,
            linked=tuple(dict.fromkeys(new.linked)),
            tags=new.tags,
            events=(created,),
            created_by=actor,
            attachments=new.attachments,
        )
        await self._repo.add(case)
        for other in case.linked:
            await self._repo.set_links(other, (number,))
        log.info("case.opened", extra={"case": number, "type": new.type.value, "actor": actor})
        await self._announce(case)
        return case

    async def act(
        self, number: str, cmd: CaseCommand, *, expected_version: int | None = None
    ) -> Case:
        """Apply cmd to the stored case.

        expected_version is the version the user saw; if the case changed since, StaleWrite is
        raised instead of silently overwriting their colleague's work.
        """
        case = await self._repo.get(number)
        if expected_version is not None and expected_version != case.version:
            raise StaleWrite(f"case {number}", expected_version)
        after = apply_command(case, cmd, self._clock.now(), self._due)
        await self._repo.save(after, case)
        log.info(
            "case.transition",
            extra={"case": number, "action": cmd.action.value, "to": after.state.value},
        )
        await self._announce(after)
        return after

    async def link(self, number: str, other: str) -> Case:
        """Link two cases about the same event (both ways)."""
        if number == other:
            raise InvalidInput("a case cannot be linked to itself")
        await self._repo.get(other)
        await self._repo.set_links(number, (other,))
        await self._repo.set_links(other, (number,))
        return await self._repo.get(number)

    async def attach(self, number: str, file_ids: tuple[str, ...], *, actor: str) -> Case:
        """Add files to a case (a call's recording, say): an audited change, state kept."""
        case = await self._repo.get(number)
        new = tuple(f for f in dict.fromkeys(file_ids) if f not in case.attachments)
        if not new:
            return case
        event = CaseEvent(
            case.version + 1,
            "attach",
            actor,
            self._clock.now(),
            case.state,
            case.state,
            data=(("attachments", ",".join(new)),),
        )
        after = replace(
            case,
            attachments=(*case.attachments, *new),
            version=event.seq,
            events=(*case.events, event),
        )
        return await self._repo.save(after, case)

    @property
    def cases(self) -> CaseRepository:
        """The repository, for reads (a customer's cases)."""
        return self._repo

    async def edit_category(
        self, number: str, codes: tuple[str, ...], *, actor: str, expected_version: int
    ) -> Case:
        """Re-categorise a case (an audited change like any other)."""
        case = await self._repo.get(number)
        if expected_version != case.version:
            raise StaleWrite(f"case {number}", expected_version)
        path = self._taxonomy().validate_path(codes)
        event = CaseEvent(
            case.version + 1,
            "recategorize",
            actor,
            self._clock.now(),
            case.state,
            case.state,
            data=(("category", "/".join(path)),),
        )
        after = replace(case, category=path, version=event.seq, events=(*case.events, event))
        return await self._repo.save(after, case)


def _validate_new(new: NewCase) -> None:
    if not new.title.strip():
        raise InvalidInput("请填写工单标题")
    if len(new.title) > MAX_TITLE or len(new.description) > MAX_DESCRIPTION:
        raise InvalidInput(f"标题不超过 {MAX_TITLE} 字，诉求内容不超过 {MAX_DESCRIPTION} 字")
    if new.type is CaseType.TODO and new.remind_at is None:
        raise InvalidInput("待办工单需要设置提醒时间")
    if new.type is CaseType.EMERGENCY and not (new.emergency_contacts or new.contact_phone):
        raise InvalidInput("紧急工单需要填写联系电话或紧急联系人")


def _phone(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return PhoneNumber.parse(text).e164
    except ValueError as e:
        raise InvalidInput("联系电话格式不正确，请填写11位手机号或带区号的固定电话") from e
