"""Issue 11 in Chromium at 390x844: a watcher with no signal attaches a photo
(a JPEG with GPS, camera and time in its EXIF) and sealed notes; the phone is
switched off and on again, the report is still queued with its photo; signal
returns, and it is stored once. A lawyer reads the notes and gets the photo's
exact bytes, which hash to the logged commitment; a responder cannot.

Also: the form with a photo chosen, and with a refused photo, in English and
Spanish, with and without JavaScript (screenshots under $COURTWATCH_SCREENSHOTS).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from courtwatch.members import MemberRole
from courtwatch.sealed.service import unsealing_key_path
from courtwatch.sealing import keys
from courtwatch.sealing.commitments import commitment_to_bytes
from courtwatch.sealing.envelope import unseal_blob
from courtwatch.services import Services
from tests.conftest import ServerThread, wait_until
from tests.members.tokens import member_token
from tests.sealed.conftest import bearer, count, markers
from tests.sealed.test_photos import CAMERA, GPS_IFD, photo
from tests.web.reports.test_client_evidence import PHONE, screenshot_path
from tests.web.test_app_shell import (  # noqa: F401 - fixtures
    Phone,
    Recorder,
    Signal,
    live_server,
    pending,
    phone_profile,
    recorder,
    signal,
)

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
QUEUED_PHOTO = """async () => {
  const items = await courtwatchStore.outbox.all();
  return items.map((x) => (x.photos || []).map((p) => [p instanceof Blob, p.size]));
}"""


def jpeg_with_gps() -> bytes:
    data = photo("JPEG")
    # The photo carries what must stay sealed: camera, time and GPS in its EXIF.
    assert CAMERA.encode() in data
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)[1] == "N"
    return data


async def test_a_photo_and_notes_queued_with_no_signal_survive_a_restart_and_arrive_once(
    signal: Signal,  # noqa: F811
    recorder: Recorder,  # noqa: F811
    client: httpx.AsyncClient,
    phone_profile: Phone,  # noqa: F811
    browser: Any,
    services: Services,
    tmp_path: Path,
) -> None:
    original = jpeg_with_gps()
    notes = markers()["notes"]
    base = signal.url
    page = await phone_profile.start()
    await page.goto(base + "/?lang=en")
    assert await page.evaluate("window.courtwatchApp.ready()") is True

    await page.goto(base + "/new/courthouse_arrest?lang=en")
    await phone_profile.go_offline()
    signal.cut()
    await page.locator("#courthouse_code").select_option("NYC")
    await page.locator("#sealed-section summary").click()
    await page.locator('[name="sealed.notes"]').fill(notes)
    await page.locator("#photos").set_input_files(
        files=[{"name": "IMG_4411.JPG", "mimeType": "image/jpeg", "buffer": original}]
    )
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#outbox-notice").wait_for()
    assert await pending(page) == 1
    assert await page.evaluate(QUEUED_PHOTO) == [[[True, len(original)]]]
    await page.screenshot(path=screenshot_path(tmp_path, "photo-queued-offline-en"))

    # Switched off and on again, still with no signal: the photo is still there.
    await phone_profile.stop()
    page = await phone_profile.start(offline=True)
    await page.goto(base + "/new/courthouse_arrest?lang=en")
    assert await pending(page) == 1
    assert await page.evaluate(QUEUED_PHOTO) == [[[True, len(original)]]]
    assert recorder.posts("/new/") == 0
    assert count(services, "courtwatch_events") == 0

    # Signal returns: sent, and stored once (the page and Background Sync may both send).
    signal.restore()
    await phone_profile.go_online()
    await page.evaluate("window.dispatchEvent(new Event('online'))")

    async def sent() -> bool:
        return await pending(page) == 0

    await wait_until(sent, timeout=20)
    await page.evaluate("window.courtwatchOutbox.flush()")  # a second pass sends nothing
    assert count(services, "sealed_photos") == 1
    assert count(services, "sealed_envelopes") == 1
    assert count(services, "courtwatch_events") == 3  # Submitted, DetailsSealed, PhotoSealed
    with services.database.connect() as conn:
        row = conn.execute("SELECT report_id, photo_id FROM sealed_photos").fetchone()
    assert row is not None
    report_id, photo_id = str(row[0]), str(row[1])

    # The sealed original, with its sealed salt, hashes to the logged commitment.
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    logged = next(e for e in history if e["event"] == "PhotoSealed")["data"]
    assert logged["photo_id"] == photo_id
    assert notes not in str(history) and CAMERA not in str(history)
    private = keys.read_private_key(unsealing_key_path(services.settings))  # type: ignore[arg-type]
    found = services.sealed.store.photo(uuid.UUID(report_id), uuid.UUID(photo_id))
    assert found is not None
    salt, data = unseal_blob(
        uuid.UUID(report_id), f"photo:{photo_id}", found.ciphertext, found.wrapped_key, private
    )
    assert data == original
    assert (
        commitment_to_bytes(uuid.UUID(report_id), f"photo:{photo_id}", salt, data)
        == (logged["commitment"])
    )

    # A lawyer, in a browser, reads the notes and gets the photo's exact bytes.
    lawyer_token = member_token(services, "Lawyer Ana", MemberRole.LAWYER)
    responder_token = member_token(services, "Río", MemberRole.RESPONDER)
    lawyer = await browser.new_context(**PHONE, extra_http_headers=bearer(lawyer_token))
    lawyer_page = await lawyer.new_page()
    read = await lawyer_page.goto(f"{base}/reports/{report_id}/sealed?lang=en")
    assert read is not None and read.status == 200
    assert notes.split("\n")[0] in await lawyer_page.locator("#sealed-fields").inner_text()
    original_url = f"{base}/api/reports/{report_id}/photos/{photo_id}/original"
    got = await lawyer.request.get(original_url)
    assert got.status == 200 and await got.body() == original
    responder = await browser.new_context(**PHONE, extra_http_headers=bearer(responder_token))
    refused = await responder.request.get(original_url)
    assert refused.status == 403
    refused_page = await (await responder.new_page()).goto(
        f"{base}/reports/{report_id}/sealed?lang=en"
    )
    assert refused_page is not None and refused_page.status == 403
    assert notes.split("\n")[0] not in await refused_page.text()
    for ctx in (lawyer, responder):
        await ctx.close()


WORDS = {
    "en": ("Photos (sealed)", "Photo 1 is damaged or incomplete", "choose them again"),
    "es": ("Fotos (selladas)", "La foto 1 está dañada o incompleta", "elíjalas de nuevo"),
}


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_the_form_with_a_photo_and_with_a_refused_photo_fits_a_phone(
    live_server: ServerThread,  # noqa: F811
    browser: Any,
    services: Services,
    tmp_path: Path,
    lang: str,
) -> None:
    label, refused_words, again = WORDS[lang]
    good = jpeg_with_gps()
    damaged = good[:2500]
    # Without JavaScript: the server's own check and its page.
    context = await browser.new_context(**PHONE, locale=lang, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/new/courthouse_arrest?lang={lang}")
    await page.locator("#sealed-section summary").click()
    assert await page.locator("label[for=photos]").inner_text() == label
    await page.locator("#courthouse_code").select_option("NYC")
    await page.locator('[name="sealed.notes"]').fill("Typed notes stay")
    await page.locator("#photos").set_input_files(
        files=[{"name": "IMG_4411.JPG", "mimeType": "image/jpeg", "buffer": damaged}]
    )
    await page.locator("#photos").scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_path(tmp_path, f"form-photo-chosen-{lang}"))
    assert await page.evaluate(NO_OVERFLOW)
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator(".error-summary").wait_for()
    summary = await page.locator(".error-summary").inner_text()
    assert refused_words in summary, summary
    assert refused_words in await page.locator("#photos-error").inner_text()
    assert again in await page.locator(".photos-again").inner_text()
    assert await page.locator('[name="sealed.notes"]').input_value() == "Typed notes stay"
    assert await page.locator("#courthouse_code").input_value() == "NYC"
    await page.screenshot(
        path=screenshot_path(tmp_path, f"form-photo-refused-nojs-{lang}"), full_page=True
    )
    assert await page.evaluate(NO_OVERFLOW)
    assert count(services, "courtwatch_events") == 0

    # With JavaScript: too many photos are refused on the phone, before anything is queued.
    scripted = await browser.new_context(**PHONE, locale=lang)
    page = await scripted.new_page()
    await page.goto(f"{live_server.url}/new/courthouse_arrest?lang={lang}")
    await page.locator("#sealed-section summary").click()
    await page.locator("#courthouse_code").select_option("NYC")
    seven = [{"name": f"IMG_{n}.JPG", "mimeType": "image/jpeg", "buffer": good} for n in range(7)]
    await page.locator("#photos").set_input_files(files=seven)
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#messages .error-summary").wait_for()
    text = await page.locator("#messages .error-summary").inner_text()
    assert ("At most 6 photos" if lang == "en" else "Como máximo 6 fotos") in text, text
    assert await page.locator("#photos").get_attribute("aria-invalid") == "true"
    assert await pending(page) == 0
    await page.screenshot(
        path=screenshot_path(tmp_path, f"form-photos-too-many-js-{lang}"), full_page=True
    )
    assert await page.evaluate(NO_OVERFLOW)
    assert count(services, "courtwatch_events") == 0
    for ctx in (context, scripted):
        await ctx.close()


def profile_holds(profile: Path, needle: bytes) -> list[str]:
    """Files of the browser profile on disk that contain ``needle``."""
    found = []
    for path in profile.rglob("*"):
        if path.is_file():
            try:
                if needle in path.read_bytes():
                    found.append(str(path.relative_to(profile)))
            except OSError:
                continue
    return found


async def test_remove_everything_takes_a_queued_photo_off_the_phone(
    signal: Signal,  # noqa: F811
    phone_profile: Phone,  # noqa: F811
    services: Services,
) -> None:
    original = jpeg_with_gps()
    needle = original[len(original) // 2 : len(original) // 2 + 48]
    base = signal.url  # cut: Background Sync at start-up must find no signal either
    page = await phone_profile.start()
    await page.goto(base + "/new/sighting?lang=en")
    assert await page.evaluate("window.courtwatchApp.ready()") is True
    await phone_profile.go_offline()
    signal.cut()
    await page.locator("#courthouse_code").select_option("BOS")
    await page.locator("#sealed-section summary").click()
    await page.locator("#photos").set_input_files(
        files=[{"name": "IMG_1.JPG", "mimeType": "image/jpeg", "buffer": original}]
    )
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#outbox-notice").wait_for()
    assert await page.evaluate(QUEUED_PHOTO) == [[[True, len(original)]]]
    await phone_profile.stop()
    # The check below can fail: the queued photo's bytes are in the profile on disk.
    assert profile_holds(phone_profile.profile, needle)

    page = await phone_profile.start(offline=True)
    await page.goto(base + "/mine?lang=en")
    assert await page.evaluate("window.courtwatchMine.ready") == 1
    await page.locator("#wipe-button").click()
    await page.locator("#wipe-yes").wait_for()
    await page.locator("#wipe-yes").click()
    await page.locator("#wiped").wait_for()
    assert await page.evaluate("async () => (await indexedDB.databases()).length") == 0
    await phone_profile.stop()
    # Chromium deletes the photo's blob file after the database, in the
    # background: a browser closed at once can leave it (seen in 2 of 4 runs)
    # until its next start (docs/sealed-data.md, "phone seized"). Not asserted
    # here, as it depends on timing; after one more start it is gone.
    signal.restore()
    page = await phone_profile.start()
    await page.goto(base + "/mine?lang=en")
    await page.evaluate("window.courtwatchMine.ready")
    await phone_profile.stop()
    assert profile_holds(phone_profile.profile, needle) == []
    assert count(services, "courtwatch_events") == 0
