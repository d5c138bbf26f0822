"""The web chat's HTTP side: the widget files, a demo page, uploads and downloads."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from agent_web.auth import refusal, signed_in
from agent_web.keys import ACD, ROUTER
from channels.webchat import socket, texts
from channels.webchat.download_access import staff_may_download
from channels.webchat.keys import TOKENS, UPLOADS
from channels.webchat.upload_form import read_form_file
from channels.webchat.uploads import MAX_BYTES, UPLOAD_ID, UploadQuotaExceeded, sniff

STATIC = Path(__file__).resolve().parent / "static"


def _visitor(request: web.Request) -> str | None:
    """The visitor of a valid visitor/token pair in the query; None when none is given.
    Raises 403 for a wrong token."""
    visitor, token = request.query.get("visitor", ""), request.query.get("token", "")
    if not visitor and not token:
        return None
    if not request.app[TOKENS].valid(visitor, token):
        raise _refuse(403, texts.IDENTITY_FAILED)
    return visitor


async def upload(request: web.Request) -> web.Response:
    visitor = _visitor(request)
    if visitor is None:
        raise _refuse(403, texts.IDENTITY_FAILED)
    store = request.app[UPLOADS]
    try:
        await store.check_quota(visitor)  # before reading megabytes we would refuse
        form = await read_form_file(request, MAX_BYTES)
        mime = sniff(form.data[:16])
        if mime is None:
            raise _refuse(415, texts.UPLOAD_WRONG_TYPE)
        stored = await store.save_within_quota(visitor, form.filename, form.data, mime)
    except UploadQuotaExceeded as e:
        reason = texts.UPLOAD_TOO_MANY if e.by == "files" else texts.UPLOAD_TOO_MUCH
        raise _refuse(429, reason) from None
    return web.json_response(
        {"file": {"id": stored.id, "name": stored.name, "mime": stored.mime, "size": stored.size}},
        dumps=_dumps,
    )


async def download(request: web.Request) -> web.StreamResponse:
    """The visitor who uploaded it, or staff who may read a conversation it was sent in."""
    store = request.app[UPLOADS]
    found = await store.get(request.match_info["upload_id"])
    visitor = _visitor(request)
    if visitor is None:
        staff = await signed_in(request)
        if staff is None:
            raise _refuse(403, texts.IDENTITY_FAILED)
        if found is None:
            raise _refuse(404, texts.FILE_NOT_FOUND)
        if not await staff_may_download(request.app[ROUTER], request.app[ACD], staff, found):
            raise _refuse(403, texts.FILE_FORBIDDEN)
    elif found is None or found.visitor != visitor:
        raise _refuse(404, texts.FILE_NOT_FOUND)  # another visitor's file does not exist
    response = web.FileResponse(store.path(found.id))
    response.content_type = found.mime
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(found.name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


async def widget_js(request: web.Request) -> web.FileResponse:
    return _static("widget.js", "text/javascript")


async def widget_css(request: web.Request) -> web.FileResponse:
    return _static("widget.css", "text/css")


async def demo_page(request: web.Request) -> web.FileResponse:
    return _static("demo.html", "text/html")


def _static(name: str, content_type: str) -> web.FileResponse:
    response = web.FileResponse(STATIC / name)
    response.content_type = content_type
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _refuse(status: int, reason: str) -> web.HTTPException:
    error = {403: "forbidden", 404: "not_found"}.get(status, "bad_upload")
    return refusal(status, error, reason)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/webchat/ws", socket.handle)
    app.router.add_post("/webchat/upload", upload)
    app.router.add_get(f"/webchat/files/{{upload_id:{UPLOAD_ID}}}", download)
    app.router.add_get("/webchat/widget.js", widget_js)
    app.router.add_get("/webchat/widget.css", widget_css)
    app.router.add_get("/webchat/demo", demo_page)
