"""Which addresses product webhooks may be sent to: not link-local or cloud metadata ones.

A webhook URL pointing at a cloud's instance metadata service (``169.254.169.254`` and its
relatives) would make the gateway fetch credentials for whoever can set the URL: such URLs are
refused when the endpoints are configured (literal addresses and the well-known metadata names)
and again when a connection is opened, after resolving the name, so that a name which resolves
to such an address is refused too. The connection then goes to the very address that was
checked (:func:`vetted_addresses`), not to the name resolved once more, so a name whose answer
changes between the check and the connection can't slip past it; kept-alive connections need no
new check. ``SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL=true`` allows them.

Loopback and private addresses stay allowed: the product usually runs beside the gateway.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

__all__ = [
    "RefusedAddress",
    "Resolver",
    "refused_address",
    "refused_host",
    "refused_resolved",
    "refused_url",
    "system_resolver",
    "vetted_addresses",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Resolves ``(host, port)`` to the addresses a connection may use.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # IPv4 link-local: AWS, GCP, Azure, DigitalOcean, OpenStack metadata
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.192/32",  # Oracle Cloud metadata
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REFUSED_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
        "metadata.packet.net",
    }
)
_REFUSED_FIRST_LABELS = ("metadata", "instance-data")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refused_address(address: IPAddress) -> str | None:
    """Why webhooks may not go to ``address`` (None: they may)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return refused_address(embedded)
    for network in _REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is a link-local or cloud metadata address"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass
    try:
        # The forms the system resolver also reads as IPv4: 2852039166, 0xa9fea9fe, 169.254.43518.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def refused_host(host: str) -> str | None:
    """Why webhooks may not go to ``host`` as written (a literal address or a well-known
    metadata name; no name is resolved here)."""
    literal = _literal(host)
    if literal is not None:
        return refused_address(literal)
    name = host.lower().rstrip(".")
    first_label, _, rest = name.partition(".")
    if name in _REFUSED_NAMES or (
        first_label in _REFUSED_FIRST_LABELS and rest.endswith("internal")
    ):
        return f"{host} is a cloud metadata service"
    return None


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "", parts.port or default


def refused_url(url: str) -> str | None:
    """Why ``url``'s host as written is refused (see :func:`refused_host`)."""
    return refused_host(_host_port(url)[0])


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives ``host`` (as a connection would get them)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@functools.lru_cache(maxsize=256)
def _parsed(url: str) -> tuple[str, int, str | None, bool]:
    """``(host, port, why the host is refused or None, whether it is an IP literal)``: pure,
    so kept for the endpoints' few URLs (it parsed the address on every delivery)."""
    host, port = _host_port(url)
    return host, port, refused_host(host), _literal(host) is not None


class RefusedAddress(Exception):
    """Webhooks may not go to this host (the message says why)."""


async def vetted_addresses(host: str, port: int, resolver: Resolver = system_resolver) -> list[str]:
    """The addresses a connection to ``host`` may use, resolved once; raises
    :class:`RefusedAddress` when the host, or any address it resolves to, is refused, and
    ``OSError`` when the name does not resolve."""
    why = refused_host(host)
    if why is not None:
        raise RefusedAddress(why)
    literal = _literal(host)
    if literal is not None:
        return [str(literal)]
    try:
        addresses = await resolver(host, port)
    except (UnicodeError, ValueError) as exc:  # UnicodeError: a name IDNA can't encode
        raise OSError(f"{host} can't be resolved: {exc}") from None
    for text in addresses:
        address = _literal(text)
        if address is not None and refused_address(address) is not None:
            raise RefusedAddress(
                f"{host} resolves to {address}, a link-local or cloud metadata address"
            )
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    return addresses


async def refused_resolved(url: str, resolver: Resolver = system_resolver) -> str | None:
    """Why ``url`` is refused once its host is resolved (None: allowed). A name that does not
    resolve is not refused here: the request itself then fails the usual way."""
    host, port, why, literal = _parsed(url)
    if why is not None or literal:
        return why
    try:
        await vetted_addresses(host, port, resolver)
    except RefusedAddress as refused:
        return str(refused)
    except OSError:
        return None
    return None
