"""One router for every channel: a verified InboundMessage in, what to say back out.

Hot path for a citizen message while the bot serves: the inbound message is stored (its
unique (channel, external_id) makes a provider retry harmless), the bot answers, the reply
is stored. Two database writes; customers and open conversations are served from memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime

from cases.status import NO_CASES, CaseStatusDesk
from primitives.clock import Clock
from primitives.errors import NotFound
from routing import replies
from routing.assignment import Acd
from routing.bot import Bot, BotAnswer, KbDecision
from routing.config import RoutingConfig
from routing.conversation_book import ConversationBook
from routing.conversation_model import (
    WAITING,
    WITH_AGENT,
    Conversation,
    ConversationState,
    Priority,
)
from routing.customers import Customer, CustomerRepository, IdentityKind
from routing.dialogue_state import (
    DialogueState,
    asks_for_a_person,
    asks_who_answers,
    aspect_only,
    closer_to_the_turn,
    follow_up_of,
    in_topic_question,
    is_question,
    overlap,
    phone_in,
    remember,
)
from routing.events import (
    ConversationQueued,
    EventBus,
    MessageAdded,
    MessageNotDelivered,
    SupervisorAlert,
)
from routing.intake import Intake, Step
from routing.messages import (
    InboundMessage,
    MessageRepository,
    StoredMessage,
)
from routing.outbox import OutboundMessage, Outbox
from routing.pending_dialogs import CALLBACK_QUEUE, PendingDialogs
from routing.policy import FEEDBACK, SMALL_TALK, Action, Decision, choose_queue, decide
from routing.reply_watch import AgentReplyWatch
from routing.timers import Scheduler
from routing.turns import (
    InboundResult,
    ReplyStore,
    Say,
    inbound_record,
    new_conversation,
    reply_from_stored,
    watchers,
)
from routing.waiting import QueueEntry

log = logging.getLogger(__name__)

ASSIGNED_NOTICE_KEY = "assigned"
# how sure the parser must be that a turn phrased as a question is feedback all the same
# (建议你们以后能不能发个短信提醒 0.92; 能网上办不 不想跑车管所 is read as a suggestion at 0.62)
FEEDBACK_QUESTION_CONFIDENCE = 0.85
# from this confidence an out-of-scope turn (今天热死了，你们那边热不热) is never read with the
# last topic: the topic-combined query would find the topic's article for small talk
OFF_TOPIC_CONFIDENCE = 0.85


class Router:
    def __init__(
        self,
        *,
        config: RoutingConfig,
        customers: CustomerRepository,
        book: ConversationBook,
        messages: MessageRepository,
        bot: Bot,
        acd: Acd,
        outbox: Outbox,
        bus: EventBus,
        clock: Clock,
        scheduler: Scheduler,
        dialogs: PendingDialogs,
        case_status: CaseStatusDesk | None = None,
    ) -> None:
        self.config = config
        self.customers = customers
        self.book = book
        self.messages = messages
        self.bot = bot
        self.acd = acd
        self.outbox = outbox
        self.bus = bus
        self.clock = clock
        self.timers = scheduler
        self.dialogs = dialogs
        self.case_status = case_status
        self._customer_ids: dict[str, str] = {}  # identity key -> customer id
        self._customer_cache: dict[str, Customer] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: defaultdict[str, int] = defaultdict(int)
        self._unsure: dict[str, int] = {}  # conversation -> unsure bot turns in a row
        self._choices: dict[str, tuple[str, ...]] = {}  # conversation -> last clarify offer
        self._daily: dict[tuple[str, date], int] = {}
        self.replies = ReplyStore(messages, outbox, bus, clock)
        outbox.failure_listeners.append(self._not_delivered)
        self.reply_watch = AgentReplyWatch(config, clock, scheduler, book, acd)
        self.intake = Intake(dialogs.cases, config.intake, self.callback_at)

    # ------------------------------------------------------------------ inbound

    # ------------------------------------------------------------ read by handlers
    async def conversation(self, conversation_id: str) -> Conversation:
        """The conversation (cached); ConversationNotFound when there is none."""
        return await self.book.get(conversation_id)

    async def save_conversation(self, conversation: Conversation) -> Conversation:
        return await self.book.put(conversation)

    @property
    def max_text_chars(self) -> int:
        """The longest citizen message the bot reads (channels refuse longer ones early)."""
        return self.config.max_text_chars

    async def handle_inbound(self, msg: InboundMessage, *, in_band: bool = True) -> InboundResult:
        """Store msg, route it, return what to answer.

        in_band: the channel delivers the returned replies itself (HTTP response, passive
        reply, WebSocket); otherwise they go out through the outbox like agent messages.
        """
        async with self._serialised(msg.identity.key):
            customer = await self._customer(msg)
            conv = await self._conversation_for(customer, msg)
            inbound = inbound_record(msg, conv, customer)
            if not await self.messages.add(inbound):
                return await self._duplicate(msg, conv, customer, in_band)
            self.book.touch(conv.id, inbound.created_at)
            self.bus.publish(
                MessageAdded(
                    inbound.created_at,
                    conv.id,
                    inbound.id,
                    "customer",
                    customer.id,
                    msg.text,
                    agents=watchers(conv),
                )
            )
            conv, says = await self._respond(conv, customer, inbound)
            sent = await self.replies.store(conv, inbound, says, in_band)
            return InboundResult(conv.id, conv.state, inbound.id, sent)

    async def answer_unanswered(self, since: datetime) -> int:
        """After a crash: answer the citizens' messages stored since `since` whose answer was
        never stored (the process died between the two writes), through the outbox. Runs
        before the hub accepts traffic, so no retry of the same message races it. Returns
        how many were answered."""
        answered = 0
        for inbound in await self.messages.recent_inbound(since, self.clock.now()):
            if inbound.conversation_id is None or inbound.customer_id is None:
                continue
            first_reply = f"{inbound.external_id}:r0"
            if await self.messages.find_many(inbound.channel, [first_reply]):
                continue
            try:
                conv = await self.book.get(inbound.conversation_id)
                customer = await self.customers.get(inbound.customer_id)
            except NotFound:  # its conversation or customer is gone: nothing to answer
                continue
            if conv.state is not ConversationState.BOT:
                continue  # with an agent or queued: a person answers, not the bot
            conv, says = await self._respond(conv, customer, inbound)
            await self.replies.store(conv, inbound, says, in_band=False)
            answered += 1
        if answered:
            log.info("router.answered_after_restart", extra={"messages": answered})
        return answered

    async def _not_delivered(self, out: OutboundMessage, reason: str) -> None:
        """Tell the agents serving the conversation, live, that the citizen did not get it."""
        try:
            conv = await self.book.get(out.conversation_id)
        except NotFound:
            return
        self.bus.publish(
            MessageNotDelivered(
                self.clock.now(), conv.id, out.message_id, reason, agents=watchers(conv)
            )
        )

    def agent_answered(self, conversation_id: str) -> None:
        self.reply_watch.agent_answered(conversation_id)

    async def _duplicate(
        self, msg: InboundMessage, conv: Conversation, customer: Customer, in_band: bool
    ) -> InboundResult:
        """A provider retry: answer exactly what the first delivery got (or finish it)."""
        first = await self.messages.find_by_external(msg.channel, msg.external_id)
        assert first is not None
        keys = [f"{msg.external_id}:r{i}" for i in range(4)]
        earlier = await self.messages.find_many(msg.channel, keys)
        if not earlier and conv.state is ConversationState.BOT and first.conversation_id == conv.id:
            # The first attempt stored the message but died before answering: answer now.
            conv, says = await self._respond(conv, customer, first)
            sent = await self.replies.store(conv, first, says, in_band)
            return InboundResult(conv.id, conv.state, first.id, sent, duplicate=True)
        sent = tuple(reply_from_stored(m) for m in earlier)
        return InboundResult(
            first.conversation_id or conv.id, conv.state, first.id, sent, duplicate=True
        )

    async def _respond(
        self, conv: Conversation, customer: Customer, inbound: StoredMessage
    ) -> tuple[Conversation, list[Say]]:
        refusal = self._refusal(customer, inbound.created_at)
        if refusal:
            return conv, [Say(refusal)]
        if conv.state in WITH_AGENT:
            self.reply_watch.customer_waits(conv)
            return conv, []  # an agent reads a long message whole
        if len(inbound.text) > self.config.max_text_chars:
            # Stored whole; the bot is not asked (every channel: SMS parts and Telegram
            # messages can be longer than what the web and REST edges accept).
            return conv, [Say(replies.TOO_LONG.format(limit=self.config.max_text_chars))]
        if conv.pending:
            handled = await self.dialogs.handle(self, conv, customer, inbound)
            if handled is not None:
                conv, text, buttons = handled
                return conv, [Say(text, quick_replies=buttons)]
            conv = await self.book.put(replace(conv, pending=""))
        offered = self._choices.pop(conv.id, ())
        picked = replies.chosen(inbound.text, offered)
        text = picked or inbound.text
        # a picked question is asked as it is, not as a follow-up of the offer's first one,
        # and it ends that tentative topic
        heard = replace(conv.dialogue, topic_query="") if picked else conv.dialogue
        answer, query = await self._understand(heard, text)
        if offered and text is inbound.text and answer.decision is not KbDecision.ANSWER:
            answer, query = await self._settle_clarify(answer, query, text, offered)
        esc = self.config.escalation
        state = remember(heard, inbound.text, answer, query, esc.intents | self.intake.intents)
        if conv.state in WAITING:
            return await self._while_waiting(await self._keep(conv, state), answer)
        if answer.intent in esc.emergency_intents:  # never delayed by an intake
            conv = await self._keep(conv, replace(state, intake="", asking=""))
            return await self._bot_turn(conv, customer, answer)
        if asks_who_answers(inbound.text):
            # 你是真人还是机器人: say who answers and how to reach a person; not a hand-over
            own = replace(
                answer, intent="out_of_scope", decision=KbDecision.NONE, kb_article_id=None, text=""
            )
            conv = await self._keep(conv, state)
            return conv, [Say(replies.BOT_IDENTITY, own, (replies.HUMAN_BUTTON,))]
        if state.intake and self.intake.asked_something_else(state, inbound.text, answer):
            # a question of its own in the middle of an intake: answered, the intake left
            # (the slots stay: asking again starts where it stopped)
            state = replace(state, intake="", asking="")
        if state.intake:
            step = await self.intake.turn(state, inbound.text, answer, conv)
            return await self._intake_step(conv, customer, step, answer)
        # a request phrased as a question (能不能派个师傅来, 帮我约一个吗) or one that names
        # a place is a request
        question = _asks(inbound.text, answer)
        # a question answered or narrowed by the knowledge base, or one about nothing but an
        # aspect (要提前预约不): the bot replies, no case is taken in
        asked = question and (answer.decision is not KbDecision.NONE or aspect_only(inbound.text))
        if asked and self.intake.kind_for_intent(answer.intent) and not esc.tags & customer.tags:
            # a question about a service the knowledge base answers (what a cleaner costs, how
            # to complain about a taxi) is answered; asking for it to be done starts the case
            conv = await self._keep(conv, state)
            return conv, [await self._bot_reply(conv, customer, answer)]
        details = (
            _details_only_text(inbound.text)
            or _place_and_phone(inbound.text, answer)
            or (phone_in(inbound.text) is not None and state.slot("address") is not None)
        )
        # a request split between case kinds (report_repair 0.48, complaint 0.26) is a request;
        # bare details (where, a phone) are not one of their own, whatever the parser's guesses
        request = answer.confidence >= esc.intent_confidence or (
            not details and self.intake.request_confidence(answer) >= esc.intent_confidence
        )
        kind = None if asked else self.intake.kind_for(answer, inbound.text, request)
        # a request the parser is unsure of that names where (帮我下个单，格力挂机，西湖区
        # 朝阳路66号…): no article fits, so take it in; the read-back shows its type and the
        # citizen can still say 取消
        unsure_with_place = (
            answer.decision is KbDecision.NONE
            and answer.entity("address")
            and not esc.tags & customer.tags
        )
        earlier = self.intake.kind_for_intent(heard.main_intent) if heard.main_text else None
        if earlier is not None and _mostly_place(inbound.text, answer):
            # where, for the request made the turn before (楼下烧烤店油烟…你们管不管 → 西湖区
            # 桃源小区12栋，就在一楼门面): whatever the parser makes of an address
            step = self.intake.start(state, earlier, heard.main_text)
            return await self._intake_step(conv, customer, step, answer)
        first = heard if heard.main_text else state  # (this turn's details replace nothing)
        if kind is None and not asked and first.main_text and details:
            # what and where came first (a request the bot was unsure of, or asked about), the
            # phone now: the details add up to the request
            kind = self.intake.kind_for_intent(first.main_intent)
            if kind is not None:
                step = self.intake.start(state, kind, first.main_text)
                return await self._intake_step(conv, customer, step, answer)
        if kind is None and not asked and unsure_with_place:
            kind = self.intake.kind_for_intent(answer.intent)
        if kind is not None:
            if not state.slot("phone"):
                state = state.with_slots(phone=_phone_of(customer))
            step = self.intake.start(state, kind, inbound.text)
            shown = [Say(answer.text, answer)] if answer.decision is KbDecision.ANSWER else []
            conv, says = await self._intake_step(conv, customer, step, answer)
            return conv, [*shown, *says]
        return await self._bot_turn(await self._keep(conv, state), customer, answer)

    async def _understand(self, state: DialogueState, text: str) -> tuple[BotAnswer, str]:
        """The bot's answer for text, and the query it answered: a short follow-up to the last
        answer is asked again with the topic, or settled among the topic's close articles."""
        answer, query = await self._resolve(state, text)
        if state.topic_article is None and query != text and answer.kb_question:
            # the topic was the first of a clarify offer the citizen did not pick from: say
            # which question this answers, so a wrong guess is plain to see
            answer = replace(
                answer, text=replies.TENTATIVE_ANSWER.format(answer.kb_question, answer.text)
            )
        return answer, query

    async def _resolve(self, state: DialogueState, text: str) -> tuple[BotAnswer, str]:
        own = _details_only(await self.bot.answer(text), text, self.config)
        esc = self.config.escalation
        sure = own.intent == "ask_human" and own.confidence >= esc.intent_confidence
        if asks_for_a_person(text) and not sure and own.intent not in esc.emergency_intents:
            # (the words decide, at the least confidence the policy trusts: what the parser
            # itself was sure of stays as it said for the agents' transcript)
            own = replace(own, intent="ask_human", confidence=esc.intent_confidence)
        doubtful = own.confidence < FEEDBACK_QUESTION_CONFIDENCE
        if own.intent in FEEDBACK and doubtful and is_question(text):
            # 能在手机上弄不，不想跑车管所 sounds like a suggestion to the parser: a question
            # it is not sure beyond doubt is feedback is a question
            own = replace(own, intent="consult")
        answer, query = await self._through_topic(state, text, own)
        again = answer.kb_article_id is not None and (
            answer.kb_article_id == state.topic_article
            # (or the guess of a clarify offer the citizen did not pick from)
            or (query != text and state.topic_article is None)
        )
        if again and (own.novel_terms or _unmentioned(own, text, answer)):
            # the turn names something no article mentions (那车船税呢 after car inspection,
            # 现在利率是多少 after the loan limit), or that the topic article never mentions
            # (交强险 after car inspection): the last answer again would not answer it
            return replace(own, decision=KbDecision.NONE, kb_article_id=None, text=""), text
        return answer, query

    async def _through_topic(
        self, state: DialogueState, text: str, answer: BotAnswer
    ) -> tuple[BotAnswer, str]:
        """The answer for text read with the live topic (a follow-up, or a question the
        topic may answer), or its own answer."""
        found = follow_up_of(state, text)
        esc = self.config.escalation
        off_topic = answer.intent == "out_of_scope" and answer.confidence >= OFF_TOPIC_CONFIDENCE
        if answer.intent in esc.emergency_intents or self._feedback(answer) or off_topic:
            return answer, text
        if found is None:
            if answer.decision is KbDecision.NONE and in_topic_question(state, text):
                # a longer question that nothing answers by itself may still be about the
                # topic (拿到新卡以后还要弄啥不，直接就能去医院刷吗): only a sure answer counts
                query = f"{state.topic_query} {text}"
                combined = await self._settle_follow_up(await self.bot.answer(query), answer, text)
                if combined.decision is KbDecision.ANSWER:
                    return self._in_context(combined, answer), query
            return answer, text
        query, remainder = found
        if answer.intent in esc.intents and (
            answer.intent == "ask_human" or (remainder and not _asks(text, answer))
        ):
            # more than an aspect of the topic: a request, unless it is a question that the
            # topic may answer (开卤菜店执照咋办 → 卖吃的是不是还得另外办证; 水表 → 电表呢)
            return answer, text
        if answer.intent in SMALL_TALK and not _marked(text):
            return answer, text
        new_topic = answer.kb_article_id != state.topic_article
        if len(remainder) > 1 and answer.decision is KbDecision.ANSWER and new_topic:
            # names something new the knowledge base knows (one character beyond the aspect
            # words names nothing: 收钱吗 after the water-meter transfer asks its fee)
            return answer, text
        combined = await self._settle_follow_up(await self.bot.answer(query), answer, text)
        turn_points_at_topic = bool(answer.ranking) and (
            answer.ranking[0].article_id == state.topic_article
        )
        if combined.decision is KbDecision.ANSWER and (
            # (the turn's own best is the topic too: 他是职工医保，去哪申请 after the
            # long-term-care answer names a detail of it, not another article)
            not remainder or combined.kb_article_id != state.topic_article or turn_points_at_topic
        ):
            return self._in_context(combined, answer), query
        choices = combined.choices or answer.choices
        if choices:
            # what the follow-up names (电表) first, then the topic's words, the article's own
            # question before the citizen's (新生儿户口 → 医保呢: 新生儿医保, not 个人账户)
            topic = state.topic_query + remainder
            best = max(
                choices,
                key=lambda c: (
                    overlap(remainder, c),
                    overlap(state.topic_question, c),
                    overlap(topic, c),
                ),
            )
            if overlap(topic, best) > 0:
                picked = await self.bot.answer(best)
                if picked.decision is KbDecision.ANSWER:
                    return self._in_context(picked, answer), best
        if combined.decision is KbDecision.ANSWER:
            return self._in_context(combined, answer), query
        return answer, text

    async def _settle_follow_up(self, combined: BotAnswer, own: BotAnswer, text: str) -> BotAnswer:
        """A sure answer to the topic-combined query, or the close sibling the follow-up's own
        words point to (asked by its question, so it is answered as the article says)."""
        if combined.decision is not KbDecision.ANSWER:
            return combined
        sibling = closer_to_the_turn(combined, own, text)
        if sibling is None:
            return combined
        picked = await self.bot.answer(sibling.question)
        if picked.decision is not KbDecision.ANSWER or picked.kb_article_id != sibling.article_id:
            return combined
        return picked

    def _feedback(self, answer: BotAnswer) -> bool:
        """Praise or a suggestion the parser is sure of: not a question about the topic."""
        esc = self.config.escalation
        return answer.intent in FEEDBACK and answer.confidence >= esc.intent_confidence

    def _in_context(self, rewritten: BotAnswer, own: BotAnswer) -> BotAnswer:
        """An answer found with the topic's help: its article, but what the turn itself asks
        for (the topic's words never make this turn an emergency) and its own entities."""
        if rewritten.intent in self.config.escalation.emergency_intents:
            rewritten = replace(rewritten, intent=own.intent, confidence=own.confidence)
        return replace(rewritten, entities=own.entities)

    async def _settle_clarify(
        self, answer: BotAnswer, query: str, text: str, offered: tuple[str, ...]
    ) -> tuple[BotAnswer, str]:
        """A reply to a clarify offer that names one of the offered questions in its own
        words (not by number): that question's answer."""
        best = max(offered, key=lambda c: overlap(text, c))
        if overlap(text, best) < 2:
            return answer, query
        picked = await self.bot.answer(best)
        if picked.decision is not KbDecision.ANSWER:
            return answer, query
        return self._in_context(picked, answer), best

    async def _keep(self, conv: Conversation, state: DialogueState) -> Conversation:
        """The dialogue state as of this turn: held in memory; the bot's reply stores it, and
        the conversation's own next write too (no write of its own on the hot path)."""
        if state == conv.dialogue:
            return conv
        return self.book.hold(replace(conv, dialogue=state))

    async def _intake_step(
        self, conv: Conversation, customer: Customer, step: Step, answer: BotAnswer
    ) -> tuple[Conversation, list[Say]]:
        conv = await self._keep(conv, step.state)
        understood = replace(answer, decision=KbDecision.NONE, kb_article_id=None, text="")
        says = [Say(step.text, understood, step.buttons)] if step.text else []
        if step.handover is None:
            return conv, says
        esc = self.config.escalation
        tagged = bool(esc.tags & customer.tags)
        decision = Decision(
            Action.ESCALATE,
            step.reason,
            step.handover or choose_queue(answer, esc),
            Priority.ELDERLY_OR_VIP if tagged else Priority.NORMAL,
        )
        conv, notice = await self.escalate(conv, decision)
        return conv, [*says, replace(notice, answer=notice.answer or understood)]

    def callback_at(self) -> datetime:
        """When a booked callback can happen: now, or the callback queue's next opening."""
        now = self.clock.now()
        cfg = self.config.queues.get(CALLBACK_QUEUE)
        hours = cfg.hours if cfg else None
        return (hours.next_open(now) if hours else None) or now

    async def _bot_turn(
        self, conv: Conversation, customer: Customer, answer: BotAnswer
    ) -> tuple[Conversation, list[Say]]:
        streak = self._unsure.get(conv.id, 0)
        decision = decide(answer, customer, streak, self.config.escalation)
        self._unsure[conv.id] = streak + 1 if decision.unsure else 0
        if decision.action is Action.ESCALATE:
            says = [Say(answer.text, answer)] if answer.decision is KbDecision.ANSWER else []
            conv, notice = await self.escalate(conv, decision)
            if not says:  # keep what the bot understood (intent, entities) for the screen pop
                notice = replace(notice, answer=notice.answer or answer)
            return conv, [*says, notice]
        return conv, [await self._bot_reply(conv, customer, answer)]

    async def _bot_reply(self, conv: Conversation, customer: Customer, answer: BotAnswer) -> Say:
        if answer.intent == "query_case_status" and self.case_status is not None:
            phone = customer.identity(IdentityKind.PHONE)
            text = await self.case_status.describe(
                customer.id, answer.entity("case_no"), phone=phone.value if phone else None
            )
            if text != NO_CASES or answer.decision is not KbDecision.ANSWER:
                return Say(text, answer)
            # no case to tell about, and the knowledge base answers the turn (那新证没下来这段
            # 时间坐飞机咋整 heard as a progress question): the answer is what was asked
        if self._feedback(answer) and answer.decision is not KbDecision.ANSWER:
            return Say(replies.FEEDBACK[answer.intent], answer, (replies.HUMAN_BUTTON,))
        sure = answer.confidence >= self.config.escalation.intent_confidence
        if answer.intent == "out_of_scope" and sure and answer.decision is KbDecision.NONE:
            # (明天会落雨不: understood, and not something the hotline answers)
            return Say(replies.OUT_OF_SCOPE, answer, (replies.HUMAN_BUTTON,))
        if answer.decision is KbDecision.ANSWER:
            return Say(answer.text, answer, (replies.HUMAN_BUTTON,))
        if answer.decision is KbDecision.CLARIFY and answer.choices:
            self._choices[conv.id] = answer.choices
            return Say(
                replies.clarify(answer.choices), answer, (*answer.choices, replies.HUMAN_BUTTON)
            )
        small_talk = {
            "greet": replies.GREETING,
            "thank": replies.THANKS,
            "goodbye": replies.GOODBYE,
            "affirm": replies.AFFIRM,
            "deny": replies.DENY,
        }
        text = small_talk.get(answer.intent, replies.NOT_UNDERSTOOD)
        return Say(text, answer, (replies.HUMAN_BUTTON,))

    async def _while_waiting(
        self, conv: Conversation, answer: BotAnswer
    ) -> tuple[Conversation, list[Say]]:
        """The customer writes while queued: urgent turns jump ahead; the bot keeps answering."""
        esc = self.config.escalation
        if answer.intent in esc.emergency_intents and conv.priority < Priority.EMERGENCY:
            self.acd.withdraw(conv.id, "upgraded")
            decision = Decision(
                Action.ESCALATE, "emergency", esc.emergency_queue, Priority.EMERGENCY
            )
            conv, notice = await self.escalate(conv, decision)
            return conv, [replace(notice, answer=notice.answer or answer)]
        position, wait_s = self.acd.position(conv.id)
        online = self.acd.agents_online(conv.queue) if conv.queue else None
        waiting = (
            replies.still_waiting(position, wait_s, online)
            if position
            else "正在为您接通人工客服，请稍候。"
        )
        if answer.decision is KbDecision.ANSWER:
            return conv, [Say(f"{answer.text}\n\n{waiting}", answer)]
        return conv, [Say(waiting, answer)]

    async def escalate(self, conv: Conversation, decision: Decision) -> tuple[Conversation, Say]:
        """Put the conversation in a skills queue (or explain why it can't be, now)."""
        assert decision.queue is not None
        cfg = self.config.queue(decision.queue)
        now = self.clock.now()
        if cfg.hours is not None and not cfg.hours.is_open(now) and not decision.emergency:
            conv = await self.book.put(replace(conv, pending="after_hours", updated_at=now))
            buttons = (replies.LEAVE_BUTTON, replies.CALLBACK_BUTTON)
            return conv, Say(replies.after_hours(cfg.hours.describe()), quick_replies=buttons)
        waiting_now = len(self.acd.queues[cfg.name])
        if (
            cfg.max_waiting is not None
            and waiting_now >= cfg.max_waiting
            and not decision.emergency
        ):
            conv = await self.book.put(replace(conv, pending="after_hours", updated_at=now))
            return conv, Say(replies.queue_full(), quick_replies=(replies.CALLBACK_BUTTON,))
        queued_at = conv.queued_at if conv.state in WAITING and conv.queued_at else now
        conv = await self.book.put(
            replace(
                conv,
                state=ConversationState.QUEUED,
                queue=cfg.name,
                priority=int(decision.priority),
                queued_at=queued_at,
                escalation_reason=decision.reason,
                updated_at=now,
                pending="",
            )
        )
        self.bus.publish(ConversationQueued(now, conv.id, cfg.name, conv.priority, decision.reason))
        if decision.emergency:
            text = f"紧急求助：{decision.reason}，请立即处理"
            self.bus.publish(SupervisorAlert(now, "emergency", conv.id, text))
            log.warning("routing.emergency", extra={"conversation": conv.id, "queue": cfg.name})
        entry = QueueEntry(
            conv.id,
            cfg.name,
            conv.priority,
            queued_at,
            media=conv.media,
            customer_id=conv.customer_id,
        )
        await self.acd.enqueue(entry)
        conv = await self.book.get(conv.id)
        if decision.emergency:
            return conv, Say(replies.EMERGENCY)
        position, wait_s = self.acd.position(conv.id)
        if not position:
            return conv, Say("正在为您接通人工客服，请稍候。")
        if self.acd.agents_online(cfg.name) == 0:
            # Nobody could take it now: say so, keep the place in line, and let the citizen
            # leave a message or book a callback instead (the after-hours dialogs).
            conv = await self.book.put(replace(conv, pending="after_hours", updated_at=now))
            buttons = (replies.LEAVE_BUTTON, replies.CALLBACK_BUTTON)
            return conv, Say(replies.no_agent_online(cfg.title), quick_replies=buttons)
        return conv, Say(replies.queued(cfg.title, position, wait_s))

    # ------------------------------------------------------------------ helpers

    def _refusal(self, customer: Customer, at: datetime) -> str | None:
        if not customer.is_blacklisted:
            return None
        policy = self.config.blacklist
        if policy.mode == "block":
            return replies.BLOCKED
        key = (customer.id, at.date())
        self._daily[key] = self._daily.get(key, 0) + 1
        return replies.DAILY_LIMIT if self._daily[key] > policy.daily_limit else None

    @asynccontextmanager
    async def _serialised(self, key: str) -> AsyncIterator[None]:
        """One message at a time per customer identity (two first messages, one customer)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[key] -= 1
            if not self._lock_users[key]:
                del self._lock_users[key]
                self._locks.pop(key, None)

    async def _customer(self, msg: InboundMessage) -> Customer:
        cid = self._customer_ids.get(msg.identity.key)
        if cid is not None and cid in self._customer_cache:
            return self._customer_cache[cid]
        customer = await self.customers.get_or_create(msg.identity, name=msg.display_name)
        self._customer_ids[msg.identity.key] = customer.id
        self._customer_cache[customer.id] = customer
        return customer

    def forget_customer(self, customer_id: str) -> None:
        """Drop a cached customer after tags, identities or a merge changed it."""
        self._customer_cache.pop(customer_id, None)
        for key in [k for k, v in self._customer_ids.items() if v == customer_id]:
            del self._customer_ids[key]

    async def _conversation_for(self, customer: Customer, msg: InboundMessage) -> Conversation:
        """The customer's current conversation: the open one, the one closed a moment ago
        (reopened), or a new one."""
        now = self.clock.now()
        conv = await self.book.latest_for(customer.id)
        dirty = False
        if conv is not None and conv.state is ConversationState.BOT:
            idle = (now - await self.book.last_activity(conv)).total_seconds()
            if idle > self.config.bot_idle_close_s:
                closed = replace(
                    conv, state=ConversationState.CLOSED, closed_at=now, updated_at=now
                )
                await self.book.put(closed)
                conv = None
        elif conv is not None and not conv.is_open:
            since = (now - (conv.closed_at or conv.updated_at)).total_seconds()
            if since <= self.config.reopen_window_s:
                conv = replace(
                    conv, state=ConversationState.BOT, closed_at=None, agent=None, updated_at=now
                )
                self._unsure.pop(conv.id, None)
                dirty = True
                log.info("routing.reopened", extra={"conversation": conv.id})
            else:
                conv = None
        if conv is None:
            conv = await self.book.add(new_conversation(customer, msg, now))
            log.info(
                "routing.conversation_opened",
                extra={"conversation": conv.id, "channel": msg.channel},
            )
            return conv
        address = (msg.channel, msg.account, msg.identity.value)
        if (conv.last_channel, conv.account, conv.reply_to) != address:
            conv = replace(
                conv, last_channel=msg.channel, account=msg.account, reply_to=msg.identity.value
            )
            dirty = True
        return await self.book.put(conv) if dirty else conv


_FOLLOW_UP_MARKS = ("那", "还有", "另外")
MOSTLY_PLACE_REST = 10  # characters besides the address (就在一楼门面, 在东门那边)
_PRICE = re.compile(r"多少钱|几块钱|(怎么|咋|如何)收|收费|价格|价钱|费用?(是)?多少")
_REQUEST = re.compile(
    r"帮我|给我|替我|派(个|人|一)|安排|约(个|一)|请(个|一)|上门|过来|来(一下|看看|修)|登记"
)


_CLAUSES = re.compile(r"[，,。.！!；;\s]+")


def _unmentioned(own: BotAnswer, text: str, answer: BotAnswer) -> tuple[str, ...]:
    """What the turn asks about that the answered article never mentions: a thing named in a
    clause that asks (哪家保险公司便宜点; not 月子里出不了门 beside 线上能办吗, which says why),
    and not an aspect word (材料 or 工本费 name no thing of their own)."""
    if not answer.kb_mentions:
        return ()
    asking = [c for c in _CLAUSES.split(text) if c and is_question(c)]
    return tuple(
        t
        for t in own.terms
        if t not in answer.kb_mentions and not aspect_only(t) and any(t in c for c in asking)
    )


def _asks(text: str, answer: BotAnswer) -> bool:
    """A question, not a request phrased as one (能不能派个师傅来) or one naming a place; a
    question about the price of a service is a question (上门保洁一个钟头多少钱)."""
    if not is_question(text):
        return False
    return _PRICE.search(text) is not None or not (
        answer.entity("address") or _REQUEST.search(text)
    )


def _marked(text: str) -> bool:
    """Reads as a question about something (not a bare yes, no or thanks)."""
    t = text.strip().rstrip("。.！!")
    return t.startswith(_FOLLOW_UP_MARKS) or is_question(t)


def _place_and_phone(text: str, answer: BotAnswer) -> bool:
    """A turn giving where and a phone number (格力的挂机，雅苑小区3栋1801，电话188…)."""
    return phone_in(text) is not None and answer.entity("address") is not None


def _mostly_place(text: str, answer: BotAnswer) -> bool:
    """A turn that gives an address and little else (…小区12栋，烧烤店就在一楼门面)."""
    address = answer.entity("address")
    if not address or is_question(text):
        return False
    rest = text
    for said in filter(None, (address, answer.entity("district"))):
        rest = rest.replace(said, "")
    return len(re.sub(r"[\s，,。.：:！!]", "", rest)) <= MOSTLY_PLACE_REST


def _details_only_text(text: str) -> bool:
    """A turn that only gives a phone number (and a few words around it)."""
    if phone_in(text) is None:
        return False
    rest = "".join(ch for ch in text if not ch.isdigit())
    return len(rest.strip(" ，,。.：:-+")) <= 8


def _details_only(answer: BotAnswer, text: str, config: RoutingConfig) -> BotAnswer:
    """A turn that only gives a phone number is never an emergency (nor an escalation) by
    itself, whatever the parser made of the digits."""
    if answer.intent not in config.escalation.intents or not _details_only_text(text):
        return answer
    return replace(answer, intent="inform", confidence=0.0)


def _phone_of(customer: Customer) -> str | None:
    identity = customer.identity(IdentityKind.PHONE)
    return identity.value if identity else None


def _watchers(conv: Conversation) -> tuple[str, ...]:
    return tuple(a for a in (conv.agent, *conv.participants) if a)
