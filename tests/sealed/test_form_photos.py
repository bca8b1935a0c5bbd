"""Photos on the no-JS report form (multipart): checked by content with the
API's code, sealed with the API's code, each bad upload refused with a form
error in the page's language, what was typed kept, and nothing stored."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import courtwatch.photos
from courtwatch.members import MemberRole
from courtwatch.services import Services
from tests.members.tokens import member_token
from tests.sealed.conftest import bearer, count, markers
from tests.sealed.test_form import form_body
from tests.sealed.test_photos import BAD_UPLOADS, CAMERA, photo

MB = 1024 * 1024
File = tuple[str, tuple[str, bytes, str]]


def jpeg_file(data: bytes | None = None, name: str = "IMG_0001.JPG") -> File:
    return ("photos", (name, photo() if data is None else data, "image/jpeg"))


def stored_nothing(services: Services) -> bool:
    return all(
        count(services, table) == 0
        for table in ("courtwatch_events", "sealed_photos", "sealed_envelopes")
    )


def report_id_in(page: str) -> str:
    found = re.search(r"/reports/([0-9a-f-]{36})", page)
    assert found, page[:500]
    return found.group(1)


async def test_photos_sent_with_the_form_are_sealed_once_and_a_lawyer_gets_the_originals(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each photo is decoded once (~300 ms for a phone's): checked before the
    # report is stored, sealed on that check. The real decoder, counted.
    decoded: list[int] = []
    real_open = courtwatch.photos._open

    def counted_open(data: bytes) -> Any:
        decoded.append(len(data))
        return real_open(data)

    monkeypatch.setattr(courtwatch.photos, "_open", counted_open)
    values = markers()
    body = form_body(values)
    jpeg, png = photo("JPEG"), photo("PNG")
    heic = photo("HEIF")
    files = [
        jpeg_file(jpeg),
        # A PNG named .jpg and declared a JPEG: its content decides.
        ("photos", ("looks-like.jpg", png, "image/jpeg")),
        ("photos", ("IMG_0002.HEIC", heic, "application/octet-stream")),
    ]
    answer = await client.post("/new/courthouse_arrest?lang=en", data=body, files=files)
    assert answer.status_code == 201, answer.text[:2000]
    assert sorted(decoded) == sorted(len(x) for x in (jpeg, png, heic))
    report_id = report_id_in(answer.text)
    assert CAMERA not in answer.text
    # Sent again (a back-and-resubmit, an outbox retry): stored once.
    again = await client.post("/new/courthouse_arrest?lang=en", data=body, files=files)
    assert again.status_code == 200, again.text[:2000]
    assert count(services, "sealed_photos") == 3
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    sealed_events = [e["data"] for e in history if e["event"] == "PhotoSealed"]
    assert len(sealed_events) == 3
    assert count(services, "courtwatch_events") == 5  # Submitted, DetailsSealed, 3 PhotoSealed

    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    responder = member_token(services, "Rio", MemberRole.RESPONDER)
    originals = set()
    for event in sealed_events:
        url = f"/api/reports/{report_id}/photos/{event['photo_id']}/original"
        assert (await client.get(url, headers=bearer(responder))).status_code == 403
        got = await client.get(url, headers=bearer(lawyer))
        assert got.status_code == 200
        originals.add(hashlib.sha256(got.content).hexdigest())
    assert originals == {hashlib.sha256(x).hexdigest() for x in (jpeg, png, heic)}
    with services.database.connect() as conn:
        types = {r[0] for r in conn.execute("SELECT content_type FROM sealed_photos").fetchall()}
    assert types == {"image/jpeg", "image/png", "image/heic"}
    read = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert read.json()["sealed"] == values


async def test_a_file_input_with_nothing_chosen_is_no_photo(
    client: httpx.AsyncClient, services: Services
) -> None:
    empty_part = ("photos", ("", b"", "application/octet-stream"))
    answer = await client.post(
        "/new/courthouse_arrest?lang=en", data=form_body({}), files=[empty_part]
    )
    assert answer.status_code == 201, answer.text[:2000]
    assert count(services, "sealed_photos") == 0
    assert count(services, "courtwatch_events") == 1


def bad_forms() -> dict[str, tuple[list[File], int, str]]:
    """name -> (files, status, the Spanish words the page must show)."""
    forms = {
        name: ([jpeg_file(data)], status, "La foto 1")
        for name, (data, status) in BAD_UPLOADS.items()
        if data
    }
    forms["a chosen file of 0 bytes"] = ([jpeg_file(b"", "empty.jpg")], 422, "está vacía")
    forms["a good photo, then a bad one"] = (
        [jpeg_file(), jpeg_file(b"GIF89a not a photo")],
        415,
        "La foto 2 no es una foto JPEG",
    )
    forms["one byte over the size limit"] = (
        [jpeg_file(photo() + b"\0" * (15 * MB + 1))],
        413,
        "pesa más de 15 MB",
    )
    forms["7 photos"] = ([jpeg_file() for _ in range(7)], 413, "Como máximo 6 fotos")
    forms["50 photos"] = (
        [jpeg_file(b"x", f"{n}.jpg") for n in range(50)],
        413,
        "Como máximo 6 fotos",
    )
    return forms


BAD_FORMS = bad_forms()


@pytest.mark.parametrize("name", list(BAD_FORMS))
async def test_each_bad_upload_gets_the_form_back_in_its_language_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, name: str
) -> None:
    files, status, words = BAD_FORMS[name]
    values = markers()
    body = form_body(values, agents_count="3")
    answer = await client.post("/new/courthouse_arrest?lang=es", data=body, files=files)
    assert answer.status_code == status, (name, answer.status_code, answer.text[:1000])
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    page = answer.text
    assert words in page, name
    assert "elíjalas de nuevo" in page  # the files are not given back: say so
    # What was typed is kept, public and sealed, in an open sealed section.
    assert values["a_number"] in page and 'name="agents_count"' in page and 'value="3"' in page
    assert '<details class="sealed-section" id="sealed-section" open>' in page
    assert body["client_key"] in page
    assert 'aria-invalid="true" aria-describedby="photos-error' in page
    assert stored_nothing(services), name

    # Asked in JSON (the outbox), the same refusal, in its language.
    as_json = await client.post(
        "/new/courthouse_arrest?lang=en",
        data=body,
        files=files,
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == status
    fields = as_json.json()["fields"]
    assert fields[0]["field"] == "photos"
    assert re.match(r"^(Photo [12] |At most 6 photos)", fields[0]["reason"]), fields
    assert stored_nothing(services), name


HOSTILE_NAMES = [
    '"><script>alert(1)</script>.jpg',
    "../../../../etc/passwd",
    "a\u202eGPJ.exe",
    "x" * 251 + ".jpg",  # the longest a phone's file system allows
    "名前\U0001f600.heic",
]


async def test_hostile_file_names_are_never_shown_or_stored(
    client: httpx.AsyncClient, services: Services
) -> None:
    files = [jpeg_file(name=name) for name in HOSTILE_NAMES[:5]]
    answer = await client.post("/new/sighting?lang=en", data=form_body({}), files=files)
    assert answer.status_code == 201, answer.text[:2000]
    for name in HOSTILE_NAMES:
        assert name not in answer.text
    assert "<script>alert" not in answer.text
    assert count(services, "sealed_photos") == 5
    with services.database.connect() as conn:
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sealed_photos'"
        ).fetchall()
    assert not [c for (c,) in columns if "name" in c]  # a file's name is not kept anywhere
    # A name no file system allows: the parser gives up; a clear 400, nothing more stored.
    absurd = await client.post(
        "/new/sighting?lang=en", data=form_body({}), files=[jpeg_file(name="x" * 5000)]
    )
    assert absurd.status_code == 400 and "The form could not be read" in absurd.text
    assert count(services, "sealed_photos") == 5


async def test_a_nul_in_a_field_with_a_photo_stores_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = form_body({"notes": "before\x00after"})
    answer = await client.post("/new/courthouse_arrest?lang=en", data=body, files=[jpeg_file()])
    assert answer.status_code == 422
    assert stored_nothing(services)


async def chunks(megabytes: int, boundary: str) -> AsyncIterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="client_key"\r\n\r\n'
        f"{uuid.uuid4().hex}\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f'name="photos"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    for _ in range(megabytes):
        yield b"\xff" * MB


async def test_a_form_past_its_whole_limit_is_refused_in_words_and_stores_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    boundary = "b" + uuid.uuid4().hex
    answer = await client.post(
        "/new/sighting?lang=es",
        content=chunks(6 * 15 + 8, boundary),  # streamed: no length declared
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413
    assert "Las fotos juntas pesan demasiado" in answer.text
    assert stored_nothing(services)
    # The text-only routes keep their small limit.
    big_json = await client.post("/api/reports", content=b"{" + b" " * 70_000 + b"}")
    assert big_json.status_code == 413


async def test_too_many_parts_for_the_parser_is_a_clear_400(
    client: httpx.AsyncClient, services: Services
) -> None:
    files: list[Any] = [jpeg_file(b"x", f"{n}.jpg") for n in range(70)]
    answer = await client.post("/new/sighting?lang=en", data=form_body({}), files=files)
    assert answer.status_code == 400
    assert "The form could not be read" in answer.text
    assert stored_nothing(services)


async def test_the_same_form_sent_five_times_at_once_stores_one_report_and_its_photos_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = form_body(markers())
    files = [jpeg_file(), jpeg_file(photo("PNG"), "b.png")]

    async def send() -> int:
        answer = await client.post("/new/courthouse_arrest?lang=en", data=body, files=files)
        return answer.status_code

    statuses = await asyncio.gather(*(send() for _ in range(5)))
    assert sorted(statuses) == [200, 200, 200, 200, 201], statuses
    assert count(services, "sealed_photos") == 2
    assert count(services, "sealed_envelopes") == 1
    assert count(services, "courtwatch_events") == 4  # Submitted, DetailsSealed, 2 PhotoSealed
