"""The web chat's settings as the channel uses them (built by the hub from HUB_SESSION_SECRET
and HUB_VAR_DIR)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WebchatConfig:
    var_dir: Path  # the visitor-token secret when none is configured, and uploads/
    # signs visitor tokens; None: a random one kept in var_dir
    session_secret: str | None = field(default=None, repr=False)
    # 常见问题 offered as buttons when the widget opens (knowledge-base questions)
    popular: tuple[str, ...] = ()

    @property
    def uploads_dir(self) -> Path:
        return self.var_dir / "uploads"
