"""Uploads: checked by content and size, downloadable only by their visitor or staff, and
always served as attachments."""

import aiohttp

from channels.webchat.keys import TOKENS
from channels.webchat.uploads import MAX_BYTES
from tests.agent_web.conftest import Hub

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _form(data: bytes, name: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def _upload(hub: Hub, visitor: str, token: str, data: bytes, name: str):
    return await hub.client.post(
        "/webchat/upload", params={"visitor": visitor, "token": token}, data=_form(data, name)
    )


async def test_an_image_is_stored_and_served_as_a_download(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    resp = await _upload(hub, visitor, token, PNG, "门口<积水>.png")
    assert resp.status == 200
    file = (await resp.json())["file"]
    assert file["mime"] == "image/png"
    assert "<" not in file["name"]
    got = await hub.client.get(
        f"/webchat/files/{file['id']}", params={"visitor": visitor, "token": token}
    )
    assert got.status == 200
    assert await got.read() == PNG
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    other, other_token = hub.client.app[TOKENS].new_visitor()
    stranger = await hub.client.get(
        f"/webchat/files/{file['id']}", params={"visitor": other, "token": other_token}
    )
    assert stranger.status == 404
    agent = await hub.staff("agent1")
    assert (await agent.get(f"/webchat/files/{file['id']}")).status == 200


async def test_html_disguised_as_an_image_is_refused(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    resp = await _upload(hub, visitor, token, b"<html><script>alert(1)</script>", "x.png")
    assert resp.status == 415
    assert "只能上传图片" in (await resp.json())["reason"]


async def test_oversize_and_unauthenticated_uploads_are_refused(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    big = await _upload(hub, visitor, token, PNG + b"\x00" * MAX_BYTES, "big.png")
    assert big.status == 413
    forged = await _upload(hub, visitor, "f" * 64, PNG, "a.png")
    assert forged.status == 403
