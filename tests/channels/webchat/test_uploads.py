"""Uploads: checked by content and size, limited per visitor and hour, stored under
unguessable ids, downloadable only by their visitor or by staff who may read the
conversation they were sent in, and always served as attachments."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import aiohttp

from channels.webchat.keys import TOKENS, UPLOADS
from channels.webchat.uploads import MAX_BYTES
from mongo.client import Database
from tests.agent_web.conftest import Hub
from tests.channels.webchat.tabs import open_tab

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BOUNDARY = b"hub-test-boundary"


def _form(data: bytes, name: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def _upload(hub: Hub, visitor: str, token: str, data: bytes, name: str):
    return await hub.client.post(
        "/webchat/upload", params={"visitor": visitor, "token": token}, data=_form(data, name)
    )


async def _raw_upload(hub: Hub, body: bytes) -> aiohttp.ClientResponse:
    visitor, token = hub.client.app[TOKENS].new_visitor()
    return await hub.client.post(
        "/webchat/upload",
        params={"visitor": visitor, "token": token},
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()},
    )


def _part(filename: bytes, data: bytes) -> bytes:
    return (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: image/png\r\n\r\n" + data
    )


async def _sent_to_agent1(hub: Hub) -> str:
    """A visitor uploads an image and sends it asking for a person; agent1 serves them.
    Returns the upload's id."""
    await hub.staff("agent1", ready=True)
    tab = await open_tab(hub)
    welcome = await tab.until("welcome")
    await tab.until("synced")
    resp = await _upload(hub, welcome["visitor"], welcome["token"], PNG, "积水.png")
    file_id = (await resp.json())["file"]["id"]
    await tab.send(type="message", client_id="c-upload-0001", text="转人工", file=file_id)
    await tab.until("state", state="assigned")
    await tab.ws.close()
    return file_id


async def test_an_image_is_stored_and_served_as_a_download_to_its_visitor(hub: Hub):
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


async def test_upload_ids_are_unguessable(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    ids = [
        (await (await _upload(hub, visitor, token, PNG, "a.png")).json())["file"]["id"]
        for _ in range(2)
    ]
    for upload_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", upload_id), upload_id
        assert not re.fullmatch(r"[0-9a-f]{24}", upload_id)  # not a time-ordered ObjectId
    assert ids[0][:8] != ids[1][:8]


async def test_uploads_stored_under_old_ids_stay_readable(hub: Hub, db: Database):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    old_id = "65f0c0ffee0000000000abcd"
    path = hub.app[UPLOADS].path(old_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG)
    await db["uploads"].insert_one(
        {
            "_id": old_id,
            "visitor": visitor,
            "name": "旧图.png",
            "mime": "image/png",
            "size": len(PNG),
            "at": datetime.now(UTC),
        }
    )
    got = await hub.client.get(
        f"/webchat/files/{old_id}", params={"visitor": visitor, "token": token}
    )
    assert got.status == 200
    assert await got.read() == PNG


async def test_uploads_past_the_hourly_quota_are_refused(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    for n in range(20):
        assert (await _upload(hub, visitor, token, PNG, f"{n}.png")).status == 200
    refused = await _upload(hub, visitor, token, PNG, "21.png")
    assert refused.status == 429
    assert (await refused.json())["reason"] == "上传文件过多，请一小时后再试"
    other, other_token = hub.client.app[TOKENS].new_visitor()
    assert (await _upload(hub, other, other_token, PNG, "a.png")).status == 200


async def test_uploads_past_the_hourly_volume_are_refused(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    big = PNG + b"\x00" * (MAX_BYTES - len(PNG) - 100 * 1024)  # 4.9 MB
    for n in range(6):  # 29.4 MB
        assert (await _upload(hub, visitor, token, big, f"{n}.png")).status == 200
    refused = await _upload(hub, visitor, token, big, "7.png")
    assert refused.status == 429
    assert (await refused.json())["reason"] == "上传文件总量已达上限，请一小时后再试"


async def test_a_nul_in_the_filename_is_a_400(hub: Hub):
    resp = await _raw_upload(hub, _part(b"a\x00.png", PNG) + b"\r\n--" + BOUNDARY + b"--\r\n")
    assert resp.status == 400
    assert (await resp.json())["reason"] == "上传内容格式错误，请重新上传"


async def test_a_multipart_body_without_its_closing_boundary_is_a_400(hub: Hub):
    for body in (
        _part(b"a.png", PNG),  # cut off after the data
        _part(b"a.png", PNG + b"\x01" * 200_000),
        b"--" + BOUNDARY,
        b"",
    ):
        resp = await _raw_upload(hub, body)
        assert resp.status == 400, body[:60]
        assert (await resp.json())["reason"] == "上传内容格式错误，请重新上传"


async def test_oversize_and_unauthenticated_uploads_are_refused(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    big = await _upload(hub, visitor, token, PNG + b"\x00" * MAX_BYTES, "big.png")
    assert big.status == 413
    forged = await _upload(hub, visitor, "f" * 64, PNG, "a.png")
    assert forged.status == 403


async def test_html_disguised_as_an_image_is_refused(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    resp = await _upload(hub, visitor, token, b"<html><script>alert(1)</script>", "x.png")
    assert resp.status == 415
    assert "只能上传图片" in (await resp.json())["reason"]


async def test_a_department_user_cannot_download_a_citizens_upload(hub: Hub):
    file_id = await _sent_to_agent1(hub)
    water = await hub.staff("water1")
    resp = await water.get(f"/webchat/files/{file_id}")
    assert resp.status == 403
    assert (await resp.json())["reason"] == "无权查看该文件"


async def test_an_agent_who_does_not_serve_the_conversation_cannot_download_its_upload(
    hub: Hub,
):
    file_id = await _sent_to_agent1(hub)
    other = await hub.staff("agent2")
    assert (await other.get(f"/webchat/files/{file_id}")).status == 403


async def test_the_serving_agent_a_supervisor_and_an_admin_download_the_upload(hub: Hub):
    file_id = await _sent_to_agent1(hub)
    for login in ("agent1", "super", "admin"):
        member = next((s for s in hub.sessions if s.login == login), None)
        member = member or await hub.staff(login)
        resp = await member.get(f"/webchat/files/{file_id}")
        assert resp.status == 200, login
        assert await resp.read() == PNG


async def test_an_upload_sent_in_no_conversation_is_refused_to_agents(hub: Hub):
    visitor, token = hub.client.app[TOKENS].new_visitor()
    file_id = (await (await _upload(hub, visitor, token, PNG, "a.png")).json())["file"]["id"]
    agent = await hub.staff("agent1")
    assert (await agent.get(f"/webchat/files/{file_id}")).status == 403
