"""The WeChat official-account server API over aiohttp: access_token, customer-service
messages, template messages, menu.

The access_token is cached and refreshed when WeChat says it is invalid or expired
(40001 / 40014 / 42001); concurrent callers share one refresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TEXT_LIMIT_BYTES = 2048  # one customer-service text message, UTF-8
STALE_TOKEN = frozenset({40001, 40014, 42001})


class WeChatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatApi:
    def __init__(self, base: str, app_id: str, app_secret: str, *, timeout_s: float = 10.0) -> None:
        self._base = base.rstrip("/") + "/"
        self._app_id = app_id
        self._secret = app_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None
        self._token = ""
        self._expires_at = 0.0
        self._refresh = asyncio.Lock()
        self.token_fetches = 0

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def send_text(self, openid: str, text: str) -> None:
        for part in split_text(text):
            await self.send_part(openid, part)

    async def send_part(self, openid: str, part: str) -> None:
        """One customer-service text message (at most TEXT_LIMIT_BYTES, see split_text)."""
        await self.call(
            "message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": part}},
        )

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], url: str = ""
    ) -> None:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        await self.call("message/template/send", body)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("menu/create", menu)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST body to path with the access_token; one retry after a token refresh."""
        token = await self._access_token()
        result = await self._post(path, token, body)
        if result.get("errcode") in STALE_TOKEN:
            token = await self._access_token(stale=token)
            result = await self._post(path, token, body)
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise WeChatApiError(errcode, str(result.get("errmsg", "")))
        return result

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        async with self._session().post(
            self._base + path,
            params={"access_token": token},
            data=data,
            headers={"Content-Type": "application/json; charset=utf-8"},
        ) as resp:
            return await resp.json(content_type=None)

    async def _access_token(self, stale: str = "") -> str:
        if self._token and self._token != stale and time.monotonic() < self._expires_at:
            return self._token
        async with self._refresh:
            if self._token and self._token != stale and time.monotonic() < self._expires_at:
                return self._token  # another caller refreshed while we waited
            params = {
                "grant_type": "client_credential",
                "appid": self._app_id,
                "secret": self._secret,
            }
            async with self._session().get(self._base + "token", params=params) as resp:
                result = await resp.json(content_type=None)
            self.token_fetches += 1
            if "access_token" not in result:
                raise WeChatApiError(int(result.get("errcode", -1)), str(result.get("errmsg", "")))
            self._token = str(result["access_token"])
            # refresh a little early: a token that expires in flight costs a retry
            self._expires_at = time.monotonic() + max(60, int(result.get("expires_in", 7200)) - 300)
            log.info("wechat.token_refreshed")
            return self._token

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        return self._http


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> Iterator[str]:
    """Parts of at most `limit` UTF-8 bytes, cut between characters (at a newline if one is
    near the end of the part)."""
    rest = text
    while len(rest.encode("utf-8")) > limit:
        size, cut = 0, 0
        for i, ch in enumerate(rest):
            size += len(ch.encode("utf-8"))
            if size > limit:
                break
            cut = i + 1
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        yield rest[:cut]
        rest = rest[cut:]
    if rest:
        yield rest
