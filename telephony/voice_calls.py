"""Calls in the hub: the IVR's services (telephony/ivr/services.py) on the router, the ACD and
the case desk, whatever transport carries the audio.

A call is a conversation of media "voice" from its first ring: the caller is found (or
created) by caller id before anything is played, recognised questions go through the router
like any channel's messages (stored first, answered by the bot), and a transfer puts the call
in the same skills queues as the chats, where a call takes an agent's whole capacity. When the
ACD assigns it, the call control rings the agent's endpoint and bridges them. Every call
leaves one CallRecord (wait, talk, outcome, survey, recording) for reports."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cases.desk import CaseDesk
from cases.model import Case, CaseState, CaseType, NewCase, Satisfaction
from cases.status import CaseStatusDesk
from cases.workflow import CaseAction, CaseCommand
from primitives.errors import HubError
from primitives.phone import PhoneNumber
from routing.agent_desk import AgentDesk
from routing.agents import AgentRepository
from routing.conversation_model import (
    WAITING,
    WITH_AGENT,
    Conversation,
    ConversationState,
    Priority,
)
from routing.customers import Customer, Identity, IdentityKind
from routing.events import (
    ConversationAssigned,
    ConversationClosed,
    ConversationUnassigned,
    Event,
    QueuePosition,
)
from routing.messages import Attachment, InboundMessage
from routing.policy import Action, Decision
from routing.router import Router
from routing.turns import new_conversation
from telephony.call_control import CallControl
from telephony.call_records import CallOutcome, CallRecord, CallRecordRepository
from telephony.ivr.services import (
    AgentLeft,
    BotTurn,
    CallerFacts,
    CallInfo,
    CaseFiled,
    Connected,
    NoAgents,
    Position,
    WaitUpdate,
)
from telephony.recordings import RecordingStore

log = logging.getLogger(__name__)

CHANNEL = "voice"
SURVEY = {"1": Satisfaction.SATISFIED, "2": Satisfaction.NEUTRAL, "3": Satisfaction.DISSATISFIED}
# how often a waiting caller gets a fresh position even when the queue did not move
POSITION_EVERY_S = 30.0
# the agent's phone leaves the call when the call is handed to someone else; a lost inbox
# connection (disconnected) leaves the phone call alone
_HANDED_ON = frozenset({"transferred", "taken_over"})


@dataclass(slots=True, eq=False)
class LiveCall:
    info: CallInfo
    transport: str
    customer: Customer
    identity: Identity
    conversation_id: str
    record: CallRecord
    updates: asyncio.Queue[WaitUpdate] = field(default_factory=asyncio.Queue)
    turns: itertools.count = field(default_factory=lambda: itertools.count(1))
    hung_up: bool = False

    @property
    def phone(self) -> str | None:
        """The caller's number (E.164), or None for a withheld caller id."""
        return self.identity.value if self.identity.kind is IdentityKind.PHONE else None


class VoiceCalls:
    """IvrServices for every live call; one instance per hub."""

    def __init__(
        self,
        *,
        router: Router,
        desk: AgentDesk,
        agents: AgentRepository,
        cases: CaseDesk,
        case_status: CaseStatusDesk | None,
        records: CallRecordRepository,
        recordings: RecordingStore,
        dialed: str = "12345",
    ) -> None:
        self._router = router
        self._desk = desk
        self._agents = agents
        self._cases = cases
        self._case_status = case_status
        self._records = records
        self._recordings = recordings
        self._dialed = dialed
        self._controls: dict[str, CallControl] = {}  # transport name -> its call control
        self._calls: dict[str, LiveCall] = {}  # call id -> call
        self._by_conversation: dict[str, str] = {}  # conversation id -> call id
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ wiring

    def add_control(self, transport: str, control: CallControl) -> None:
        self._controls[transport] = control

    async def relay(self) -> None:
        """Run for the hub's life: queue positions and assignments reach the waiting calls."""
        interesting = (QueuePosition, ConversationAssigned, ConversationUnassigned)
        async with self._router.bus.subscribe(
            lambda e: (
                isinstance(e, (*interesting, ConversationClosed))
                and getattr(e, "conversation_id", "") in self._by_conversation
            )
        ) as events:
            async for event in events:
                try:
                    await self._on_event(event)
                except Exception:
                    log.exception("voice.event_failed", extra={"event": type(event).__name__})

    def live(self, call_id: str) -> LiveCall | None:
        return self._calls.get(call_id)

    def call_for_conversation(self, conversation_id: str) -> LiveCall | None:
        call_id = self._by_conversation.get(conversation_id)
        return self._calls.get(call_id) if call_id else None

    def live_calls(self) -> list[LiveCall]:
        return list(self._calls.values())

    @property
    def active(self) -> int:
        return len(self._calls)

    # ------------------------------------------------------------ IvrServices

    async def begin(self, info: CallInfo, transport: str) -> LiveCall:
        """The call arrived: its customer (by caller id) and its conversation, stored."""
        now = self._router.clock.now()
        identity = _identity(info)
        customer = await self._router.customers.get_or_create(identity, name="")
        msg = InboundMessage(
            channel=CHANNEL,
            account=info.dialed or self._dialed,
            provider_id=f"{info.call_id}/call",
            identity=identity,
            text="",
            received_at=now,
        )
        conv = await self._router.book.add(new_conversation(customer, msg, now))
        record = CallRecord(
            call_id=info.call_id,
            conversation_id=conv.id,
            customer_id=customer.id,
            caller=identity.value if identity.kind is IdentityKind.PHONE else "",
            dialed=info.dialed or self._dialed,
            transport=transport,
            started_at=now,
        )
        await self._records.save(record)
        call = LiveCall(info, transport, customer, identity, conv.id, record)
        self._calls[info.call_id] = call
        self._by_conversation[conv.id] = info.call_id
        log.info("voice.call_started", extra={"call": info.call_id, "conversation": conv.id})
        return call

    async def lookup(self, info: CallInfo) -> CallerFacts:
        call = self._call(info)
        customer = call.customer
        open_cases = 0
        if call.phone:
            mine = await self._cases.cases.find_for_customer(
                customer.id, phone=call.phone, limit=20
            )
            open_cases = sum(1 for c in mine if c.state is not CaseState.CLOSED)
        general = self._router.config.queues.get("general")
        hours = general.hours if general else None
        return CallerFacts(
            known=customer.created_at < call.record.started_at - timedelta(seconds=5),
            elderly=customer.is_elderly,
            vip=customer.is_vip,
            blacklisted=customer.is_blacklisted,
            open_cases=open_cases,
            in_hours=hours.is_open(self._router.clock.now()) if hours else True,
        )

    async def case_progress(self, info: CallInfo) -> str:
        call = self._call(info)
        if self._case_status is None:
            return "工单查询暂不可用，正在为您转接人工客服。"
        text = await self._case_status.describe(call.customer.id, None, phone=call.phone)
        return _speakable(text)

    async def ask(self, info: CallInfo, text: str) -> BotTurn:
        call = self._call(info)
        msg = InboundMessage(
            channel=CHANNEL,
            account=call.record.dialed,
            provider_id=f"{info.call_id}/{next(call.turns)}",
            identity=call.identity,
            text=text,
            received_at=self._router.clock.now(),
            kind="voice",
        )
        result = await self._router.handle_inbound(msg)
        if result.conversation_id != call.conversation_id:  # the router chose another one
            self._rebind(call, result.conversation_id)
        queued = result.state in WAITING or result.state in WITH_AGENT
        if queued:
            conv = await self._router.conversation(call.conversation_id)
            call.record = replace(
                call.record, queue=conv.queue, queued_at=conv.queued_at or msg.received_at
            )
        article = next((r.kb_article_id for r in result.replies if r.kb_article_id), None)
        choices = tuple(
            c for r in result.replies for c in r.quick_replies if c not in ("转人工", "人工客服")
        )
        spoken = "。".join(_speakable(r.text) for r in result.replies if r.text)
        return BotTurn(
            text=spoken,
            answered=article is not None,
            queued=queued,
            kb_article_id=article,
            choices=choices,
        )

    async def transfer(self, info: CallInfo, queue: str, reason: str) -> None:
        call = self._call(info)
        conv = await self._router.conversation(call.conversation_id)
        if conv.state in WAITING or conv.state in WITH_AGENT:
            return
        name = queue if queue in self._router.config.queues else "general"
        tags = call.customer.tags
        priority = Priority.ELDERLY_OR_VIP if {"elderly", "vip"} & tags else Priority.NORMAL
        conv, _ = await self._router.escalate(
            conv, Decision(Action.ESCALATE, reason or "ivr_transfer", name, int(priority))
        )
        if conv.pending:  # the chat's after-hours dialog: the IVR offers its own choices
            conv = await self._router.save_conversation(replace(conv, pending=""))
        if conv.state in WAITING or conv.state in WITH_AGENT:  # an agent may have it already
            call.record = replace(call.record, queue=conv.queue, queued_at=conv.queued_at)
            await self._records.save(call.record)

    async def waiting(self, info: CallInfo) -> AsyncIterator[WaitUpdate]:
        call = self._call(info)
        conv = await self._router.conversation(call.conversation_id)
        if conv.state not in WAITING and conv.state not in WITH_AGENT:
            yield NoAgents()
            return
        if conv.state in WAITING and conv.queue and not self._router.acd.agents_online(conv.queue):
            yield NoAgents()
        if conv.state in WAITING:
            yield self._position(call)
        while not call.hung_up:
            try:
                update = await asyncio.wait_for(call.updates.get(), POSITION_EVERY_S)
            except TimeoutError:
                conv = await self._router.conversation(call.conversation_id)
                if conv.state in WAITING:
                    yield self._position(call)
                continue
            yield update
            if isinstance(update, AgentLeft):
                return

    async def voicemail(self, info: CallInfo, pcm: bytes) -> CaseFiled:
        call = self._call(info)
        await self._leave_queue(call, "voicemail")
        file_id = await self._recordings.save(
            pcm, call_id=info.call_id, conversation_id=call.conversation_id, kind="voicemail"
        )
        case = await self._open_case(
            call, CaseType.CONSULT, "语音留言", "市民来电留言（录音见附件）", attachments=(file_id,)
        )
        await self._link_recording(call, file_id, "语音留言", case.number)
        call.record = replace(call.record, outcome=CallOutcome.VOICEMAIL, case_number=case.number)
        await self._records.save(call.record)
        return CaseFiled(case.number)  # the engine reads it digit by digit

    async def callback(self, info: CallInfo, reason: str) -> CaseFiled:
        call = self._call(info)
        await self._leave_queue(call, "callback")
        case = await self._callback_case(call, reason or "市民来电预约回电")
        call.record = replace(call.record, outcome=CallOutcome.CALLBACK, case_number=case.number)
        await self._records.save(call.record)
        return CaseFiled(case.number)  # the engine reads it digit by digit

    async def survey(self, info: CallInfo, score: str) -> None:
        call = self._call(info)
        if score not in SURVEY:
            return
        conv = await self._router.conversation(call.conversation_id)
        await self._router.save_conversation(replace(conv, rating=score))
        call.record = replace(call.record, survey=score)
        await self._records.save(call.record)
        for case in await self._cases_of(call.customer.id, call.conversation_id):
            if case.state is CaseState.REPLIED:  # the survey is the case's revisit
                await self._cases.act(
                    case.number,
                    CaseCommand(CaseAction.REVISIT, "ivr", satisfaction=SURVEY[score]),
                )

    async def ended(self, info: CallInfo, reason: str) -> None:
        call = self._calls.pop(info.call_id, None)
        if call is None:
            return
        call.hung_up = True
        call.updates.put_nowait(AgentLeft())  # wake a waiting() loop
        self._by_conversation.pop(call.conversation_id, None)
        now = self._router.clock.now()
        conv = await self._router.conversation(call.conversation_id)
        outcome = call.record.outcome
        if conv.state in WAITING:
            outcome = CallOutcome.ABANDONED
            await self._desk.customer_left(conv.id)
            # an abandoned call is a citizen we owe a call: it lands in the callback worklist
            if call.phone:
                case = await self._callback_case(call, "排队中挂断的来电，请回拨")
                call.record = replace(call.record, case_number=case.number)
        elif conv.state is ConversationState.ASSIGNED and conv.agent:
            await self._agent_done(call, conv)
        elif conv.state is ConversationState.BOT:
            await self._desk.customer_left(conv.id)
        if call.record.answered_at is not None and outcome is CallOutcome.IVR:
            outcome = CallOutcome.ANSWERED
        call.record = replace(call.record, ended_at=now, outcome=outcome)
        await self._records.save(call.record)
        log.info(
            "voice.call_ended",
            extra={"call": info.call_id, "outcome": outcome.value, "reason": reason},
        )

    # ------------------------------------------------------------ from the call control

    async def agent_left(self, call_id: str) -> None:
        """The agent's leg hung up (phone or inbox): wrap-up, and the caller gets the survey."""
        call = self._calls.get(call_id)
        if call is None:
            return
        conv = await self._router.conversation(call.conversation_id)
        if conv.state is ConversationState.ASSIGNED and conv.agent:
            await self._agent_done(call, conv)
        cases = await self._cases_of(call.customer.id, call.conversation_id)
        call.updates.put_nowait(AgentLeft(cases[0].number if cases else None))

    async def recording_ready(self, call_id: str, wav: bytes, agent: str) -> None:
        """The talk's recording: kept, linked to the call, its conversation and its cases."""
        call = self._calls.get(call_id)
        record = call.record if call else await self._records.get(call_id)
        if record is None:
            log.warning("voice.recording_orphan", extra={"call": call_id})
            return
        file_id = await self._recordings.save(
            wav, call_id=call_id, conversation_id=record.conversation_id, kind="talk", wav=True
        )
        linked = await self._cases_of(record.customer_id, record.conversation_id)
        for case in linked:
            await self._cases.attach(case.number, (file_id,), actor=agent or "system")
        await self._post_recording(record, file_id, "通话录音", agent)
        record = replace(
            record, recording=file_id, case_number=record.case_number or _first(linked)
        )
        if call is not None:
            call.record = replace(call.record, recording=file_id)
        await self._records.save(record)

    async def hangup_from_inbox(self, conversation_id: str, login: str) -> None:
        call = self.call_for_conversation(conversation_id)
        if call is None:
            raise HubError("这通电话已经结束")
        await self._control(call).drop_agent(call.info.call_id)
        await self.agent_left(call.info.call_id)

    async def hold_from_inbox(self, conversation_id: str, on: bool) -> None:
        call = self.call_for_conversation(conversation_id)
        if call is None:
            raise HubError("这通电话已经结束")
        await self._control(call).hold(call.info.call_id, on)

    # ------------------------------------------------------------ internals

    async def _on_event(self, event: Event) -> None:
        call = self.call_for_conversation(getattr(event, "conversation_id", ""))
        if call is None:
            return
        if isinstance(event, QueuePosition):
            call.updates.put_nowait(Position(event.position, event.wait_estimate_s))
        elif isinstance(event, ConversationAssigned):
            self._spawn(self._connect(call, event.agent))
        elif isinstance(event, ConversationUnassigned) and event.reason in _HANDED_ON:
            await self._control(call).drop_agent(call.info.call_id)

    async def _connect(self, call: LiveCall, login: str) -> None:
        agent = await self._agents.get(login)
        endpoint = getattr(agent, "endpoint", "") or ""
        ok = await self._control(call).connect_agent(call.info.call_id, login, endpoint)
        if call.hung_up:
            return
        if not ok:
            log.info("voice.agent_no_answer", extra={"call": call.info.call_id, "agent": login})
            await self._router.acd.reclaim(login, call.conversation_id, "no_answer")
            return
        now = self._router.clock.now()
        call.record = replace(call.record, answered_at=now, agent=login)
        await self._records.save(call.record)
        call.updates.put_nowait(Connected(login))

    async def _agent_done(self, call: LiveCall, conv: Conversation) -> None:
        assert conv.agent is not None
        with contextlib.suppress(HubError):
            await self._desk.end(conv.agent, conv.id)

    async def _leave_queue(self, call: LiveCall, reason: str) -> None:
        """A message or a callback instead of waiting: the call is no longer in line."""
        conv = await self._router.conversation(call.conversation_id)
        if conv.state in WAITING:
            self._router.acd.withdraw(conv.id, reason)
            await self._router.save_conversation(
                replace(conv, state=ConversationState.BOT, updated_at=self._router.clock.now())
            )

    def _position(self, call: LiveCall) -> Position:
        position, wait_s = self._router.acd.position(call.conversation_id)
        return Position(max(position, 1), wait_s)

    async def _cases_of(self, customer_id: str, conversation_id: str) -> list[Case]:
        """The cases filed from this call's conversation."""
        cases = await self._cases.cases.find_for_customer(customer_id, limit=10)
        return [c for c in cases if c.conversation_id == conversation_id]

    async def _open_case(
        self,
        call: LiveCall,
        kind: CaseType,
        title: str,
        description: str,
        *,
        attachments: tuple[str, ...] = (),
        remind_at: datetime | None = None,
    ) -> Case:
        return await self._cases.open(
            NewCase(
                type=kind,
                title=title,
                description=description,
                customer_id=call.customer.id,
                conversation_id=call.conversation_id,
                channel=CHANNEL,
                contact_phone=call.phone,
                remind_at=remind_at,
                attachments=attachments,
            ),
            actor="ivr",
        )

    async def _callback_case(self, call: LiveCall, reason: str) -> Case:
        when = self._router.callback_at()
        return await self._open_case(call, CaseType.TODO, "预约回电", reason, remind_at=when)

    async def _link_recording(self, call: LiveCall, file_id: str, label: str, case: str) -> None:
        await self._post_recording(call.record, file_id, f"{label}（工单{case}）", "ivr")

    async def _post_recording(
        self, record: CallRecord, file_id: str, label: str, sender: str
    ) -> None:
        """The recording as a message in the conversation, so the inbox plays it."""
        size = await self._recordings.size(file_id)
        await self._desk.add_record(
            record.conversation_id,
            label,
            attachments=(
                Attachment(
                    kind="voice",
                    url=self._recordings.url(file_id),
                    mime="audio/wav",
                    size=size,
                    name=f"{label}.wav",
                ),
            ),
        )

    def _rebind(self, call: LiveCall, conversation_id: str) -> None:
        self._by_conversation.pop(call.conversation_id, None)
        call.conversation_id = conversation_id
        call.record = replace(call.record, conversation_id=conversation_id)
        self._by_conversation[conversation_id] = call.info.call_id

    def _call(self, info: CallInfo) -> LiveCall:
        call = self._calls.get(info.call_id)
        if call is None:
            raise HubError(f"call {info.call_id} is not live")
        return call

    def _control(self, call: LiveCall) -> CallControl:
        return self._controls[call.transport]

    def _spawn(self, work: object) -> None:
        task = asyncio.ensure_future(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _identity(info: CallInfo) -> Identity:
    """The caller id as a phone identity (shared with SMS, WeChat-bound phones, chats); a
    withheld or unusable caller id gets an identity of its own call."""
    try:
        return Identity(IdentityKind.PHONE, PhoneNumber.parse(info.caller).e164)
    except ValueError:
        return Identity(IdentityKind.VOICE, info.call_id)


def _speakable(text: str) -> str:
    """Chat text made fit to be spoken: no line breaks, no button hints."""
    return " ".join(text.replace("“转人工”", "转人工").split())


def _first(cases: list[Case]) -> str | None:
    return cases[0].number if cases else None
