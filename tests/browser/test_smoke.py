from aiohttp import web
from playwright.async_api import Browser

from tests.browser.conftest import SCREENSHOTS, serve


async def test_chromium_renders_chinese_from_a_local_server(browser: Browser):
    async def page(_: web.Request) -> web.Response:
        return web.Response(
            text="<html><body><h1 id=t>市民服务热线</h1></body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", page)
    server = await serve(app)
    try:
        context = await browser.new_context()
        tab = await context.new_page()
        await tab.goto(str(server.make_url("/")))
        assert await tab.inner_text("#t") == "市民服务热线"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await context.close()
    finally:
        await server.close()
