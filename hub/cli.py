"""The `hub` command."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hub.settings import Settings, SettingsError, load_settings

# What the operator's progress bars say (stderr, on a terminal only).
KB_EVAL_LABEL = "知识库评测"
NLU_EVAL_LABEL = "意图评测"
RASA_TRAINING_LABEL = "训练 Rasa 模型"


class UserFacingError(Exception):
    """A failure the command reports in one line (bad file, backend missing), no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except SettingsError as e:
        print(f"hub: {e}", file=sys.stderr)
        return 2
    from hub.logs import setup_logging

    setup_logging(settings.hub_log_level)
    try:
        return int(args.run(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
    except UserFacingError as e:
        print(f"hub: {e}", file=sys.stderr)
        return 2


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hub", description="12345 Hub: omnichannel hotline hub")
    sub = p.add_subparsers(metavar="command")

    db = sub.add_parser("db", help="run the embedded MongoDB-wire server in the foreground")
    db.add_argument("--path", type=Path, help="SQLite file (default: HUB_DB_PATH)")
    db.add_argument("--host", default="127.0.0.1")
    db.add_argument("--port", type=int, default=27017)
    db.set_defaults(run=_cmd_db)

    serve = sub.add_parser("serve", help="run the hub (starts the embedded database if needed)")
    serve.set_defaults(run=_cmd_serve)

    demo = sub.add_parser("demo", help="seed demo data, run the hub and print URLs and logins")
    demo.set_defaults(run=_cmd_demo)

    ev = sub.add_parser("eval", help="evaluate the bot").add_subparsers(metavar="what")
    ev_kb = ev.add_parser("kb", help="knowledge-base retrieval on a YAML query set")
    ev_kb.add_argument("--queries", type=Path, required=True)
    ev_kb.add_argument("--json", action="store_true", help="print one JSON object")
    ev_kb.set_defaults(run=_cmd_eval_kb)
    ev_nlu = ev.add_parser("nlu", help="intent/entity parsing on a Rasa NLU YAML test file")
    ev_nlu.add_argument("--test", type=Path, required=True)
    ev_nlu.add_argument("--backend", choices=["embedded", "rasa"], default="embedded")
    ev_nlu.add_argument("--json", action="store_true", help="print one JSON object")
    ev_nlu.set_defaults(run=_cmd_eval_nlu)
    ev_dlg = ev.add_parser("dialogues", help="multi-turn dialogues through the real router")
    ev_dlg.add_argument("--file", type=Path, required=True, help="YAML list of dialogues")
    ev_dlg.add_argument("--json", action="store_true", help="print one JSON object")
    ev_dlg.set_defaults(run=_cmd_eval_dialogues)

    nlu = sub.add_parser("nlu", help="NLU backends").add_subparsers(metavar="what")
    rasa = nlu.add_parser("rasa", help="train (if needed) and serve the Rasa sidecar at RASA_URL")
    rasa.set_defaults(run=_cmd_nlu_rasa)

    kb = sub.add_parser("kb", help="knowledge-base articles").add_subparsers(metavar="what")
    kb_import = kb.add_parser("import", help="load articles from a YAML or XLSX file")
    kb_import.add_argument("file", type=Path)
    kb_import.add_argument(
        "--replace", action="store_true", help="delete stored articles missing from the file"
    )
    kb_import.set_defaults(run=_cmd_kb_import)
    kb_export = kb.add_parser("export", help="write the stored articles to YAML or XLSX")
    kb_export.add_argument("file", type=Path)
    kb_export.set_defaults(run=_cmd_kb_export)

    wechat = sub.add_parser("wechat", help="WeChat official account").add_subparsers(metavar="what")
    menu = wechat.add_parser("menu", help="the account menu").add_subparsers(metavar="action")
    push = menu.add_parser("push", help="publish a menu JSON file (menu/create format)")
    push.add_argument("file", type=Path)
    push.set_defaults(run=_cmd_wechat_menu_push)
    return p


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from hub.embedded_db import _SERVER_SCRIPT

    path = args.path or settings.hub_db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    python = settings.db_python()
    argv = [
        str(python),
        str(_SERVER_SCRIPT),
        "--path",
        str(path),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    os.execv(python, argv)  # noqa: S606 - replace this process: signals go straight to the server
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from hub.serve import run_server

    asyncio.run(run_server(settings, demo=False))
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from hub.serve import run_server

    asyncio.run(run_server(settings, demo=True))
    return 0


def _print_result(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")


def _cmd_eval_kb(args: argparse.Namespace, settings: Settings) -> int:
    from hub.progress import ProgressEmbedder, track
    from kb.errors import KbError
    from kb.evaluation import run_eval

    _require_file(args.queries)
    try:
        result = run_eval(
            args.queries,
            kb_data=settings.kb_data,
            embedder_spec=settings.kb_embedder,
            thresholds=settings.kb_thresholds,
            cache_root=settings.hub_var_dir / "kb-cache",
            progress=functools.partial(track, desc=KB_EVAL_LABEL, unit="条"),
            wrap_embedder=ProgressEmbedder,  # a large KB's index build shows its own bar
        )
    except (KbError, ValueError) as e:
        raise UserFacingError(str(e)) from e
    _print_result(result, args.json)
    return 0


def _cmd_eval_nlu(args: argparse.Namespace, settings: Settings) -> int:
    from hub.progress import stopwatch, track
    from nlu.errors import NluError
    from nlu.evaluation import run_eval

    _require_file(args.test)
    try:
        result = run_eval(
            args.test,
            backend=args.backend,
            nlu_data=settings.nlu_data,
            rasa_url=settings.rasa_url,
            var_dir=settings.hub_var_dir,
            progress=functools.partial(track, desc=NLU_EVAL_LABEL, unit="条"),
            # Without RASA_URL, backend rasa trains a model first (minutes on a new data hash).
            on_training=functools.partial(stopwatch, RASA_TRAINING_LABEL),
        )
    except NluError as e:
        raise UserFacingError(str(e)) from e
    _print_result(result, args.json)
    return 0


def _cmd_eval_dialogues(args: argparse.Namespace, settings: Settings) -> int:
    from hub.eval_dialogues import evaluate_file

    _require_file(args.file)
    try:
        result = asyncio.run(evaluate_file(args.file, settings))
    except ValueError as e:
        raise UserFacingError(str(e)) from e
    if not args.json:
        result = {k: v for k, v in result.items() if k != "failures"} | {
            "failures": len(result["failures"])
        }
    _print_result(result, args.json)
    return 0


def _cmd_nlu_rasa(args: argparse.Namespace, settings: Settings) -> int:
    from hub.progress import stopwatch
    from nlu.rasa_sidecar import main as rasa_main

    return rasa_main(
        settings.rasa_url or "http://127.0.0.1:5005",
        settings.nlu_data,
        settings.hub_var_dir,
        on_training=functools.partial(stopwatch, RASA_TRAINING_LABEL),
    )


def _cmd_kb_import(args: argparse.Namespace, settings: Settings) -> int:
    from hub.kb_store import import_articles

    _require_file(args.file)
    counts = asyncio.run(_with_database(settings, import_articles, args.file, args.replace))
    print(json.dumps(counts, ensure_ascii=False))
    return 0


def _cmd_kb_export(args: argparse.Namespace, settings: Settings) -> int:
    from hub.kb_store import export_articles

    n = asyncio.run(_with_database(settings, export_articles, args.file))
    print(f"exported {n} articles to {args.file}")
    return 0


async def _with_database(settings: Settings, job, *job_args):
    """Run job(db, *job_args) against MONGO_URL, or the embedded database started for it."""
    from hub.runtime import database
    from mongo.client import connect, wait_until_up

    async with database(settings) as (running, _kind):
        assert running.mongo_url is not None
        client, db = connect(running.mongo_url, running.mongo_db)
        try:
            await wait_until_up(client, timeout_s=30)
            return await job(db, *job_args)
        finally:
            client.close()


def _cmd_wechat_menu_push(args: argparse.Namespace, settings: Settings) -> int:
    from channels.wechat.api import WeChatApiError
    from channels.wechat.menu import push_menu

    _require_file(args.file)
    try:
        asyncio.run(push_menu(settings, args.file))
    except (ValueError, WeChatApiError) as e:
        raise UserFacingError(str(e)) from e
    print(f"menu published from {args.file}")
    return 0


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise UserFacingError(f"no such file: {path}")


if __name__ == "__main__":
    sys.exit(main())
