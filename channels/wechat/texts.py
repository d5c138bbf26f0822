"""What the official account says by itself (zh-CN)."""

WELCOME = (
    "欢迎关注12345政务服务便民热线！\n"
    "请直接输入您的问题，例如“新生儿医保怎么办”；需要人工服务请回复“转人工”；"
    "查询工单进度请回复“查询进度+工单号”。"
)
SURVEY_THANKS = "感谢您的评价，我们会持续改进服务。"
# Why a customer-service message did not go out: stored on the message, shown in the inbox.
SEND_FAILED = {
    45015: "已超过48小时互动窗口，无法通过公众号回复，请改用短信",
    45047: "客服消息条数已达上限（用户再次发言前最多5条），请等用户回复或改用短信",
    43004: "用户已取消关注公众号，无法发送消息，请改用短信",
    40003: "用户标识（openid）无效，无法发送",
    45002: "消息内容超过微信长度限制，无法发送",
    48001: "公众号未获得客服消息接口权限，请联系管理员",
    45009: "公众号接口今日调用次数已达上限，请改用短信",
    40125: "公众号AppSecret无效，无法获取接口凭证，请联系管理员",
    40164: "本服务器IP不在公众号接口白名单中，请联系管理员",
    40001: "公众号接口凭证无效，请联系管理员检查AppSecret",
    42001: "公众号接口凭证已过期且刷新失败，请联系管理员",
    -1: "微信系统繁忙，发送失败",
}
SEND_FAILED_OTHER = "微信接口错误（错误码{errcode}），发送失败"
API_UNREACHABLE = "无法连接微信服务器，发送失败"
API_TIMEOUT = "微信服务器响应超时，发送失败"
API_BAD_ANSWER = "微信接口应答异常，发送失败"
# Menu CLICK keys (hub/data/wechat_menu.json) and the message each stands for.
CLICK_TEXT = {
    "ASK_HUMAN": "转人工",
    "CASE_STATUS": "查询工单进度",
    "LEAVE_MESSAGE": "留言",
    "FAQ": "常见问题",
}
