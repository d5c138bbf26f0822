"""`hub serve` and `hub demo`: database, optional demo seed, HTTP server, until a signal."""

from __future__ import annotations

from hub.app import create_app
from hub.demo import DemoLogin, seed_demo
from hub.runtime import database, serve_until_signalled
from hub.settings import Settings
from mongo.client import connect, wait_until_up
from mongo.indexes import ensure_indexes


async def run_server(settings: Settings, *, demo: bool) -> None:
    async with database(settings) as (live, kind):
        logins: list[DemoLogin] = []
        if demo:
            assert live.mongo_url is not None
            client, db = connect(live.mongo_url, live.mongo_db)
            try:
                await wait_until_up(client)
                await ensure_indexes(db)
                logins = await seed_demo(db)
            finally:
                client.close()
            # a demo hub: the test-call page may give a caller number (the caller lookup)
            live = live.model_copy(update={"hub_demo": True})
        app = create_app(live, db_kind=kind)

        async def announce() -> None:
            _print_banner(live, kind, logins)

        await serve_until_signalled(app, live.hub_host, live.hub_port, on_started=announce)


def _print_banner(settings: Settings, kind: str, logins: list[DemoLogin]) -> None:
    base = settings.hub_public_url or f"http://{settings.hub_host}:{settings.hub_port}"
    lines = [
        "",
        "12345 Hub is running",
        f"  health            {base}/healthz",
        f"  agent inbox       {base}/",
        f"  case workbench    {base}/cases",
        f"  department portal {base}/dept",
        f"  supervisor        {base}/supervisor",
        f"  admin             {base}/admin",
        f"  web-chat demo     {base}/webchat/demo",
        f"  voice test call   {base}/webcall"
        + ("?demo=1" if settings.hub_demo else "")
        + ("" if settings.vosk_model else "  (keys only: set VOSK_MODEL for speech)"),
        f"  REST channel      {base}/api/v1/channels/rest/messages",
        f"  database          {kind}"
        + (f" ({settings.hub_db_path})" if kind == "embedded" else ""),
    ]
    if logins:
        lines.append("  demo logins (login / password / role):")
        lines += [f"    {d.login:<12} {d.password:<12} {','.join(d.roles)}" for d in logins]
    lines.append("Press Ctrl+C to stop.")
    print("\n".join(lines), flush=True)
