"""The optional Rasa sidecar: train a model for the current NLU data (once per data hash) and
run `rasa run --enable-api` as a child process of ours, from `hub nlu rasa` or from tests.

Rasa lives in its own Python 3.10 venv (.venv-rasa, `make rasa`). The child gets its own
process group, is stopped with SIGTERM then SIGKILL, and on Linux is also told to die with
its parent (PR_SET_PDEATHSIG), so neither a clean stop nor a crash leaves an orphan server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp

from nlu.errors import NluError, RasaNotInstalled, RasaUnavailable
from nlu.training_data import training_files

log = logging.getLogger(__name__)

REPO_DIR = Path(__file__).resolve().parent.parent
RASA_BIN = REPO_DIR / ".venv-rasa" / "bin" / "rasa"
RASA_CONFIG = Path(__file__).resolve().parent / "rasa" / "config.yml"
# No telemetry (no network here, and none wanted), quieter tensorflow and sqlalchemy.
_CHILD_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}
# Entered while `rasa train` runs (minutes, its output goes to train.log), given an estimate:
# the seconds the last model trained here took, or None. The hub passes a terminal stopwatch;
# nlu/ itself shows nothing.
TrainingProgress = Callable[[float | None], AbstractContextManager[object]]


@dataclass(frozen=True, slots=True)
class SidecarConfig:
    var_dir: Path  # models under var_dir/rasa/models, logs under var_dir/rasa
    rasa_bin: Path = RASA_BIN
    config: Path = RASA_CONFIG
    host: str = "127.0.0.1"
    port: int = 5005
    start_timeout_s: float = 300.0  # tensorflow import + model load on a busy 2-core box
    stop_timeout_s: float = 15.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def rasa_dir(self) -> Path:
        return self.var_dir / "rasa"

    @property
    def models_dir(self) -> Path:
        return self.rasa_dir / "models"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def is_rasa_installed(rasa_bin: Path = RASA_BIN) -> bool:
    return rasa_bin.exists() and os.access(rasa_bin, os.X_OK)


def model_digest(data_path: Path, config_path: Path = RASA_CONFIG) -> str:
    """A short hash of the training data and the pipeline: a new model is trained when
    either changes."""
    digest = hashlib.sha256()
    for path in (*training_files(data_path), config_path):
        digest.update(Path(path).name.encode())
        digest.update(b"\0")
        digest.update(Path(path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(data_path: Path, config: SidecarConfig) -> Path:
    return config.models_dir / f"nlu-{model_digest(data_path, config.config)}.tar.gz"


async def ensure_model(
    data_path: Path, config: SidecarConfig, *, on_training: TrainingProgress | None = None
) -> Path:
    """The model for `data_path`, trained now (minutes) if there is none for its hash yet,
    inside `on_training` if given. Raises RasaNotInstalled without .venv-rasa, NluError if
    training fails."""
    target = model_path(data_path, config)
    if target.exists():
        log.info("rasa.model_found", extra={"model": target.name})
        return target
    _require_rasa(config)
    config.models_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        _abs(config.rasa_bin), "train", "nlu", "--config", _abs(config.config),
        "--nlu", _abs(data_path), "--out", _abs(config.models_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    log.info("rasa.training_started", extra={"model": target.name})
    train_log = config.rasa_dir / "train.log"
    shown = on_training(last_training_seconds(config)) if on_training else contextlib.nullcontext()
    began = time.perf_counter()
    with shown:
        code = await _run_child(argv, train_log, config)
    if code != 0 or not target.exists():
        raise NluError(f"rasa train failed (exit {code}); see {train_log}")
    seconds = round(time.perf_counter() - began, 1)
    _info_path(target).write_text(json.dumps({"train_seconds": seconds, "data": str(data_path)}))
    log.info("rasa.training_finished", extra={"model": target.name, "seconds": seconds})
    return target


def training_seconds(model: Path) -> float | None:
    """How long `model` took to train, if ensure_model trained it here."""
    return _recorded_seconds(_info_path(model))


def last_training_seconds(config: SidecarConfig) -> float | None:
    """How long the newest model trained under `config` took: the estimate for the next one
    (the same pipeline on data that changes little). None before the first training."""
    infos = sorted(config.models_dir.glob("nlu-*.json"), key=lambda p: p.stat().st_mtime)
    for info in reversed(infos):
        if (seconds := _recorded_seconds(info)) is not None:
            return seconds
    return None


def _recorded_seconds(info: Path) -> float | None:
    try:
        return float(json.loads(info.read_text())["train_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _info_path(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + ".json")


class RasaServer:
    """`rasa run --enable-api` on one model, as a child process. Use as an async context
    manager, or call start() and stop()."""

    def __init__(self, model: Path, config: SidecarConfig) -> None:
        self._model = model
        self._config = config
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return self._config.url

    async def start(self) -> str:
        """Spawn the server and wait until it answers. Returns its URL. Raises
        RasaNotInstalled, or RasaUnavailable if it exits or does not answer in time."""
        _require_rasa(self._config)
        argv = [
            _abs(self._config.rasa_bin), "run", "--enable-api", "-m", _abs(self._model),
            "-i", self._config.host, "-p", str(self._config.port),
        ]  # fmt: skip
        self._config.rasa_dir.mkdir(parents=True, exist_ok=True)
        with (self._config.rasa_dir / "server.log").open("ab") as out:
            self._proc = await _spawn(argv, out, self._config)
        try:
            async with asyncio.timeout(self._config.start_timeout_s):
                await self._wait_until_answering()
        except BaseException:
            await self.stop()
            raise
        log.info("rasa.server_started", extra={"url": self.url, "model": self._model.name})
        return self.url

    async def wait_closed(self) -> int:
        """Wait until the server exits by itself; its exit code."""
        assert self._proc is not None
        return await self._proc.wait()

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(self._config.stop_timeout_s):
                await proc.wait()
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
        log.info("rasa.server_stopped", extra={"exit_code": proc.returncode})

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _wait_until_answering(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                assert self._proc is not None
                if self._proc.returncode is not None:
                    raise RasaUnavailable(
                        f"rasa run exited with {self._proc.returncode}; "
                        f"see {self._config.rasa_dir / 'server.log'}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.url + "/", timeout=aiohttp.ClientTimeout(2)) as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.5)


def main(
    rasa_url: str, data_path: Path, var_dir: Path, *, on_training: TrainingProgress | None = None
) -> int:
    """`hub nlu rasa`: train a model for `data_path` if needed (inside `on_training`), then
    serve it at `rasa_url` until SIGINT or SIGTERM. Returns the process exit code (2: not
    installed or failed)."""
    parts = urlsplit(rasa_url)
    config = SidecarConfig(
        var_dir=Path(var_dir), host=parts.hostname or "127.0.0.1", port=parts.port or 5005
    )
    try:
        return asyncio.run(_serve_until_signalled(Path(data_path), config, on_training))
    except NluError as e:
        log.error("rasa.sidecar_failed", extra={"error": str(e)})
        return 2


async def _serve_until_signalled(
    data_path: Path, config: SidecarConfig, on_training: TrainingProgress | None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await serve(data_path, config, stop, on_training=on_training)


async def serve(
    data_path: Path,
    config: SidecarConfig,
    stop: asyncio.Event,
    *,
    on_training: TrainingProgress | None = None,
) -> int:
    """Train if needed (inside `on_training`), then serve until `stop` is set (0) or the
    server dies (1). The child is stopped on every way out. Raises NluError if training or
    start-up fails."""
    training = asyncio.create_task(ensure_model(data_path, config, on_training=on_training))
    if not await _finishes_first(training, stop):
        return 0
    server = RasaServer(training.result(), config)
    try:
        if not await _finishes_first(asyncio.create_task(server.start()), stop):
            return 0
        exited = asyncio.create_task(server.wait_closed())
        if await _finishes_first(exited, stop):
            log.error("rasa.server_exited", extra={"exit_code": exited.result()})
            return 1
        return 0
    finally:
        await server.stop()


async def _finishes_first(task: asyncio.Task[object], stop: asyncio.Event) -> bool:
    """Wait for `task` or `stop`. True if the task finished first; otherwise it is cancelled
    (its child processes killed by its own cleanup) and False is returned."""
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task in done:
        task.result()  # re-raise its error
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


def _require_rasa(config: SidecarConfig) -> None:
    if not is_rasa_installed(config.rasa_bin):
        raise RasaNotInstalled(f"{config.rasa_bin} not found: build it with `make rasa`")


async def _run_child(argv: list[str], log_path: Path, config: SidecarConfig) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        proc = await _spawn(argv, out, config)
    try:
        return await proc.wait()
    except asyncio.CancelledError:
        _signal_group(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise


async def _spawn(argv: list[str], out: object, config: SidecarConfig) -> asyncio.subprocess.Process:
    # Rasa keeps a training cache (.rasa/cache) in its working directory: ours is var/rasa.
    config.rasa_dir.mkdir(parents=True, exist_ok=True)
    cache = {"RASA_CACHE_DIRECTORY": _abs(config.rasa_dir / "cache")}
    env = os.environ | _CHILD_ENV | cache | config.extra_env
    return await asyncio.create_subprocess_exec(
        *argv,
        cwd=config.rasa_dir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=out,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own process group: we stop rasa and all it spawned
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM us when our parent dies."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _abs(path: Path) -> str:
    """Children run in var/rasa, so every path they get is absolute."""
    return str(Path(path).absolute())


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
