"""Which hosts verifier may connect to, decided on the resolved address (docs/network-policy.md).

Never: link-local (169.254.0.0/16, where cloud metadata lives; fe80::/10), multicast,
unspecified (0.0.0.0/8, ::) and reserved addresses. Only when allowed (the user's option,
or a manifest that itself came from such an address): loopback and every other address
that is not globally routable (private, CGNAT, unique-local, documentation ranges...).
IPv4 embedded in IPv6 (mapped, 6to4, Teredo, NAT64) is judged as the IPv4 address too.
A URL carrying a user name or password is refused, and shown with its credentials hidden.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from verifier.errors import InputError, where
from verifier.urls import has_userinfo, redact

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NEVER = ("unspecified", "link-local", "multicast", "reserved")
LOCAL = ("loopback", "private")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
ALLOW_OPTION = "--allow-private-addresses"


class AddressRefused(InputError):
    """A host resolved to an address the policy refuses; raised before any connection."""

    def __init__(self, host: str, address: str, category: str) -> None:
        self.host, self.address, self.category = host, address, category
        super().__init__(explain(host, address, category))


def explain(host: str, address: str, category: str) -> str:
    named = f"{address} is" if host.strip("[]") == address else f"{host} resolves to {address},"
    if category in NEVER:
        extra = " (cloud metadata services live there)" if category == "link-local" else ""
        return f"{named} {_article(category)} {category} address{extra}: verifier never connects there"
    return (f"{named} {_article(category)} {category} address: refused unless {ALLOW_OPTION} is given "
            f"or the manifest itself comes from such an address")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _plain_category(ip: IPAddress) -> str | None:
    if ip.is_unspecified or (ip.version == 4 and ip in THIS_NETWORK):
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.version == 6 and ip in IPV4_COMPATIBLE:
        return "reserved"  # deprecated IPv4-compatible addresses (::a.b.c.d)
    if ip.is_global:
        return None
    return "reserved" if ip.is_reserved else "private"


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    inner = [ip.sixtofour] + list(ip.teredo or ())
    if ip in NAT64:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [a for a in inner if a is not None]


def category(ip: IPAddress) -> str | None:
    """None for a public address, else the name of the range ``ip`` belongs to."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return _plain_category(ip.ipv4_mapped)  # the kernel sends this over IPv4
    found = [_plain_category(ip)]
    if ip.version == 6:
        found += [_plain_category(a) for a in _embedded(ip)]
    for name in (*NEVER, *LOCAL):
        if name in found:
            return name
    return None


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False  # loopback and other non-global addresses

    def refusal(self, ip: IPAddress) -> str | None:
        """The category that makes ``ip`` refused, or None when it may be connected to."""
        name = category(ip)
        if name is None or (name in LOCAL and self.allow_private):
            return None
        return name

    def resolve(self, host: str, port: int) -> list[tuple[int, tuple]]:
        """Every (family, sockaddr) ``host`` resolves to, all checked; refuses the host when
        any of them is refused (a mixed answer is a trick, not a fallback)."""
        host = host.strip("[]")
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        checked = []
        for family, _, _, _, sockaddr in answers:
            ip = parse_ip(sockaddr[0])
            name = self.refusal(ip)
            if name is not None:
                raise AddressRefused(host, str(ip), name)
            checked.append((family, sockaddr))
        return checked


def parse_ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])


def is_local_address(text: str) -> bool:
    """True for loopback and other non-global addresses a manifest may come from."""
    return category(parse_ip(text)) in LOCAL


def check_url(url: str, place: object) -> None:
    """Refuse what no fetch may use: other schemes, credentials, a missing host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InputError(where(place, f"only http and https URLs can be fetched: {redact(url)}"))
    if has_userinfo(url):
        raise InputError(where(place, f"URLs with a user name or password are refused: {redact(url)}"))
    if not parts.hostname:
        raise InputError(where(place, f"URL without a host: {redact(url)}"))
