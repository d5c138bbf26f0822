"""The web chat's HTTP side: the widget files, a demo page, uploads and downloads."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from channels.webchat import socket
from channels.webchat.keys import TOKENS, UPLOADS
from channels.webchat.uploads import MAX_BYTES, refuse, sniff

STATIC = Path(__file__).resolve().parent / "static"
_CHUNK = 64 * 1024


def _visitor(request: web.Request) -> str:
    visitor = request.query.get("visitor", "")
    if not request.app[TOKENS].valid(visitor, request.query.get("token", "")):
        raise refuse(403, "身份校验失败，请刷新页面")
    return visitor


async def upload(request: web.Request) -> web.Response:
    visitor = _visitor(request)
    if request.content_length is not None and request.content_length > MAX_BYTES + 4096:
        raise refuse(413, "文件不能超过5MB")
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise refuse(400, "请以 multipart/form-data 上传文件") from None
    part = await reader.next()
    while part is not None and getattr(part, "name", None) != "file":
        part = await reader.next()
    if not isinstance(part, BodyPartReader):
        raise refuse(400, "缺少文件")
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data += chunk
        if len(data) > MAX_BYTES:
            raise refuse(413, "文件不能超过5MB")
    if not data:
        raise refuse(400, "文件是空的")
    mime = sniff(bytes(data[:16]))
    if mime is None:
        raise refuse(415, "只能上传图片（JPG、PNG、GIF、WebP）或PDF文件")
    stored = await request.app[UPLOADS].save(visitor, part.filename or "file", bytes(data), mime)
    return web.json_response(
        {"file": {"id": stored.id, "name": stored.name, "mime": stored.mime, "size": stored.size}},
        dumps=_dumps,
    )


async def download(request: web.Request) -> web.StreamResponse:
    from agent_web.auth import signed_in  # staff read any upload; a visitor only their own

    upload_id = request.match_info["upload_id"]
    store = request.app[UPLOADS]
    staff = await signed_in(request)
    found = await store.get(upload_id, None if staff is not None else _visitor(request))
    if found is None:
        raise refuse(404, "文件不存在")
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


def _dumps(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/webchat/ws", socket.handle)
    app.router.add_post("/webchat/upload", upload)
    app.router.add_get("/webchat/files/{upload_id:[0-9a-f]{24}}", download)
    app.router.add_get("/webchat/widget.js", widget_js)
    app.router.add_get("/webchat/widget.css", widget_css)
    app.router.add_get("/webchat/demo", demo_page)
