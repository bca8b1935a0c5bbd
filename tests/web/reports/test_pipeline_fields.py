"""Issue 14: the police contact before ICE acted, on every path a report takes.

The JSON API, amendments, the no-JS form and the report page, in English and
Spanish, with hostile values refused field by field and nothing stored for them.
One server for the whole file's HTTP checks (the CI budget).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from courtwatch.domain.vocabulary import PoliceAgency, PoliceOutcome
from web.i18n import TEXT
from web.reports.pages import VALUE_LABELS


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _post(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"kind": "courthouse_arrest", "courthouse_code": "NYC", **fields}
    return await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )


def _fields(answer: httpx.Response) -> set[str]:
    return {f["field"] for f in answer.json().get("fields", [])}


async def test_the_police_contact_is_recorded_checked_amended_and_shown(
    client: httpx.AsyncClient,
) -> None:
    observed = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    day = observed.astimezone(UTC).date()
    before = (day - timedelta(days=14)).isoformat()
    made = await _post(
        client, observed_at=observed.isoformat(), police_contact="yes",
        police_contact_date=before, police_agency="city_police", police_outcome="misdemeanour",
        detainer_lodged="no", to_or_from_court="yes", warrant="judicial",
    )  # fmt: skip
    assert made.status_code == 201, made.text
    report = made.json()
    stored = (await client.get(f"/api/reports/{report['id']}")).json()
    assert stored["details"] | {
        "police_contact": "yes", "police_contact_date": before, "police_agency": "city_police",
        "police_outcome": "misdemeanour", "detainer_lodged": "no", "to_or_from_court": "yes",
    } == stored["details"]  # fmt: skip

    # Hostile or contradictory values: 422 naming the field, nothing stored.
    later = (day + timedelta(days=3)).isoformat()
    refused = {
        "police_contact_date": [
            {"police_contact": "yes", "police_contact_date": later},  # after the arrest / future
            {"police_contact": "yes", "police_contact_date": "0001-01-01"},
            {"police_contact": "yes", "police_contact_date": "9999-12-31"},
            {"police_contact": "no", "police_contact_date": before},
            {"police_contact_date": "2026-11-\x00"},
        ],
        "police_contact": [{"police_contact": "maybe"}, {"police_contact": "yes\u202e"}],
        "police_agency": [
            {"police_contact": "no", "police_agency": "state_police"},
            {"police_agency": "NYPD"},
        ],
        "to_or_from_court": [{"to_or_from_court": True}],
    }
    for field, bodies in refused.items():
        for body in bodies:
            answer = await _post(client, observed_at=observed.isoformat(), **body)
            assert answer.status_code == 422, (body, answer.text)
            assert field in _fields(answer) or answer.json().get("field") == field, answer.text
    huge = (
        '{{"kind": "courthouse_arrest", "courthouse_code": "NYC", "observed_at": "{}", '
        '"police_contact_date": {}}}'.format(observed.isoformat(), "9" * 5000)
    )
    answer = await client.post(
        "/api/reports", content=huge, headers={"Idempotency-Key": uuid.uuid4().hex,
                                               "content-type": "application/json"},
    )  # fmt: skip
    assert 400 <= answer.status_code < 500, answer.text
    # A call-in: the contact cannot be after the letter arrived.
    call_in = await _post(
        client, kind="call_in", courthouse_code=None, observed_at=observed.isoformat(),
        letter_date=(day - timedelta(days=5)).isoformat(), police_contact="yes",
        police_contact_date=(day - timedelta(days=2)).isoformat(),
    )  # fmt: skip
    assert call_in.status_code == 422 and "police_contact_date" in _fields(call_in)

    # Amended like any field; the same rules hold for the whole amended report.
    amend = f"/api/reports/{report['id']}/amend"
    token = report["author_token"]
    ok = await client.post(
        amend, json={"token": token, "changes": {"police_agency": "county_sheriff"}}
    )
    assert ok.status_code == 200, ok.text
    bad = await client.post(amend, json={"token": token, "changes": {"police_contact_date": later}})
    assert bad.status_code == 422, bad.text
    bad = await client.post(amend, json={"token": token, "changes": {"police_contact": "no"}})
    assert bad.status_code == 422, bad.text
    earlier = (observed - timedelta(days=20)).isoformat()  # before the police contact
    bad = await client.post(amend, json={"token": token, "changes": {"observed_at": earlier}})
    assert bad.status_code == 422 and "police_contact_date" in bad.text, bad.text
    after = (await client.get(f"/api/reports/{report['id']}")).json()
    assert after["details"]["police_agency"] == "county_sheriff"
    assert after["version"] == stored["version"] + 1  # the refused ones stored nothing

    # The report page: the warrant stands out, the contact reads as one group, in both languages.
    for lang, words in (
        ("en", ("Judicial (signed by a judge)", "Before this: contact with local police",
                "County sheriff", "Misdemeanour")),
        ("es", ("Judicial (firmada por un juez)", "Antes de esto: contacto con la policía local",
                "Alguacil del condado (sheriff)", "Delito menor")),
    ):  # fmt: skip
        page = (await client.get(f"/reports/{report['id']}?lang={lang}")).text
        assert 'class="prominent" id="warrant"' in page
        for word in words:
            assert word in text_of(page), (lang, word)

    # The no-JS form offers the fields, the warrant first among the questions; it stores them.
    for lang in ("en", "es"):
        form = (await client.get(f"/new/courthouse_arrest?lang={lang}")).text
        assert 'class="group police-contact"' in form and 'name="police_contact_date"' in form
        assert form.index('name="warrant"') < form.index('name="agents_count"')
        assert TEXT["field.warrant_hint"][0 if lang == "en" else 1] in form
    local = observed.astimezone(datetime.now().astimezone().tzinfo)
    posted = await client.post(
        "/new/courthouse_arrest?lang=en",
        data={"client_key": uuid.uuid4().hex, "courthouse_code": "NYC",
              "observed_at": observed.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
              .strftime("%Y-%m-%dT%H:%M"),
              "police_contact": "yes", "police_contact_date": before,
              "police_agency": "state_police", "detainer_lodged": "yes"},
        headers={"accept": "application/json"},
    )  # fmt: skip
    assert posted.status_code == 201, posted.text
    saved = (await client.get(posted.json()["url"].replace("/reports/", "/api/reports/"))).json()
    assert saved["details"]["police_agency"] == "state_police"
    assert saved["details"]["detainer_lodged"] == "yes"
    assert local  # the form reads times on the courthouse's clock, not the test machine's

    # The summaries page has the section, in both languages.
    for lang, heading in (("en", "Local police contact before ICE"),
                          ("es", "Contacto con la policía local antes de ICE")):  # fmt: skip
        page = (await client.get(f"/summaries/week/2026-W47?lang={lang}")).text
        assert 'id="pipeline"' in page and heading in text_of(page)


def test_every_police_contact_value_has_an_english_and_a_spanish_label() -> None:
    for prefix, vocabulary in (("police_agency", PoliceAgency), ("police_outcome", PoliceOutcome)):
        assert VALUE_LABELS[prefix] == prefix
        for value in vocabulary:
            english, spanish = TEXT[f"{prefix}.{value.value}"]
            assert (english and spanish and english != spanish) or value.value == "other", value
    for name in ("police_contact", "police_contact_date", "police_agency", "police_outcome",
                 "detainer_lodged", "to_or_from_court", "pipeline"):  # fmt: skip
        english, spanish = TEXT[f"field.{name}"]
        assert english and spanish


def test_the_summary_page_shows_the_lag_buckets_the_figures_have() -> None:
    from pathlib import Path

    from projections.trends.pipeline import BUCKETS

    template = (Path(__file__).parents[3] / "web/templates/summaries.html").read_text()
    labels = ", ".join(f'"{label}"' for label, *_ in BUCKETS)
    assert f"{{% set buckets = ({labels}) %}}" in template
