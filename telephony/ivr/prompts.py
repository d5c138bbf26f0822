"""Everything the IVR itself says to a caller (zh-CN), and how numbers are read out.

Flow files carry their own texts; these are the defaults and the sentences the engine builds."""

from __future__ import annotations

import math

_DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))

NO_INPUT = "抱歉，没有听到您的选择。"
NO_MATCH = "抱歉，您的选择无效。"
ASK_PROMPT = "请在提示音后说出您的问题。"
ASK_NO_INPUT = "抱歉，没有听清您的问题。"
CONFIRM_RESOLVED = "是否解决了您的问题？解决请说是或按1，没解决请说否或按2。"
MORE_QUESTIONS = "请问您还有其他问题吗？有请直接说出，没有请按井号键。"
TRANSFERRING = "正在为您转接人工服务，请稍候。"
NO_AGENTS_GOODBYE = "很抱歉，目前暂无坐席可以接听，请您稍后再拨。再见。"
VOICEMAIL_PROMPT = "请在提示音后留言，留言完毕请按井号键。"
VOICEMAIL_EMPTY = "抱歉，没有录到您的留言。"
CALLBACK_NO_NUMBER = "抱歉，您的来电号码未显示，无法登记回电。"
SURVEY_PROMPT = "请对本次服务进行评价。满意请按1，基本满意请按2，不满意请按3。"
SURVEY_THANKS = "感谢您的评价，再见。"
GOODBYE = "感谢您的来电，再见。"
REFUSAL = "很抱歉，您的号码暂时无法接入本热线。再见。"
SYSTEM_ERROR = "很抱歉，系统暂时出现故障，请您稍后再拨。"

# What a caller may say instead of pressing a survey key ("不满意" must win over "满意").
SURVEY_WORDS: dict[str, tuple[str, ...]] = {
    "1": ("满意", "非常满意"),
    "2": ("基本满意", "一般"),
    "3": ("不满意",),
}
YES_WORDS = ("是", "对", "解决了", "好的", "可以")
NO_WORDS = ("否", "不", "没", "没有")


def spoken_digits(number: str, group: int = 4) -> str:
    """'2026120400012' -> '二零二六，一二零四，零零零一二': one character per digit (never
    "两千零二十六"), with a pause every `group` digits so a caller can write it down."""
    chars = [_DIGITS.get(ch, ch) for ch in number if not ch.isspace()]
    if group <= 0:
        return "".join(chars)
    groups = ["".join(chars[i : i + group]) for i in range(0, len(chars), group)]
    # A lone last digit reads badly after a pause: keep it with the group before.
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    return "，".join(groups)


def wait_announcement(position: int, wait_estimate_s: int) -> str:
    """'您前面还有N位，预计等待约M分钟。' (position 1 means the caller is next)."""
    ahead = max(position - 1, 0)
    minutes = max(math.ceil(wait_estimate_s / 60), 1)
    if ahead == 0:
        return f"您是下一位，预计等待约{minutes}分钟，请稍候。"
    return f"您前面还有{ahead}位，预计等待约{minutes}分钟，请稍候。"


def voicemail_filed(spoken_number: str) -> str:
    return f"您的留言已记录，工单编号是{spoken_number}。"


def callback_filed(phone_tail: str, spoken_number: str) -> str:
    return (
        f"已为您登记回电，我们将在工作时间回电到您的来电号码，尾号{spoken_digits(phone_tail)}。"
        f"登记编号是{spoken_number}。"
    )
