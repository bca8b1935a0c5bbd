"""Which peer addresses the sender refuses to talk to (pure: no server)."""

from __future__ import annotations

import pytest

from courtwatch.alerts.transport import _is_link_local


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fe80::1%eth0",
        "::ffff:169.254.169.254",
        # Before, these reached a metadata service unrefused: AWS's over IPv6,
        # and 169.254.169.254 through a NAT64 gateway or an IPv4-compatible spelling.
        "fd00:ec2::254",
        "64:ff9b::169.254.169.254",
        "::169.254.169.254",
    ],
)
def test_metadata_addresses_are_refused(address: str) -> None:
    assert _is_link_local(address)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.0.0.7", "::", "64:ff9b::8.8.8.8", "fd00:ec2::253"]
)
def test_other_addresses_are_allowed_as_documented(address: str) -> None:
    # Private and loopback addresses are allowed (docs/alerts.md: "Which URLs").
    assert not _is_link_local(address)
