"""What citizens and departments read in SMS (zh-CN). Case texts take the case's fields."""

from __future__ import annotations

from channels.revisit import ASK

SIGNATURE = "【12345热线】"
OPTED_OUT = f"{SIGNATURE}您已退订短信通知，将不再收到工单进度短信。如需恢复，请回复“订阅”。"
OPTED_IN = f"{SIGNATURE}您已恢复接收工单进度短信通知。回复“退订”可取消。"
SURVEY_THANKS = f"{SIGNATURE}感谢您的评价，我们会持续改进服务。"
OPT_OUT_HINT = "回复“退订”不再接收"

ACCEPTED = (
    SIGNATURE + "您反映的问题已受理，工单号{number}（{title}），我们将尽快办理。" + OPT_OUT_HINT
)
DISPATCHED = SIGNATURE + "您的工单{number}已转交{department}办理，办理时限至{due}。" + OPT_OUT_HINT
DEPARTMENT = SIGNATURE + "贵单位有新派工单{number}：{title}。请于{due}前签收办理。"
COMPLETED = SIGNATURE + "您的工单{number}已办理完毕：{reply}。" + ASK
CLOSED = SIGNATURE + "您的工单{number}已办结，感谢您对12345热线的支持。" + OPT_OUT_HINT
