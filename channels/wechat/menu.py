"""`hub wechat menu push FILE`: the account's custom menu from a JSON file (WeChat's own
menu/create format, e.g. hub/data/wechat_menu.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from channels.wechat.api import WeChatApi


class MenuSettings(Protocol):
    """What pushing the menu reads of the hub's settings (WECHAT_APP_ID, WECHAT_APP_SECRET,
    WECHAT_API_BASE)."""

    @property
    def wechat_app_id(self) -> str | None: ...

    @property
    def wechat_app_secret(self) -> SecretStr | None: ...

    @property
    def wechat_api_base(self) -> str: ...


def load_menu(path: Path) -> dict[str, Any]:
    """The menu; raises ValueError naming what is wrong."""
    try:
        menu = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read the menu: {e}") from None
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise ValueError(f"{path}: a menu has 1 to 3 top-level buttons under 'button'")
    for b in buttons:
        subs = b.get("sub_button", [])
        if not b.get("name") or len(subs) > 5:
            raise ValueError(f"{path}: every button needs a name and at most 5 sub-buttons")
    return menu


async def push_menu(settings: MenuSettings, path: Path) -> None:
    if not settings.wechat_app_id or settings.wechat_app_secret is None:
        raise ValueError("WECHAT_APP_ID and WECHAT_APP_SECRET must be set")
    api = WeChatApi(
        settings.wechat_api_base,
        settings.wechat_app_id,
        settings.wechat_app_secret.get_secret_value(),
    )
    try:
        await api.create_menu(load_menu(path))
    finally:
        await api.close()
