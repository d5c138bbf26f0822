"""What the official account says by itself (zh-CN)."""

WELCOME = (
    "欢迎关注12345政务服务便民热线！\n"
    "请直接输入您的问题，例如“新生儿医保怎么办”；需要人工服务请回复“转人工”；"
    "查询工单进度请回复“查询进度+工单号”。"
)
SURVEY_THANKS = "感谢您的评价，我们会持续改进服务。"
OUTSIDE_WINDOW = "用户48小时内未与公众号互动，无法发送客服消息"
# Menu CLICK keys (hub/data/wechat_menu.json) and the message each stands for.
CLICK_TEXT = {
    "ASK_HUMAN": "转人工",
    "CASE_STATUS": "查询工单进度",
    "LEAVE_MESSAGE": "留言",
    "FAQ": "常见问题",
}
