"""One loopback predicate for binding, plain-http credentials and proxy bypass."""

from __future__ import annotations

import pytest
from heimdall.net import is_loopback


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.2",
        "127.255.255.254",
        "::1",
        "[::1]",
        "0:0:0:0:0:0:0:1",
        "::1%lo",
        "::ffff:127.0.0.1",
        "[::ffff:127.0.0.1]",
        "localhost",
        "LOCALHOST",
        "localhost.",
        "ip6-localhost",
        "app.localhost",
        "a.b-c.localhost",
    ],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "0.0.0.0",
        "::",
        "[::]",
        "10.0.0.1",
        "192.168.1.10",
        "::ffff:10.0.0.1",
        "fe80::1%lo",
        "api.anthropic.com",
        "example.com",
        "localhost.evil.com",
        "127.0.0.1.evil.com",
        "evil-localhost",
        ".localhost",
        "..localhost",
        "a..localhost",
        "a_b.localhost",
        "ev il.localhost",
        "évil.localhost",
        "localhost..",
        "[]",
        "[::1",
        "::1]",
        "[[::1]]",
        "[127.0.0.1",
        " 127.0.0.1",
        "127.0.0.1 ",
        "127.1",
        "2130706433",
        "0x7f000001",
        "127.0.0.1:80",
        "127.0.0.1\x00",
        "localhost\x00.example.com",
        "::1%",
        "x" * 10_000,
    ],
)
def test_not_loopback(host: str | None) -> None:
    assert not is_loopback(host)
