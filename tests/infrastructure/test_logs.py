"""Log lines never carry an address: IPv4, every IPv6 form, hardware addresses, exceptions."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from courtwatch.infrastructure import logs


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


LOG = logging.getLogger("courtwatch.test")


@pytest.mark.parametrize(
    "address",
    [
        "192.0.2.7",
        "2001:db8::1234",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "fe80::1%eth0",
        "::1",
        "::ffff:192.0.2.1",
        "[2001:db8::1]:443",
        "00:1a:2b:3c:4d:5e",
    ],
)
def test_every_address_form_is_removed_from_messages_and_extra_fields(
    written: io.StringIO, address: str
) -> None:
    LOG.warning("peer %s connected", address, extra={"peer": address})
    (line,) = lines(written)
    text = json.dumps(line)
    bare = address.strip("[]").split("]")[0].split("%")[0]
    assert bare not in text and "[address removed]" in line["event"]
    assert line["peer"].count("[address removed]") == 1
    # Nothing of the address is left beside the marker (not even its last digits).
    leftover = line["peer"].replace("[address removed]", "").strip("[]:")
    assert leftover in ("", "443"), leftover


def test_an_exception_is_logged_with_its_traceback_and_without_addresses(
    written: io.StringIO,
) -> None:
    try:
        raise ConnectionError("connection from 2001:db8::99 and 192.0.2.7 reset")
    except ConnectionError:
        LOG.exception("a client went away")
    (line,) = lines(written)
    assert "Traceback" in line["exception"] and "ConnectionError" in line["exception"]
    text = json.dumps(line)
    assert "2001:db8::99" not in text and "192.0.2.7" not in text


def test_times_and_ids_are_not_mistaken_for_addresses() -> None:
    text = "at 12:30:45 on 2026-11-23T08:30:59Z, report 5f1c2a3b-0000-4000-8000-000000000000"
    assert logs.scrub(text) == text
