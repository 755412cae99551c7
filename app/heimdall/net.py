"""The one loopback predicate: which hosts never leave this machine.

Three decisions hang on it: whether the embedded gateway may bind without an explicit token,
whether a gateway client may send credentials over plain http://, and whether the gateway's
upstream skips the environment's proxy. All three must agree, so they ask this module.

A host is loopback when it is `localhost`, `ip6-localhost`, a name under `.localhost` (RFC 6761
reserves it for loopback), an address in 127.0.0.0/8, `::1`, or an IPv4-mapped form of a
127.x address. IPv6 literals may come bracketed (`[::1]`, as in URLs) and with a zone id. Anything
else, including whitespace-padded or half-bracketed text, is not: a wrong "no" only costs a
warning or a refusal, a wrong "yes" sends a credential in clear.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def is_loopback(host: str | None) -> bool:
    """True when `host` (a name or an IP literal, brackets allowed) is this machine's loopback."""
    if not host:
        return False
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    name = host.lower()
    if name.endswith(".") and not name.endswith(".."):
        name = name[:-1]  # the fully qualified spelling, `localhost.`
    if name in LOOPBACK_NAMES or (name.endswith(".localhost") and name != ".localhost"):
        return _plain_name(name)
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # Python < 3.13 says False for ::ffff:127.0.0.1
    return address.is_loopback


def _plain_name(name: str) -> bool:
    """Dot-separated labels of letters, digits and hyphens: no empty label, no stray characters."""
    return all(label and label.replace("-", "").isalnum() and label.isascii() for label in name.split("."))
