"""hub/mongoeco_fixes.py: the embedded database's work per operation stays flat as it grows.

The probe (mongoeco_probe.py) runs mongoeco's wire server in the .venv-db interpreter and
counts SQLite virtual-machine steps and Python document decodes per operation at two sizes.
With the corrections both stay flat; without them an insert decodes every stored document,
which is what these tests would catch if a correction stopped applying.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.settings import REPO_DIR

DB_PYTHON = REPO_DIR / ".venv-db" / "bin" / "python"
PROBE = Path(__file__).with_name("mongoeco_probe.py")
SMALL, LARGE = 200, 2000


def _probe(*args: str) -> dict:
    out = subprocess.run(
        [str(DB_PYTHON), str(PROBE), *args], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout) if out.stdout.strip() else {}


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("probe")
    built = {}
    for n in (SMALL, LARGE):
        built[n] = root / f"{n}.sqlite"
        _probe("build", str(built[n]), str(n))
    return built


def _measure(databases: dict[int, Path], tmp_path: Path, *flags: str) -> tuple[dict, dict]:
    """Each measurement writes, so it runs on a copy."""
    results = []
    for n in (SMALL, LARGE):
        copy = tmp_path / f"{n}-{'-'.join(flags) or 'fixed'}.sqlite"
        shutil.copy(databases[n], copy)
        results.append(_probe("measure", str(copy), *flags)["ops"])
    return results[0], results[1]


def _grows(small: dict, large: dict) -> bool:
    """Ten times the documents: more than 1.5× the steps, or more than 2 extra decodes."""
    return large["steps"] > 1.5 * small["steps"] + 5 or large["decoded"] > small["decoded"] + 2


def test_every_operation_costs_the_same_at_ten_times_the_documents(databases, tmp_path):
    small, large = _measure(databases, tmp_path)
    grown = {op: (small[op], large[op]) for op in small if _grows(small[op], large[op])}
    assert grown == {}


def test_the_published_engine_reads_every_document_on_insert(databases, tmp_path):
    """The probe can see the problem: without the corrections it is there."""
    small, large = _measure(databases, tmp_path, "--no-fixes")
    assert _grows(small["insert"], large["insert"])
    assert _grows(small["update_by_id"], large["update_by_id"])
    assert large["insert"]["decoded"] >= LARGE


def test_the_corrections_refuse_another_mongoeco_version():
    script = (
        "import sys; sys.path.insert(0, 'hub'); import mongoeco, mongoeco_fixes\n"
        "mongoeco.__version__ = '4.12.0'\n"
        "try:\n    mongoeco_fixes.apply()\n"
        "except mongoeco_fixes.MongoecoVersionError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [str(DB_PYTHON), "-c", script], cwd=REPO_DIR, capture_output=True, text=True, timeout=60
    )
    assert "corrects mongoeco 4.11.0, found 4.12.0" in out.stdout
