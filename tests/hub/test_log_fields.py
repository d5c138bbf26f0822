"""Log calls put event data in `extra`; a key that is a LogRecord attribute (e.g. 'message')
makes logging raise at run time, in whatever code path logs it."""

import ast
import logging
from pathlib import Path

import pytest

from hub.settings import REPO_DIR

PACKAGES = ["hub", "channels", "nlu", "kb", "routing", "agent_web", "telephony", "mongo"]
RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
SOURCES = sorted(p for pkg in PACKAGES for p in (REPO_DIR / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO_DIR)))
def test_extra_keys_are_not_log_record_attributes(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "extra"
            and isinstance(node.value, ast.Dict)
        ):
            keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
            assert not keys & RESERVED, f"{path.name}:{node.value.lineno} uses {keys & RESERVED}"
