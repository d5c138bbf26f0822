import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from nlu.errors import NluError, RasaNotInstalled, RasaUnavailable
from nlu.rasa_http import RasaHttpConfig, RasaHttpParser
from nlu.rasa_sidecar import (
    RASA_BIN,
    RasaServer,
    SidecarConfig,
    ensure_model,
    model_digest,
    model_path,
    serve,
    training_seconds,
)
from primitives.net import free_port
from tests.nlu.conftest import REPO, SPLIT

FAKE = Path(__file__).with_name("fake_rasa.py")


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "journal.txt"


def fake_config(tmp_path: Path, journal: Path, **env: str) -> SidecarConfig:
    wrapper = tmp_path / "rasa"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    wrapper.chmod(0o755)
    return SidecarConfig(
        var_dir=tmp_path / "var",
        rasa_bin=wrapper,
        port=free_port(),
        start_timeout_s=30,
        stop_timeout_s=1,
        extra_env={"FAKE_RASA_JOURNAL": str(journal), **env},
    )


def started_pids(journal: Path, command: str) -> list[int]:
    lines = journal.read_text().split("\n") if journal.exists() else []
    return [int(line.split()[1]) for line in lines if line.startswith(command + " ")]


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_model_name_follows_the_data_and_the_pipeline(tmp_path: Path):
    data = tmp_path / "nlu.yml"
    data.write_text("nlu: []\n", encoding="utf-8")
    first = model_digest(data)
    data.write_text("nlu: []\n# edited\n", encoding="utf-8")
    assert model_digest(data) != first
    config = SidecarConfig(var_dir=tmp_path)
    assert model_path(data, config).parent == tmp_path / "rasa" / "models"


def test_a_data_directory_is_hashed_file_by_file(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text("nlu: []\n", encoding="utf-8")
    first = model_digest(data)
    (data / "extra.yml").write_text("nlu: []\n", encoding="utf-8")
    second = model_digest(data)
    assert second != first
    (data / "extra.yml").write_text("nlu: []\n# edited\n", encoding="utf-8")
    assert model_digest(data) not in (first, second)


async def test_trains_once_per_data_hash(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal)
    model = await ensure_model(SPLIT / "train.yml", config)
    assert model == model_path(SPLIT / "train.yml", config)
    assert model.exists()
    assert training_seconds(model) is not None
    assert await ensure_model(SPLIT / "train.yml", config) == model
    assert len(started_pids(journal, "train")) == 1


async def test_failed_training_raises_and_names_the_log(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal, FAKE_RASA_TRAIN_FAILS="1")
    with pytest.raises(NluError, match=r"train\.log"):
        await ensure_model(SPLIT / "train.yml", config)


async def test_missing_venv_says_how_to_build_it(tmp_path: Path):
    config = SidecarConfig(var_dir=tmp_path, rasa_bin=tmp_path / "no" / "rasa")
    with pytest.raises(RasaNotInstalled, match="make rasa"):
        await ensure_model(SPLIT / "train.yml", config)
    with pytest.raises(RasaNotInstalled):
        await RasaServer(tmp_path / "m.tar.gz", config).start()


async def test_server_answers_then_stops_without_leaving_a_process(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal)
    async with RasaServer(tmp_path / "m.tar.gz", config) as server:
        async with RasaHttpParser(RasaHttpConfig(server.url)) as parser:
            assert (await parser.parse("你好")).intent == "greet"
        (pid,) = started_pids(journal, "run")
        assert is_running(pid)
    assert not is_running(pid)


async def test_a_server_ignoring_sigterm_is_killed(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal, FAKE_RASA_IGNORE_TERM="1")
    server = RasaServer(tmp_path / "m.tar.gz", config)
    await server.start()
    (pid,) = started_pids(journal, "run")
    await server.stop()
    assert not is_running(pid)


async def test_a_server_that_exits_at_start_raises_rasa_unavailable(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal, FAKE_RASA_CRASH="1")
    with pytest.raises(RasaUnavailable, match="exited with 3"):
        await RasaServer(tmp_path / "m.tar.gz", config).start()


async def test_serve_trains_serves_and_stops_on_request(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(SPLIT / "train.yml", config, stop))
    async with RasaHttpParser(RasaHttpConfig(config.url, timeout_s=1)) as parser:
        while not await parser.is_up():
            await asyncio.sleep(0.05)
    stop.set()
    assert await serving == 0
    (pid,) = started_pids(journal, "run")
    assert not is_running(pid)


PARENT = """
import asyncio, json, sys
from pathlib import Path
from nlu.rasa_sidecar import RasaServer, SidecarConfig

async def main():
    args = json.loads(sys.argv[1])
    config = SidecarConfig(
        var_dir=Path(args["var"]), rasa_bin=Path(args["bin"]), port=args["port"],
        extra_env=args["env"],
    )
    await RasaServer(Path("m.tar.gz"), config).start()
    print("up", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")
async def test_server_dies_with_a_parent_killed_without_cleanup(tmp_path: Path, journal: Path):
    config = fake_config(tmp_path, journal)
    args = {
        "var": str(config.var_dir),
        "bin": str(config.rasa_bin),
        "port": config.port,
        "env": config.extra_env,
    }
    parent = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PARENT,
        json.dumps(args),
        stdout=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )
    assert parent.stdout is not None
    assert await parent.stdout.readline() == b"up\n"
    (pid,) = started_pids(journal, "run")
    parent.kill()
    await parent.wait()
    for _ in range(200):  # the kernel's SIGTERM arrives asynchronously
        if not is_running(pid):
            break
        await asyncio.sleep(0.05)
    assert not is_running(pid)


@pytest.mark.rasa
@pytest.mark.skipif(not RASA_BIN.exists(), reason=".venv-rasa not built (make rasa)")
async def test_real_rasa_trains_serves_and_parses(tmp_path: Path):
    """The real sidecar on a tiny data set and a 5-epoch pipeline (a few minutes)."""
    config = SidecarConfig(
        var_dir=tmp_path,
        config=Path(__file__).parents[1] / "data" / "nlu" / "rasa_tiny_config.yml",
        port=free_port(),
    )
    model = await ensure_model(Path(__file__).parents[1] / "data" / "nlu" / "tiny.yml", config)
    async with (
        RasaServer(model, config) as server,
        RasaHttpParser(RasaHttpConfig(server.url, timeout_s=30)) as parser,
    ):
        result = await parser.parse("你好呀")
    assert result.intent in {"greet", "goodbye", "thank"}
    assert 0.0 <= result.confidence <= 1.0
    assert {s.name for s in result.ranking} == {"greet", "goodbye", "thank"}
