"""Summary pages refuse what no coordinator would type, with a 4xx, never a 500 or a reset.

Each case here answered 500 or dropped the connection before: a NUL reached
PostgreSQL, a CR/LF reached a header, ``int("²")`` raised, and periods at year
1 or 9999 overflowed in date arithmetic. The cases of one kind share a server
(starting one per case would cost more than the cases).
"""

from __future__ import annotations

import httpx

WEEK = "/summaries/week/2026-W47"


async def status_of(client: httpx.AsyncClient, url: str, **params: str) -> int:
    try:
        return (await client.get(url, params=params)).status_code
    except httpx.TransportError:  # a dropped connection: how a CR/LF in a header failed
        return -1


async def test_a_courthouse_with_control_characters_is_refused(client: httpx.AsyncClient) -> None:
    hostile = ["a\r\nb", "a\nb", "a\x00b", "NYC\x00", "\x7f", "\u200bNYC", "x" * 25, " NYC"]
    answers = {
        (code, suffix): await status_of(client, WEEK + suffix, courthouse=code)
        for code in hostile
        for suffix in ("", ".json", ".csv")
    }
    assert answers == dict.fromkeys(answers, 422)
    refused = await client.get(WEEK + ".json", params={"courthouse": "a\x00b"})
    assert refused.json()["fields"][0]["field"] == "courthouse"


async def test_a_courthouse_code_beyond_latin1_still_downloads(client: httpx.AsyncClient) -> None:
    # The code is echoed into the download's filename header, which is latin-1 only.
    response = await client.get(f"{WEEK}.json", params={"courthouse": "NYĀ"})
    assert response.status_code == 200, response.text
    assert response.json()["courthouse"] == "NYĀ"
    assert response.headers["content-disposition"] == (
        'inline; filename="courtwatch-week-2026-W47-NY_.json"'
    )


async def test_a_revision_must_be_ascii_digits(client: httpx.AsyncClient) -> None:
    hostile = [
        "\N{SUPERSCRIPT TWO}",
        "\N{ARABIC-INDIC DIGIT ONE}",
        "\N{FULLWIDTH DIGIT ONE}",
        "9" * 4301,
        "9" * 19,
        "-1",
        "1.0",
        " 1",
    ]
    answers = {r[:20]: await status_of(client, WEEK + ".json", revision=r) for r in hostile}
    assert answers == dict.fromkeys(answers, 422)
    refused = await client.get(WEEK + ".json", params={"revision": "\N{SUPERSCRIPT TWO}"})
    assert refused.json()["fields"][0]["field"] == "revision"
    # Digits that name no revision are a plain "not found".
    assert await status_of(client, WEEK + ".json", revision="1") == 404


async def test_a_period_outside_plausible_years_is_not_found(client: httpx.AsyncClient) -> None:
    paths = [
        "/summaries/day/9999-12-31",
        "/summaries/week/9999-W52",
        "/summaries/month/9999-12",
        "/summaries/day/0001-01-01",
        "/summaries/week/0001-W01",
        "/summaries/month/0001-01.json",
        "/summaries/day/1999-12-31",
        "/summaries/month/2101-01",
        # Fullwidth and Arabic-Indic digits were read as 2026 before.
        "/summaries/week/\N{FULLWIDTH DIGIT TWO}026-W47",
        "/summaries/day/2026-11-\N{ARABIC-INDIC DIGIT TWO}3",
        "/summaries/day/20261123",
    ]
    answers = {path: await status_of(client, path) for path in paths}
    assert answers == dict.fromkeys(answers, 404)


async def test_calendar_edges_inside_the_bounds_are_summaries(client: httpx.AsyncClient) -> None:
    paths = [
        "/summaries/day/2000-01-01.json",
        "/summaries/day/2028-02-29.json",
        "/summaries/week/2026-W53.json",
        "/summaries/week/2000-W01.json",
        "/summaries/month/2100-12.json",
        "/summaries/month/2100-12",
    ]
    answers = {path: await status_of(client, path) for path in paths}
    assert answers == dict.fromkeys(answers, 200)
