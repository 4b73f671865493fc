"""web/client_address.py: the peer, or what the operator's proxies say it is.

X-Forwarded-For is read only when the peer is a trusted proxy, from the right, skipping
trusted proxies: what a client writes on the left never decides its address.
"""

from __future__ import annotations

import ipaddress

import pytest

from web.client_address import client_address

PROXIES = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # Not a trusted proxy: the header is anyone's to write, so it is ignored.
        ("192.0.2.1", ["198.51.100.7"], "192.0.2.1"),
        # A trusted proxy: the address it appended.
        ("127.0.0.1", ["198.51.100.7"], "198.51.100.7"),
        # What the client wrote itself sits to the left of it.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
        # Through two of our proxies: skip the inner one.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.1.2.3"], "198.51.100.7"),
        # Several header lines read as one list, in order.
        ("127.0.0.1", ["6.6.6.6", "198.51.100.7, 10.1.2.3"], "198.51.100.7"),
        # Only our proxies: the farthest one.
        ("127.0.0.1", ["10.9.9.9, 10.1.2.3"], "10.9.9.9"),
        # No header: the proxy itself.
        ("127.0.0.1", [], "127.0.0.1"),
        # Ports, brackets and IPv4 in IPv6 clothing.
        ("127.0.0.1", ["198.51.100.7:5555"], "198.51.100.7"),
        ("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("::ffff:127.0.0.1", ["2001:db8::1"], "2001:db8::1"),
        ("::ffff:192.0.2.1", [], "192.0.2.1"),
        # Garbage from our own proxy: the last address it vouches for.
        ("127.0.0.1", ["198.51.100.7, unknown"], "127.0.0.1"),
        ("127.0.0.1", ["6.6.6.6, junk, 10.1.2.3"], "10.1.2.3"),
    ],
)
def test_the_client_address(peer: str, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("127.0.0.1", ["198.51.100.7"], ()) == "127.0.0.1"


def test_no_peer_address() -> None:
    assert client_address(None, ["198.51.100.7"], PROXIES) == ""
