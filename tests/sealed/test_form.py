"""The no-JS report form's "details for the legal team (sealed)" section."""

from __future__ import annotations

import re
import uuid

import httpx

from courtwatch.members import MemberRole
from courtwatch.services import Services
from tests.members.tokens import member_token
from tests.sealed.conftest import bearer, count, markers


def form_body(sealed: dict[str, str], **public: str) -> dict[str, str]:
    return {
        "client_key": uuid.uuid4().hex,
        "courthouse_code": "NYC",
        "observed_at": "2026-11-20T09:30",
        "place": "hallway",
        **public,
        **{f"sealed.{name}": value for name, value in sealed.items()},
    }


async def test_the_form_has_the_section_and_seals_what_is_typed_into_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/new/courthouse_arrest?lang=es")
    assert "Datos para el equipo legal (sellados)" in page.text
    assert 'name="sealed.notes"' in page.text and 'name="sealed.a_number"' in page.text

    values = markers()
    answer = await client.post("/new/courthouse_arrest?lang=en", data=form_body(values))
    assert answer.status_code == 201, answer.text
    for value in values.values():
        assert value.split("\n")[0] not in answer.text
    report_id = re.search(r"/reports/([0-9a-f-]{36})", answer.text).group(1)  # type: ignore[union-attr]
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    read = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert read.json()["sealed"] == values


async def test_a_form_with_a_bad_field_comes_back_uncached_and_stores_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    values = markers()
    bad_public = await client.post(
        "/new/courthouse_arrest?lang=en", data=form_body(values, agents_count="1000")
    )
    assert bad_public.status_code == 422
    assert bad_public.headers["cache-control"] == "no-store"
    assert values["a_number"] in bad_public.text  # given back to the author to fix, not lost
    assert '<details class="sealed-section" id="sealed-section" open>' in bad_public.text
    bad_sealed = await client.post(
        "/new/courthouse_arrest?lang=es",
        data=form_body({"person_name": "dos\nlíneas"}),
    )
    assert bad_sealed.status_code == 422
    assert "Nombre de la persona" in bad_sealed.text
    assert count(services, "courtwatch_events") == 0
    assert count(services, "sealed_envelopes") == 0
    plain = await client.post("/new/courthouse_arrest", data=form_body({"notes": "   "}))
    assert plain.status_code == 201
    assert count(services, "sealed_envelopes") == 0
