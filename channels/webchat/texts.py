"""What the web chat says to citizens (zh-CN), for uploads, contact verification and
transcripts."""

from __future__ import annotations

# any frame the hub could not handle now (the database is down, a bug): the widget may retry
UNAVAILABLE = "暂时无法处理，请稍后再试"

# the widget's first words, with the popular questions as buttons under them
GREETING = "您好，这里是12345市民服务热线在线服务，请问有什么可以帮您？您可以直接输入问题，或点击下方的常见问题。"

# uploads
UPLOAD_TOO_MANY = "上传文件过多，请一小时后再试"
UPLOAD_TOO_MUCH = "上传文件总量已达上限，请一小时后再试"
UPLOAD_MALFORMED = "上传内容格式错误，请重新上传"
UPLOAD_NOT_MULTIPART = "请以 multipart/form-data 上传文件"
UPLOAD_NO_FILE = "缺少文件"
UPLOAD_EMPTY = "文件是空的"
UPLOAD_TOO_BIG = "文件不能超过5MB"
UPLOAD_WRONG_TYPE = "只能上传图片（JPG、PNG、GIF、WebP）或PDF文件"
FILE_NOT_FOUND = "文件不存在"
FILE_FORBIDDEN = "无权查看该文件"
IDENTITY_FAILED = "身份校验失败，请刷新页面"

# contact verification (a one-time code by SMS or e-mail)
CODE_SMS = "【12345热线】您的验证码为{code}，{minutes}分钟内有效。请勿告诉他人；如非本人操作，请忽略本短信。"
CODE_MAIL_SUBJECT = "【12345热线】邮箱验证码"
CODE_MAIL = (
    "您好！\n\n您正在12345热线在线咨询中验证邮箱，验证码为：{code}\n\n"
    "验证码{minutes}分钟内有效。请勿告诉他人；如非本人操作，请忽略本邮件。"
)
CODES_TOO_OFTEN = "验证码发送过于频繁，请稍后再试"
CODE_NO_SMS = "暂时无法发送短信验证码，请稍后再试"
CODE_NO_MAIL = "暂时无法发送邮件验证码，请稍后再试"
CODE_NONE = "请先获取验证码"
CODE_WRONG = "验证码不正确，还可以再试{left}次"
CODE_EXPIRED = "验证码已过期，请重新获取"
CODE_EXHAUSTED = "验证码错误次数过多，请重新获取"
CODE_USED = "验证码已使用，请重新获取"
PHONE_INVALID = "请填写正确的手机号码"

# transcripts
TRANSCRIPT_PHONE_UNVERIFIED = "请先验证该手机号码，再发送聊天记录"
TRANSCRIPT_EMAIL_UNVERIFIED = "请先验证该邮箱，再发送聊天记录"
TRANSCRIPTS_TOO_OFTEN = "发送聊天记录过于频繁，请稍后再试"
