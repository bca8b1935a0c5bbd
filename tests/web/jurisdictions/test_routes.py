"""Jurisdiction pages, JSON and the coordinators' policy form, on a real server."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from courtwatch.domain.reports import Sighting, hash_token
from courtwatch.infrastructure import event_log
from courtwatch.jurisdictions.service import load_policies
from courtwatch.services import Services
from tests.members.tokens import member_token

SOURCE = "https://www.nyc.gov/assets/law/downloads/pdf/detainer-law.pdf"
GOOD = {"policy": "limits", "source_url": SOURCE, "effective_on": "2014-11-14"}


def entries(services: Services) -> int:
    return len(load_policies(services.app).entries)


async def test_pages_and_json_list_counties_with_their_courthouses(
    client: httpx.AsyncClient, services: Services
) -> None:
    listed = (await client.get("/api/jurisdictions")).json()["jurisdictions"]
    manhattan = next(j for j in listed if j["fips"] == "36061")
    assert {"NYC", "NYD", "NYV", "NYB"} <= set(manhattan["courthouses"])
    assert manhattan["label"] == "New York County, NY" and manhattan["policy"] == "unknown"
    assert next(j for j in listed if j["fips"] == "24510")["label"] == "Baltimore city, MD"
    en = await client.get("/jurisdictions?lang=en")
    es = await client.get("/jurisdictions?lang=es")
    assert en.status_code == es.status_code == 200
    assert "Jurisdictions" in en.text and "Jurisdicciones" in es.text
    assert 'href="/jurisdictions/34039?lang=en"' in en.text  # Elizabeth NJ: Union County
    page = await client.get("/jurisdictions/36061?lang=es")
    assert page.status_code == 200
    assert "Política de detainers hoy" in page.text and "Desconocida" in page.text
    assert "<svg" in page.text and "Semana del" in page.text
    assert "record-policy" not in page.text  # no form for the public
    detail = (await client.get("/api/jurisdictions/36061")).json()
    assert [c["code"] for c in detail["courthouses"]] == ["NYB", "NYC", "NYD", "NYV"]
    assert len(detail["weekly_reports"]) == 12 and detail["history"] == []
    for hostile in ("99999", "3606", "360610", "36061%00", "%E2%80%AE36061", "9" * 5000, "%0A"):
        html = await client.get(f"/jurisdictions/{hostile}")
        api = await client.get(f"/api/jurisdictions/{hostile}")
        assert html.status_code == 404 and "FIPS" in html.text, hostile
        assert api.status_code == 404 and "error" in api.json(), hostile
    # A county's week counts what its courthouses' reports say.
    now = datetime.now(UTC)
    for minutes in (5, 65, 125):
        services.app.save(Sighting(uuid.uuid4(), courthouse_code="NYC", lat=None, lon=None,
                                   observed_at=now - timedelta(minutes=minutes),
                                   details={"agents_count": 1},
                                   author_token_hash=hash_token("t")))  # fmt: skip
    head = event_log.head(services.database)
    deadline = time.monotonic() + 20
    while True:
        weeks = (await client.get("/api/jurisdictions/36061")).json()["weekly_reports"]
        if sum(w["total"] for w in weeks) == 3:
            break
        assert time.monotonic() < deadline, f"the trend view did not reach {head}"
        await asyncio.sleep(0.05)
    assert sum(w["sighting"] for w in weeks[-2:]) == 3  # this week (or last, near midnight)
    other = (await client.get("/api/jurisdictions/34013")).json()["weekly_reports"]
    assert sum(w["total"] for w in other) == 0


async def test_the_json_api_records_a_policy_for_coordinators_only(
    client: httpx.AsyncClient, services: Services
) -> None:
    coordinator = {"Authorization": "Bearer " + member_token(services, "Cora", "coordinator")}
    responder = {"Authorization": "Bearer " + member_token(services, "Rui", "responder")}
    url = "/api/jurisdictions/36061/policies"
    assert (await client.post(url, json=GOOD)).status_code == 401
    assert (await client.post(url, json=GOOD, headers=responder)).status_code == 403
    hostile: list[Any] = [
        {**GOOD, "source_url": "javascript:alert(document.cookie)"},
        {**GOOD, "source_url": "JaVaScRiPt:alert(1)//https://"},
        {**GOOD, "source_url": "data:text/html;base64,PHNjcmlwdD4="},
        {**GOOD, "source_url": "http://www.nyc.gov/"},
        {**GOOD, "source_url": "https://www.nyc.gov/\x00"},
        {**GOOD, "effective_on": "0001-01-01"},
        {**GOOD, "effective_on": "9999-12-31"},
        {**GOOD, "policy": "sometimes"},
        {**GOOD, "corrects": 1},
        {**GOOD, "corrects": "1e3"},
        {**GOOD, "corrects": 10**40},
        {key: value for key, value in GOOD.items() if key != "policy"},
    ]
    for body in hostile:
        answer = await client.post(url, json=body, headers=coordinator)
        assert answer.status_code == 422, body
    for raw in (b"[]", b"{", b'{"policy": "limits", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        answer = await client.post(url, content=raw, headers=coordinator)
        assert 400 <= answer.status_code < 500, raw[:20]
    assert (await client.post("/api/jurisdictions/99999/policies", json=GOOD,
                              headers=coordinator)).status_code == 404  # fmt: skip
    assert entries(services) == 0
    stored = await client.post(url, json=GOOD, headers=coordinator)
    assert stored.status_code == 201
    assert stored.json() | {"recorded_at": None} == {
        "entry": 1, "fips": "36061", "policy": "limits", "source_url": SOURCE,
        "effective_on": "2014-11-14", "recorded_by": "Cora", "recorded_at": None,
        "corrects": None, "superseded_by": None,
    }  # fmt: skip
    fixed = await client.post(
        url, json={**GOOD, "policy": "refuses", "corrects": 1}, headers=coordinator
    )
    assert fixed.status_code == 201 and fixed.json()["corrects"] == 1
    # An entry of Manhattan cannot be "corrected" from Newark's page.
    elsewhere = await client.post("/api/jurisdictions/34013/policies",
                                  json={**GOOD, "corrects": 2}, headers=coordinator)  # fmt: skip
    assert elsewhere.status_code == 422
    detail = (await client.get("/api/jurisdictions/36061")).json()
    assert detail["policy"] == "refuses" and detail["since"] == "2014-11-14"
    assert [e["entry"] for e in detail["history"]] == [2, 1]
    assert detail["history"][1]["superseded_by"] == 2
    listed = (await client.get("/api/jurisdictions")).json()["jurisdictions"]
    assert next(j for j in listed if j["fips"] == "36061")["policy"] == "refuses"


async def test_the_coordinators_form_needs_the_csrf_token_and_explains_a_refusal(
    client: httpx.AsyncClient, services: Services
) -> None:
    store = services.members
    member = store.create_member("Cora", ["coordinator"])
    with store.database.pooled() as conn:
        session = store._open_session(conn, member, store.clock())
    cookie = {"Cookie": f"courtwatch_session={session.id}"}
    page = await client.get("/jurisdictions/34013?lang=es", headers=cookie)
    assert 'class="record-policy"' in page.text and session.csrf_token in page.text
    assert page.headers["cache-control"] == "no-store"
    url = "/jurisdictions/34013/policies?lang=es"
    forged = await client.post(url, data=GOOD, headers=cookie)
    assert forged.status_code == 403 and entries(services) == 0
    bad = await client.post(
        url,
        data={**GOOD, "source_url": "javascript:alert(1)", "csrf_token": session.csrf_token},
        headers=cookie,
    )
    assert bad.status_code == 422 and "https://" in bad.text and "No se registró" in bad.text
    assert 'href="javascript' not in bad.text and entries(services) == 0
    ok = await client.post(url, data={**GOOD, "csrf_token": session.csrf_token}, headers=cookie)
    assert ok.status_code == 303 and ok.headers["location"] == "/jurisdictions/34013?lang=es"
    fixed = await client.post(
        url,
        data={**GOOD, "policy": "honors", "corrects": "1", "csrf_token": session.csrf_token},
        headers=cookie,
    )
    assert fixed.status_code == 303
    shown = (await client.get("/jurisdictions/34013?lang=en")).text
    assert "Honors detainers" in shown and "corrected by" in shown
    assert f'href="{SOURCE}" rel="noopener noreferrer nofollow"' in shown
    padded = {**GOOD, "csrf_token": session.csrf_token, **{f"x{n}": "1" for n in range(300)}}
    assert 400 <= (await client.post(url, data=padded, headers=cookie)).status_code < 500
    assert entries(services) == 2


async def test_the_police_contact_figures_split_on_the_day_a_policy_changed(
    client: httpx.AsyncClient, services: Services
) -> None:
    from courtwatch.jurisdictions.service import record_policy

    today = datetime.now(UTC).date()
    changed = today - timedelta(days=10)
    for policy, effective in (("honors", "2014-01-01"), ("refuses", changed.isoformat())):
        record_policy(services.app, fips="36061", policy=policy, source_url=SOURCE,
                      effective_on=effective, member="Cora", today=today)  # fmt: skip
    noon = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)
    arrests = [  # days ago, police contact, contact days before the arrest
        (20, "yes", 12),
        (18, "yes", 40),
        (17, "no", None),
        (3, "yes", 5),
        (2, "unknown", None),
    ]
    for days_ago, contact, lag in arrests:
        body: dict[str, Any] = {"kind": "courthouse_arrest", "courthouse_code": "NYC",
                                "observed_at": (noon - timedelta(days=days_ago)).isoformat(),
                                "police_contact": contact}  # fmt: skip
        if lag is not None:
            body["police_contact_date"] = (today - timedelta(days=days_ago + lag)).isoformat()
        answer = await client.post(
            "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 20
    while True:
        figures = (await client.get("/api/jurisdictions/36061")).json()["pipeline"]
        contact = figures["all"]["police_contact"]
        if contact["yes"] + contact["no"] + contact["unknown"] == len(arrests):
            break
        assert time.monotonic() < deadline, figures
        await asyncio.sleep(0.05)
    honors, refuses = figures["by_policy"]["honors"], figures["by_policy"]["refuses"]
    assert honors["police_contact"] == {"yes": 2, "no": 1, "unknown": 0, "share_yes": 0.6667}
    assert honors["lag_days"]["median"] == 26 and honors["lag_days"]["n"] == 2
    assert refuses["police_contact"] == {"yes": 1, "no": 0, "unknown": 1, "share_yes": 1.0}
    assert refuses["lag_days"]["buckets"]["0-7"] == 1
    assert figures["all"]["lag_days"]["buckets"] == {
        "0-7": 1, "8-14": 1, "15-30": 0, "31-90": 1, "91+": 0,
    }  # fmt: skip
    # The whole country's table splits the same way; another county adds nothing.
    overall = (await client.get("/api/jurisdictions")).json()["pipeline"]
    assert overall["by_policy"]["refuses"] == refuses
    assert (await client.get("/api/jurisdictions/34013")).json()["pipeline"]["by_policy"] == {}
    for lang, words in (("en", "Refuses detainers"), ("es", "Rechaza los detainers")):
        page = await client.get(f"/jurisdictions/36061?lang={lang}")
        assert page.status_code == 200 and 'class="figures by-policy"' in page.text
        assert words in page.text and "67%" in page.text
