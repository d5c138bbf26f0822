"""Case intake by the bot: complaint, repair, domestic-service order, callback.

The bot asks only for what is missing (one question at a time, 取消 stops, 转人工 at every
question), reads the summary back (确认 / 修改), files the case through the case desk (accepted,
so the citizen's notices fire), tells its number where no notice will, and hands the
conversation to the right queue with the case linked. Emergencies never reach this module: the
router escalates them first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from cases.desk import CaseDesk
from cases.model import CaseType, NewCase
from cases.workflow import CaseAction, CaseCommand
from primitives.local_time import local_time
from routing.bot import BotAnswer, KbDecision
from routing.case_notices import CHAT_CHANNELS
from routing.config import IntakePolicy
from routing.conversation_model import Conversation
from routing.dialogue_state import DialogueState, is_question, phone_in
from routing.replies import HUMAN_BUTTON

CANCEL_WORDS = ("取消", "算了", "不用了", "不办了")
HUMAN_WORDS = ("转人工", "人工")
CONFIRM_WORDS = ("确认", "确定", "对的", "没问题", "正确", "是的", "可以", "好的", "对")
EDIT_WORDS = ("修改", "不对", "改一下", "错了")
CONFIRM_BUTTON, EDIT_BUTTON = "确认", "修改"

KIND_NAMES = {
    "complaint": "投诉",
    "repair": "报修",
    "domestic_service_order": "家政服务预约",
    "todo": "预约回电",
}
# what a time for a visit looks like; anything else is asked again
_TIME = re.compile(
    r"\d|[一二三四五六七八九十两]+[点号日]|[今明后]天|大后天|周|星期|礼拜|月|号|上午|下午|晚上|早上|中午|"
    r"傍晚|凌晨|尽快|随时|都行|都可以|越快越好|马上|立即|现在|工作日|周末|节后|改天|过几天"
)
ADDRESS_AGAIN = "请告诉我具体地点，例如“东湖区书院街12号”或“锦绣花园3栋”。"
AGAIN = {"address": ADDRESS_AGAIN}  # the second time a slot is asked for, with an example
PASSABLE = frozenset({"address"})  # after two questions the intake goes on without it
# what the read-back says for a slot left empty
MISSING = {
    "address": "未提供（如需补充请回复“修改”）",
    "time": "未指定，服务人员会电话与您约定",
    "phone": "未提供",
}
_PIECES = re.compile(r"[\s，,。.！!～~、]+")
# regional yes-words too: 对头, 要得 (西南), 中 (河南), 是滴, 妥
_YES = frozenset(
    {*CONFIRM_WORDS, "没错", "嗯", "嗯嗯", "行", "好", "是", "对对", "对呀", "是啊", "好嘞"}
    | {"对头", "要得", "中", "是滴", "对滴", "妥", "妥了", "OK", "ok", "好滴", "没毛病"}
    # northern: 嗯呐 = 嗯
    | {"嗯呐", "嗯哪"}
    # Cantonese
    | {"冇问题", "无问题", "系", "系啊", "啱", "啱啊", "得", "好啊", "就咁啦", "就咁"}
    | {"啱晒", "冇错"}
    # south-west: 没得问题 = 没问题
    | {"没得问题", "没得事", "要得嘛"}
)
# a yes said with a frame around it: 这回对头了, 没错啦, 好的呀
_YES_FRAME = re.compile(r"^(这回|这下|这次|现在)?(.+?)(了|啦|啊|呀|哈|嘛|喽|咯|哦)*$")


def _is_yes(piece: str) -> bool:
    if piece in _YES:
        return True
    m = _YES_FRAME.match(piece)
    return bool(m) and m.group(2) in _YES


def _confirms(text: str) -> bool:
    """确认, or a few yes-words together (是的 没错, 对 没问题)."""
    pieces = [p for p in _PIECES.split(text) if p]
    return bool(pieces) and all(_is_yes(p) for p in pieces)


def _confirms_and_urges(text: str) -> bool:
    """A yes first, then only words that urge or agree (确认，快点派人来; 是的，麻烦尽快处理;
    对，就这些): no correction, no new detail."""
    pieces = [p for p in _PIECES.split(text) if p]
    if len(pieces) < 2 or not _is_yes(pieces[0]) or phone_in(text) or re.search(r"\d", text):
        return False
    rest = "".join(pieces[1:])
    return not any(w in rest for w in (*EDIT_WORDS, "不", "没", "改", "换", "但", "还有"))


def _only_yes_no(text: str) -> bool:
    pieces = [p for p in _PIECES.split(text) if p]
    no = {*EDIT_WORDS, "不是", "没有", "不用"}
    return bool(pieces) and all(_is_yes(p) or p in no for p in pieces)


TIME_AGAIN = "请告诉我方便上门的时间，例如“明天上午”或“周六下午”；没有要求请回复“尽快”。"
QUESTIONS = {
    "address": "请问具体地址是哪里？（区、街道或小区、楼栋门牌）",
    "phone": "请留一个方便联系您的手机号码。",
    "time": "请问希望什么时间上门服务？",
}
SLOT_NAMES = {"address": "地址", "phone": "电话", "time": "时间", "service_type": "服务"}
PHONE_AGAIN = "没有识别到手机号码，请输入11位手机号码。"
EDIT_ASK = "请直接发送要修改的内容（新的地址、电话或时间）。"
CANCELLED = "好的，已取消本次登记。还有其他需要帮助的吗？"
FILED = "已为您登记{kind}，工单号{number}。"
FILED_CHAT = "已为您登记{kind}。"
CALLBACK_FILED = "已为您预约回电，工单号{number}，工作人员将在{when}后回电。"


@dataclass(frozen=True, slots=True)
class Step:
    """What the intake says now; handover names the queue to hand the conversation to."""

    state: DialogueState
    text: str
    buttons: tuple[str, ...] = ()
    handover: str | None = None  # queue
    reason: str = ""
    case_number: str | None = None


class Intake:
    def __init__(
        self, cases: CaseDesk, policy: IntakePolicy, callback_at: Callable[[], datetime]
    ) -> None:
        self._cases = cases
        self._policy = policy
        self._callback_at = callback_at  # when a callback can happen (the queue's hours)

    @property
    def intents(self) -> frozenset[str]:
        """The intents taken in as a case (complaint, report_repair …)."""
        return frozenset(self._policy.intents)

    def kind_for(self, answer: BotAnswer, text: str, trusted: bool) -> str | None:
        """The case type a turn starts an intake for, or None."""
        if trusted and answer.intent in self._policy.intents:
            return self._policy.intents[answer.intent]
        if self._policy.ask.get("todo") and any(w in text for w in self._policy.callback_words):
            return "todo"
        return None

    def request_confidence(self, answer: BotAnswer) -> float:
        """How sure the parser is that the turn asks for a case of some kind: the request
        intents' confidence together (路上有个大坑…能不能派人补一下: report_repair 0.48,
        complaint 0.26), when the best of them is the turn's intent."""
        if answer.intent not in self._policy.intents:
            return 0.0
        if not answer.intents:
            return answer.confidence
        return sum(c for name, c in answer.intents if name in self._policy.intents)

    def kind_for_intent(self, intent: str) -> str | None:
        return self._policy.intents.get(intent)

    def asked_something_else(self, state: DialogueState, text: str, answer: BotAnswer) -> bool:
        """While a detail is asked for, the citizen asks a question the knowledge base answers
        instead of giving it."""
        if state.asking not in ("phone", "address", "time") or phone_in(text):
            return False
        if answer.decision is not KbDecision.ANSWER:
            return False
        t = text.strip()
        return is_question(t)

    def start(self, state: DialogueState, kind: str, text: str) -> Step:
        if kind == "repair" and any(w in text for w in self._policy.household_repair):
            kind = "domestic_service_order"
        # main_text is spent: a later bare phone number never starts a second intake of it
        state = replace(state, intake=kind, asking="", notes=(text,), main_text="", asked=())
        state = state.with_slots(what=text)
        return self._next(state)

    async def turn(
        self, state: DialogueState, text: str, answer: BotAnswer, conv: Conversation
    ) -> Step:
        """The citizen's reply during an intake (state.intake is set)."""
        t = text.strip().strip("。.！!")
        if any(w in t for w in CANCEL_WORDS):
            return Step(_closed(state), CANCELLED)
        if state.asking == "confirm" and (
            _confirms(t) or _confirms_and_urges(t) or (answer.intent == "affirm" and len(t) <= 4)
        ):
            return await self._file(state, conv)  # filing hands the case to a person too
        gives_detail = phone_in(t) or answer.entity("address")
        if any(w in t for w in HUMAN_WORDS) or (answer.intent == "ask_human" and not gives_detail):
            # (a reply carrying the asked detail is a reply, whatever intent the parser hears)
            return self._hand_over(_closed(state), state.intake)
        if state.asking == "confirm":
            if any(w in t for w in EDIT_WORDS) or (answer.intent == "deny" and len(t) <= 4):
                if phone_in(t) or answer.entity("address"):
                    # the correction comes with the change (不对，电话最后一位是6，139…):
                    # applied, and read back again
                    state = replace(state, notes=(*state.notes, t))
                    return self._next(_fill_any(state, t, answer, overwrite=True))
                return Step(replace(state, asking="edit"), EDIT_ASK, (HUMAN_BUTTON,))
            state = _fill_any(state, t, answer)
            return self._next(state)
        state = replace(state, notes=(*state.notes, t))
        if state.asking == "edit":
            if _only_yes_no(t):
                return self._next(state)  # nothing to change after all: read back again
            return self._next(_fill_any(state, t, answer, overwrite=True))
        if state.asking == "phone":
            phone = answer.entity("phone") or phone_in(t)
            if not phone:
                return Step(state, PHONE_AGAIN, (HUMAN_BUTTON,))
            return self._next(state.with_slots(phone=phone))
        if state.asking == "address":
            phone = answer.entity("phone") or phone_in(t)
            if _only_yes_no(t) or (phone and len(_without_digits(t)) <= 8):
                # "对", or a phone number, to a question that wanted a place: asked again once
                return self._next(state.with_slots(phone=phone))
            address = answer.entity("address") or t
            state = state.with_slots(address=address, district=answer.entity("district"))
            return self._next(state.with_slots(phone=phone))
        if state.asking == "time":
            when = answer.entity("time") or (t if _TIME.search(t) else None)
            if when is None:
                return Step(state, TIME_AGAIN, (HUMAN_BUTTON,))
            return self._next(state.with_slots(time=when))
        return self._next(_fill_any(state, t, answer))

    def _next(self, state: DialogueState) -> Step:
        for slot in self._policy.ask.get(state.intake, ()):
            if state.slot(slot) or (slot in PASSABLE and state.asked.count(slot) >= 2):
                continue  # given, or passed over twice: the read-back shows it missing
            again = slot in state.asked and slot in AGAIN
            asked = replace(state, asking=slot, asked=(*state.asked, slot))
            return Step(asked, AGAIN[slot] if again else QUESTIONS[slot], (HUMAN_BUTTON,))
        return Step(
            replace(state, asking="confirm"),
            self._summary(state),
            (CONFIRM_BUTTON, EDIT_BUTTON, HUMAN_BUTTON),
        )

    def _summary(self, state: DialogueState) -> str:
        lines = [f"请核对登记信息：\n类型：{KIND_NAMES.get(state.intake, state.intake)}"]
        lines.append(f"事项：{state.slot('what') or ''}")
        if state.slot("service_type"):
            lines.append(f"服务：{state.slot('service_type')}")
        optional = self._policy.optional.get(state.intake, ())
        for slot in ("address", "phone", "time"):
            if state.slot(slot):
                lines.append(
                    f"{SLOT_NAMES[slot]}：{_where(state) if slot == 'address' else state.slot(slot)}"
                )
            elif slot in optional or slot in state.asked:
                lines.append(f"{SLOT_NAMES[slot]}：{MISSING[slot]}")
        lines.append("无误请回复“确认”，需要修改请回复“修改”。")
        return "\n".join(lines)

    def _hand_over(self, state: DialogueState, kind: str) -> Step:
        queue = self._policy.queues.get(kind)
        reason = next((i for i, k in self._policy.intents.items() if k == kind), "ask_human")
        return Step(state, "", handover=queue or "", reason=reason)

    def category(self, kind: str, state: DialogueState) -> tuple[str, ...]:
        said = " ".join((*state.notes, state.slot("what") or "", state.slot("service_type") or ""))
        for rule in self._policy.categories:
            if rule.kinds and kind not in rule.kinds:
                continue
            if any(w in said for w in rule.words):
                return _path(rule.code)
        code = self._policy.fallback_category.get(kind)
        return _path(code) if code else ()

    async def _file(self, state: DialogueState, conv: Conversation) -> Step:
        kind = state.intake
        what = state.slot("what") or KIND_NAMES.get(kind, kind)
        service = state.slot("service_type")
        new = NewCase(
            type=CaseType(kind),
            title=((service + "：") if service else "") + what[:40],
            description="\n".join(state.notes)[:2000],
            category=self.category(kind, state),
            customer_id=conv.customer_id,
            conversation_id=conv.id,
            channel=conv.last_channel or conv.channel,
            contact_phone=state.slot("phone"),
            address=_where(state),
            remind_at=self._callback_at() if kind == "todo" else None,
            tags=frozenset({"bot_intake"}),
        )
        case = await self._cases.open(new, actor="bot")
        done = _closed(state).with_slots(case_no=case.number)
        if kind == "todo":
            assert new.remind_at is not None
            text = CALLBACK_FILED.format(number=case.number, when=local_time(new.remind_at))
            return Step(done, text, case_number=case.number)
        case = await self._cases.act(case.number, CaseCommand(CaseAction.ACCEPT, "bot"))
        # chat channels hear the number from the accept notice (routing/case_notices.py)
        told = FILED_CHAT if conv.channel in CHAT_CHANNELS else FILED
        step = self._hand_over(done, kind)
        name = KIND_NAMES.get(kind, kind)
        return replace(
            step, text=told.format(kind=name, number=case.number), case_number=case.number
        )


def _closed(state: DialogueState) -> DialogueState:
    return replace(state, intake="", asking="", notes=state.notes)


def _without_digits(text: str) -> str:
    return "".join(c for c in text if not c.isdigit())


def _where(state: DialogueState) -> str:
    district, address = state.slot("district") or "", state.slot("address") or ""
    return address if district and address.startswith(district) else district + address


def _fill_any(
    state: DialogueState, text: str, answer: BotAnswer, *, overwrite: bool = False
) -> DialogueState:
    """Slots from a free reply: a phone number, a time, otherwise an address."""
    phone = answer.entity("phone") or phone_in(text)
    if phone:
        return state.with_slots(phone=phone)
    if answer.entity("time") and not answer.entity("address"):
        return state.with_slots(time=answer.entity("time"))
    if overwrite or answer.entity("address"):
        return state.with_slots(
            address=answer.entity("address") or text, district=answer.entity("district")
        )
    return state


def _path(code: str) -> tuple[str, ...]:
    return tuple(code[: i + 2] for i in range(0, len(code), 2))
