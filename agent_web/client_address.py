"""Which address a request comes from, for throttling sign-in attempts."""

from __future__ import annotations

import ipaddress

from aiohttp import web


def client_address(request: web.Request, proxy_hops: int) -> str:
    """The TCP peer's address; with proxy_hops trusted reverse proxies in front of the hub, the
    address the outermost of them saw.

    Each proxy appends the address it saw to X-Forwarded-For, so only the last proxy_hops
    entries are trustworthy: anything left of them is whatever the client chose to send."""
    peer = request.remote or ""
    if proxy_hops <= 0:
        return peer
    chain = [
        entry.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for entry in header.split(",")
        if entry.strip()
    ]
    if not chain:
        return peer
    seen = chain[-proxy_hops] if len(chain) >= proxy_hops else chain[0]
    try:
        return str(ipaddress.ip_address(seen))
    except ValueError:  # "unknown", a port, a hostname: a proxy we do not understand
        return peer
