"""Query strings of the live map: hostile values get a 422 naming the parameter.

Before: ``?courthouse=`` with NUL answered 500 (PostgreSQL refuses NUL in text),
``?since=0001-01-01T00:00:00+14:00`` answered 500 (OverflowError applying the
offset), and ``/ws/live?since=`` a superscript two dropped the socket with no
close frame while an Arabic-Indic or a fullwidth one was read as 1.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from courtwatch.intake import ValidationFailed
from tests.conftest import ServerThread
from web import query

HOSTILE_INTEGERS = [
    "\N{SUPERSCRIPT TWO}",
    "\N{ARABIC-INDIC DIGIT ONE}",
    "\N{FULLWIDTH DIGIT ONE}",
    "9" * 4301,
    "9" * 19,
    "-1",
    "+1",
    "1_000",
    " 1",
    "1\x00",
]


@pytest.mark.parametrize("raw", HOSTILE_INTEGERS)
def test_ascii_int_takes_ascii_digits_only(raw: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        query.ascii_int("leaf", raw)
    assert refused.value.problems[0].field == "leaf"


def test_ascii_int_reads_plain_numbers_up_to_its_bound() -> None:
    assert query.ascii_int("n", "0") == 0
    assert query.ascii_int("n", "007") == 7
    assert query.ascii_int("n", "9" * 18) == 10**18 - 1
    assert query.optional_ascii_int("n", None) is None
    assert query.optional_ascii_int("n", "") is None
    with pytest.raises(ValidationFailed):
        query.ascii_int("n", "11", maximum=10)


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+00:00",
        "1999-12-31T23:59:59+00:00",
        "2101-01-01T00:00:00+00:00",
        "2026-11-23T10:00:00",  # no offset: which 10:00?
        "2026-02-29T00:00:00+00:00",
        "2026-11-23T10:00:00+24:00",
        "\N{FULLWIDTH DIGIT TWO}026-11-23T10:00:00+00:00",
        "2026-11-23T10:00:00+00:00\x00",
    ],
)
def test_iso_time_refuses_implausible_or_ambiguous_times(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        query.iso_time("since", raw)


def test_iso_time_reads_any_offset_as_the_same_instant() -> None:
    east = query.iso_time("since", "2026-11-23T00:30:00+14:00")
    west = query.iso_time("since", "2026-11-22T00:30:00-10:00")
    assert east == west and east is not None and east.utcoffset() is not None
    assert query.iso_time("since", "2026-11-23T10:00:00Z") is not None


async def test_map_query_strings_that_answered_500_are_422(client: httpx.AsyncClient) -> None:
    hostile = [
        {"courthouse": "a\r\nb"},
        {"courthouse": "a\x00b"},
        {"courthouse": "NYC\x00"},
        {"courthouse": "x" * 25},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"since": "9999-12-31T23:59:59-14:00"},
        {"since": "2026-11-23T10:00:00"},
        {"bbox": "nan,40,-73,41"},
        {"bbox": "-74,40,-73,inf"},
        {"bbox": "-74,40,-73,\N{FULLWIDTH DIGIT FOUR}1"},
    ]
    for params in hostile:
        response = await client.get("/api/map/reports", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["fields"][0]["field"] == next(iter(params))
    fine = await client.get(
        "/api/map/reports", params={"courthouse": "NYC", "since": "2026-01-01T00:00:00+14:00"}
    )
    assert fine.status_code == 200 and fine.json()["reports"] == []


async def test_live_socket_refuses_a_since_that_is_not_ascii_digits(
    live_server: ServerThread,
) -> None:
    base = live_server.url.replace("http://", "ws://") + "/ws/live?since="
    for raw in HOSTILE_INTEGERS:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(base + quote(raw, safe=""), compression=None):
                pass
        response = refused.value.response
        assert response.status_code == 422, raw[:20]
        assert json.loads(response.body or b"{}")["fields"][0]["field"] == "since"
    # Digits still resume (past the head: a fresh snapshot), and no since is a snapshot.
    for good in ("0", "12", ""):
        async with connect(base + good, compression=None) as ws:
            assert json.loads(await ws.recv())["type"] in ("snapshot", "resume")
