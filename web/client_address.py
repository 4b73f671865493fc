"""The address a request comes from: what per-address rate limits count against.

The guarantee: a client cannot choose its address by sending a header. It is the socket's
peer, unless that peer is one of the operator's reverse proxies (TRUSTED_PROXIES): then it
is the right-most X-Forwarded-For entry that is not itself a trusted proxy. Anyone can put
anything in that header, but only to the left of what the trusted proxies append, so
reading from the right and skipping only our own proxies lands on the address that the
outermost of them saw.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from settings import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(text: str) -> Address | None:
    """An address from a forwarded entry: bare, `1.2.3.4:port` or `[v6]:port`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # the same client, however the socket reports it
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str:
    """The client's address; `forwarded_for` holds every X-Forwarded-For header's value.

    '' when there is no peer address (a server on a Unix socket with no trusted proxy).
    """
    nearest = _parse(peer or "")
    if nearest is None:
        return peer or ""
    if not _trusted(nearest, proxies):
        return str(nearest)
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # What our own proxy wrote is unreadable: the last address we can vouch for
            # stands for the client rather than a made-up one.
            break
        nearest = address
        if not _trusted(address, proxies):
            break
    return str(nearest)
