"""A WeChat emulator on localhost: both sides of an official account's traffic.

* The platform's server API (what wechatpy / our client call): cgi-bin/token,
  message/custom/send (with the 48-hour window: errcode 45015), message/template/send,
  menu/create. Tokens can be revoked (the next call gets 40001) and failures injected.
* The platform's callbacks to the hub: XML signed with the account token, in plaintext,
  compatible or safe (AES) mode, exactly as WeChat builds them (wechatpy's WeChatCrypto).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from wechatpy.crypto import WeChatCrypto

APP_ID = "wx1234567890abcdef"
APP_SECRET = "emulator-app-secret"
TOKEN = "emulatortoken123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues
ACCOUNT = "gh_12345hotline"


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def text_xml(openid: str, content: str, msg_id: int | None, created: int | None = None) -> str:
    """A text message; msg_id None leaves MsgId out (as a forged or broken client might)."""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        + ("" if msg_id is None else f"<MsgId>{msg_id}</MsgId>")
        + "</xml>"
    )


def voice_xml(openid: str, recognition: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media-1]]></MediaId>"
        f"<Format><![CDATA[amr]]></Format><Recognition><![CDATA[{recognition}]]></Recognition>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, key: str = "", created: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


@dataclass
class WeChatEmulator:
    """Run with `async with WeChatEmulator() as wx:`; wx.api_base is the cgi-bin/ URL."""

    window_s: float = 48 * 3600
    sent: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    # errcodes for the next send calls (0: that call goes through)
    fail_next: list[int] = field(default_factory=list)
    outage_next: int = 0  # this many next send calls get a 502 HTML page (a broken proxy)
    last_request: tuple[dict[str, str], bytes] = ({}, b"")
    _tokens: set[str] = field(default_factory=set)
    _last_seen: dict[str, float] = field(default_factory=dict)
    _server: TestServer | None = None

    async def __aenter__(self) -> WeChatEmulator:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()

    @property
    def api_base(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/cgi-bin/"))

    # ------------------------------------------------------------ platform state
    def user_wrote(self, openid: str, at: float | None = None) -> None:
        """The user interacted (opens their 48-hour customer-service window)."""
        self._last_seen[openid] = time.time() if at is None else at

    def revoke_tokens(self) -> None:
        self._tokens.clear()

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]

    # ------------------------------------------------------------ callbacks to the hub
    async def post(
        self,
        http: aiohttp.ClientSession,
        url: str,
        xml: str | bytes,
        *,
        mode: str = "plain",
        token: str = TOKEN,
        timestamp: int | None = None,
        nonce: str | None = None,
        decoy: str | None = None,
    ) -> aiohttp.ClientResponse:
        """Deliver xml to the hub as WeChat does; returns the response (body read).

        mode: plain, compat (plaintext fields and Encrypt) or aes (Encrypt only).
        decoy: in compatible mode, the plaintext fields shown beside Encrypt (default: the
        message's own). The request sent is kept in last_request, for replays."""
        params = self.signed_params(token=token, timestamp=timestamp, nonce=nonce)
        raw = xml.encode("utf-8") if isinstance(xml, str) else xml
        body = raw
        if mode in ("compat", "aes"):
            msg_signature, encrypted = self.encrypt(
                raw, params["timestamp"], params["nonce"], token
            )
            params |= {"encrypt_type": "aes", "msg_signature": msg_signature}
            envelope = f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            if mode == "compat":
                shown = decoy if decoy is not None else raw.decode("utf-8")
                inner = shown.removeprefix("<xml>").removesuffix("</xml>")
                body = f"<xml>{inner}{envelope}</xml>".encode()
            else:
                body = (
                    f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>{envelope}</xml>".encode()
                )
        return await self.post_raw(http, url, params, body)

    async def post_raw(
        self, http: aiohttp.ClientSession, url: str, params: dict[str, str], body: bytes
    ) -> aiohttp.ClientResponse:
        """POST exactly these query parameters and body (replays, forgeries, malformed XML)."""
        self.last_request = (dict(params), body)
        resp = await http.post(url, params=params, data=body, headers={"Content-Type": "text/xml"})
        await resp.read()
        return resp

    @staticmethod
    def signed_params(
        *, token: str = TOKEN, timestamp: int | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """The query WeChat adds to every callback: signature over token, timestamp, nonce."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        once = secrets.token_hex(5) if nonce is None else nonce
        return {
            "signature": sign(token, ts, once),
            "timestamp": ts,
            "nonce": once,
            "openid": "ignored",
        }

    @staticmethod
    def encrypt(xml: bytes, timestamp: str, nonce: str, token: str = TOKEN) -> tuple[str, str]:
        """(msg_signature, Encrypt) for xml, as WeChat builds them in safe mode."""
        import xmltodict

        crypto = WeChatCrypto(token, AES_KEY, APP_ID)
        # encrypt_message returns the reply envelope; WeChat's request carries its Encrypt
        envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        return envelope["MsgSignature"], envelope["Encrypt"]

    @staticmethod
    def decrypt_reply(body: str, params: dict[str, str] | None = None) -> str:
        import xmltodict

        envelope = xmltodict.parse(body)["xml"]
        crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        return crypto.decrypt_message(
            body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )

    # ------------------------------------------------------------ server API
    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != APP_ID or q.get("secret") != APP_SECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_requests += 1
        token = secrets.token_hex(16)
        self._tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    def _bad_token(self, request: web.Request) -> web.Response | None:
        if request.query.get("access_token") not in self._tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return None

    async def _custom_send(self, request: web.Request) -> web.Response:
        if (bad := self._bad_token(request)) is not None:
            return bad
        body = json.loads(await request.read())
        if self.outage_next:
            self.outage_next -= 1
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        code = self.fail_next.pop(0) if self.fail_next else 0
        if code:
            return web.json_response({"errcode": code, "errmsg": "injected"})
        if len(body["text"]["content"].encode("utf-8")) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        seen = self._last_seen.get(body["touser"])
        if seen is None or time.time() - seen > self.window_s:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit"})
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _template_send(self, request: web.Request) -> web.Response:
        if (bad := self._bad_token(request)) is not None:
            return bad
        self.templates.append(json.loads(await request.read()))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates)})

    async def _menu_create(self, request: web.Request) -> web.Response:
        if (bad := self._bad_token(request)) is not None:
            return bad
        self.menus.append(json.loads(await request.read()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})
