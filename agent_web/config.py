"""What the inbox reads of the hub's settings: the composition root fills it in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InboxConfig:
    # How staff browsers reach the hub (https://… behind a proxy): its host is an accepted
    # Origin, and an https URL makes the session cookie Secure. None: the request's own host.
    public_url: str | None = None
    # Trusted reverse proxies in front of the hub (X-Forwarded-For entries to believe when
    # throttling sign-ins by address).
    proxy_hops: int = 0
