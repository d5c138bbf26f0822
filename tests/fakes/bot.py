"""A rule-based stand-in for the NLU + KB bot, so routing tests control every answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.bot import BotAnswer, KbDecision

KB = {
    "医保": ("kb-0001", "社保医保", "新生儿在出生后90天内办理居民医保参保登记。"),
    "停水": ("kb-0040", "供水用水", "计划停水会提前24小时在小区公告。"),
    "保洁": ("kb-0100", "家政服务", "可通过家政服务平台预约保洁。"),
}


@dataclass
class FakeBot:
    calls: list[str] = field(default_factory=list)

    async def answer(self, text: str) -> BotAnswer:
        self.calls.append(text)
        for word, intent in (
            ("救命", "emergency_help"),
            ("转人工", "ask_human"),
            ("投诉", "complaint"),
            ("你好", "greet"),
            ("谢谢", "thank"),
            ("进度", "query_case_status"),
        ):
            if word in text:
                case_no = next((w for w in text.split() if w[:2] == "20" and "-" in w), None)
                entities = (("case_no", case_no),) if case_no else ()
                return BotAnswer(intent, 0.95, KbDecision.NONE, entities=entities)
        for word, (article, category, answer) in KB.items():
            if word in text:
                return BotAnswer("consult", 0.8, KbDecision.ANSWER, answer, article, category)
        if "证件" in text:
            choices = ("身份证丢了怎么补办？", "身份证到期怎么换领？", "临时身份证怎么办？")
            return BotAnswer("consult", 0.6, KbDecision.CLARIFY, "", None, "户籍证件", choices)
        return BotAnswer("out_of_scope", 0.4, KbDecision.NONE)

    def status(self) -> dict[str, object]:
        return {"backend": "fake"}
