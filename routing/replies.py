"""Everything the router says to citizens, in zh-CN, in one place."""

from __future__ import annotations

HUMAN_BUTTON = "转人工"

GREETING = "您好，这里是12345市民服务热线智能客服，请问有什么可以帮您？"
THANKS = "不客气，很高兴为您服务。还有其他问题可以随时问我。"
GOODBYE = "感谢您的来访，再见！如需帮助请随时联系12345。"
AFFIRM = "好的。还有其他需要帮助的吗？"
DENY = "好的，请问还有什么可以帮您？您也可以点击“转人工”联系人工客服。"
BOT_IDENTITY = (
    "我是12345市民服务热线的智能客服，可以解答办事咨询，帮您登记投诉、报修和家政预约。"
    "需要人工服务请回复“转人工”。"
)
PRAISE = "感谢您的肯定和鼓励！还有其他问题可以随时问我。"
SUGGESTION = (
    "感谢您的宝贵建议！如需登记为正式建议、由相关部门答复，请回复“转人工”，客服会为您登记。"
)
OUT_OF_SCOPE = (
    "抱歉，这个问题不在12345热线的服务范围内。我可以为您解答办事咨询，登记投诉、报修和家政预约；"
    "需要人工服务请回复“转人工”。"
)
RATED = "感谢您的评价，我们会继续改进服务。还有其他问题可以随时问我。"
FEEDBACK = {"praise": PRAISE, "suggestion": SUGGESTION, "rate_service": RATED}
NOT_UNDERSTOOD = "抱歉，我还没有理解您的问题。能换个说法再描述一下吗？您也可以回复“转人工”。"
CLARIFY_PREFIX = "您是想问以下哪个问题？"
# an answer to a follow-up of a clarify offer nobody picked from: which question it answers
TENTATIVE_ANSWER = "关于“{}”：{}"
BLOCKED = "抱歉，您的账号暂时无法使用在线服务。如有紧急情况请拨打110、119或120。"
DAILY_LIMIT = "您今天的咨询次数已达上限，请明天再来。如有紧急情况请拨打110、119或120。"
TOO_LONG = "您的消息太长了，请分几条发送，每条不超过{limit}个字。"
EMERGENCY = (
    "已收到您的紧急求助，正在为您优先转接人工客服，请保持在线。"
    "如有生命危险，请立即拨打120（急救）、110（报警）或119（火警）。"
)
ASSIGNED = "您好，人工客服{agent}为您服务。"
TRANSFERRED = "正在为您转接到{queue}，请稍候。"
BACK_TO_BOT = "人工服务已结束，智能客服继续为您服务。"
CLOSED = "本次服务已结束，感谢您的咨询。"
LEAVE_MESSAGE_ASK = (
    "请直接输入您要留言的内容（事项、地址和联系方式），我们将在工作时间处理并回复您。"
)
LEAVE_MESSAGE_DONE = "您的留言已登记，工单号{case}。我们会在工作时间尽快处理。"
CALLBACK_DONE = "已为您预约回电，工单号{case}，工作人员将在{when}后回电。"
CALLBACK_NEED_PHONE = "请输入方便接听的手机号码，我们将在工作时间给您回电。"
LEAVE_BUTTON = "留言"
CALLBACK_BUTTON = "预约回电"


def queued(queue_title: str, position: int, wait_s: int, agents_online: int | None = None) -> str:
    """agents_online=0: no agent of the queue is signed in, so no wait can be promised."""
    if agents_online == 0:
        return no_agent_online(queue_title)
    return f"正在为您转接人工客服（{queue_title}），您前面还有{max(0, position - 1)}位，{_wait(wait_s)}"


def still_waiting(position: int, wait_s: int, agents_online: int | None = None) -> str:
    if agents_online == 0:
        return no_agent_online("")
    return f"人工客服正在忙，您前面还有{max(0, position - 1)}位，{_wait(wait_s)}请耐心等候。"


def no_agent_online(queue_title: str) -> str:
    """The honest answer when nobody could take the chat now: no position, no estimate."""
    where = f"（{queue_title}）" if queue_title else ""
    return (
        f"抱歉，现在暂无人工客服{where}在线，无法估计等待时间。"
        f"您可以继续等待，客服上线后会第一时间为您接通；也可以回复“{LEAVE_BUTTON}”留下您的问题，"
        f"或回复“{CALLBACK_BUTTON}”预约回电。"
    )


def _wait(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"预计等待约{minutes}分钟。"


def after_hours(hours: str) -> str:
    return (
        f"现在是非工作时间（人工服务时间：{hours}）。"
        f"您可以回复“{LEAVE_BUTTON}”留下您的问题，或回复“{CALLBACK_BUTTON}”预约工作时间回电。"
    )


def queue_full() -> str:
    return f"当前咨询人数较多。您可以继续等待，或回复“{CALLBACK_BUTTON}”预约回电。"


def clarify(choices: tuple[str, ...]) -> str:
    lines = [CLARIFY_PREFIX] + [f"{i}. {c}" for i, c in enumerate(choices, 1)]
    return "\n".join([*lines, CLARIFY_HINT])


CLARIFY_HINT = "请回复序号或点击问题。"
_CHOICE_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def chosen(text: str, choices: tuple[str, ...]) -> str | None:
    """The choice a reply like "2", "２", "第二个" or "二" picks from a clarify list."""
    t = text.strip().strip("。.！!").removeprefix("第").removesuffix("个").removesuffix("条")
    t = t.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    n = int(t) if t.isdigit() and len(t) <= 2 else _CHOICE_NUMBERS.get(t)
    return choices[n - 1] if n and 1 <= n <= len(choices) else None
