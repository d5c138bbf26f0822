"""A Telegram Bot API emulator on localhost (https://core.telegram.org/bots/api), enough for
aiogram 3 pointed at it with TelegramAPIServer.from_base(emulator.base_url).

Methods: getMe, sendMessage (4096-character limit, failures injectable: 429 with
parameters.retry_after, 403 blocked), getUpdates (offset confirms earlier updates, long
poll with timeout), setWebhook / deleteWebhook / getWebhookInfo, getFile and the file
download path. Tests build updates (text, voice, location, contact), queue them for
getUpdates or post them to the registered webhook with the secret-token header.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456:EMULATOR-token_abcdefghijklmnopqrstuv"
BOT_ID = 123456
MAX_TEXT = 4096


@dataclass
class _Failure:
    code: int
    description: str
    retry_after: int | None


class TelegramEmulator:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.sent: list[dict[str, Any]] = []
        self.send_attempts = 0  # sendMessage calls that passed validation, failed ones too
        self.webhook: dict[str, str] = {}
        self.get_updates_calls: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._closing = False
        self._failures: list[_Failure] = []
        self._files: dict[str, tuple[str, bytes]] = {}
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> TelegramEmulator:
        await self._server.start_server()
        return self

    async def close(self) -> None:
        self._closing = True
        self._arrived.set()  # release long polls still waiting
        await self._server.close()

    async def __aenter__(self) -> TelegramEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # test controls
    def fail_next(
        self, code: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        self._failures += [_Failure(code, description, retry_after)] * times

    def add_file(self, file_id: str, data: bytes, path: str) -> None:
        self._files[file_id] = (path, data)

    def push(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._arrived.set()

    async def post_webhook(self, update: dict[str, Any], secret: str | None) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.webhook["url"], data=json.dumps(update), headers=headers) as r,
        ):
            return r.status, await r.text()

    def texts_to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if m["chat"]["id"] == chat_id]

    # updates as Telegram builds them
    def _message(self, user_id: int, first_name: str, **content: Any) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": first_name},
                "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                **content,
            },
        }

    def text_update(self, user_id: int, text: str, *, first_name: str = "张三") -> dict[str, Any]:
        return self._message(user_id, first_name, text=text)

    def voice_update(self, user_id: int, file_id: str, duration: int = 3) -> dict[str, Any]:
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(self._files.get(file_id, ("", b""))[1]),
        }
        return self._message(user_id, "张三", voice=voice)

    def location_update(self, user_id: int, latitude: float, longitude: float) -> dict[str, Any]:
        return self._message(
            user_id, "张三", location={"latitude": latitude, "longitude": longitude}
        )

    def contact_update(self, user_id: int, phone: str, *, own: bool = True) -> dict[str, Any]:
        contact = {"phone_number": phone, "first_name": "张三"}
        if own:
            contact["user_id"] = user_id
        return self._message(user_id, "张三", contact=contact)

    # the API
    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        handler = getattr(self, "_m_" + request.match_info["method"].lower(), None)
        if handler is None:
            return _error(404, "Not Found")
        return await handler(params)

    async def _m_getme(self, params: dict[str, Any]) -> web.Response:
        return _ok(
            {"id": BOT_ID, "is_bot": True, "first_name": "12345热线", "username": "hotline_bot"}
        )

    async def _m_sendmessage(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text", ""))
        if "chat_id" not in params:
            return _error(400, "Bad Request: chat_id is empty")
        if not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        self.send_attempts += 1
        if self._failures:
            f = self._failures.pop(0)
            return _error(f.code, f.description, f.retry_after)
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "12345热线"},
            "text": text,
        }
        self.sent.append(message)
        return _ok(message)

    async def _m_getupdates(self, params: dict[str, Any]) -> web.Response:
        self.get_updates_calls.append(params)
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout and not self._closing:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        return _ok(self._updates[:limit])

    async def _m_setwebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token", "")}
        return _ok(True)

    async def _m_deletewebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {}
        return _ok(True)

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> web.Response:
        return _ok({"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)})  # fmt: skip

    async def _m_getfile(self, params: dict[str, Any]) -> web.Response:
        file_id = str(params.get("file_id", ""))
        if file_id not in self._files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self._files[file_id]
        return _ok({"file_id": file_id, "file_unique_id": f"u-{file_id}",
                    "file_size": len(data), "file_path": path})  # fmt: skip

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        for path, data in self._files.values():
            if path == request.match_info["path"]:
                return web.Response(body=data)
        return _error(404, "Not Found")


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post()  # urlencoded or multipart (aiogram sends multipart)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)
