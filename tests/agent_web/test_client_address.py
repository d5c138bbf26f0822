from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from agent_web.client_address import client_address


def request(*forwarded: str, peer: str = "10.9.9.9"):
    headers = CIMultiDict(("X-Forwarded-For", f) for f in forwarded)
    return make_mocked_request("POST", "/api/v1/auth/login", headers=headers).clone(remote=peer)


def test_without_a_trusted_proxy_the_peer_is_the_client_whatever_the_header_says():
    assert client_address(request("203.0.113.5"), proxy_hops=0) == "10.9.9.9"


def test_behind_one_proxy_the_address_it_appended_is_the_client():
    spoofed = request("198.51.100.1, 203.0.113.5")  # the client sent the first entry
    assert client_address(spoofed, proxy_hops=1) == "203.0.113.5"


def test_behind_two_proxies_the_outer_ones_view_is_the_client():
    chain = request("198.51.100.1, 203.0.113.5", "172.16.0.2")
    assert client_address(chain, proxy_hops=2) == "203.0.113.5"


def test_a_missing_or_garbled_header_falls_back_to_the_peer():
    assert client_address(request(), proxy_hops=1) == "10.9.9.9"
    assert client_address(request("unknown"), proxy_hops=1) == "10.9.9.9"
