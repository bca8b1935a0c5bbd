"""The members' pages at 390x844 in English and Spanish: no sideways scrolling,
no untranslated key, the invite QR code drawn. Screenshots go to tmp_path, or to
COURTWATCH_SHOTS_DIR when set (for review)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import join, phone

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
UNTRANSLATED = r"/\b(members|role_member|nav)\.[a-z_]+\b/.test(document.body.innerText)"


async def check(page: Any, shots: Path, name: str) -> None:
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert await page.evaluate(NO_OVERFLOW), f"{name} scrolls sideways at 390 px"
    assert not await page.evaluate(UNTRANSLATED), f"{name} shows an untranslated key"


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_members_pages_fit_a_phone_in_both_languages(
    live_server: ServerThread, browser: Any, services: Services, tmp_path: Path, lang: str
) -> None:
    shots = Path(os.environ.get("COURTWATCH_SHOTS_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    public = services.settings.public_url
    context, page = await phone(browser, lang)

    await page.goto(f"{live_server.url}/signin?lang={lang}")
    await check(page, shots, f"signin-{lang}")
    assert await page.get_attribute("html", "lang") == lang

    link = invite(services.members, public, ["coordinator", "responder"])
    await page.goto(f"{link}?lang={lang}")
    await check(page, shots, f"invite-{lang}")

    await join(
        page, f"{link}?lang={lang}", "Coordinadora Ana" if lang == "es" else "Coordinator Ana"
    )
    services.members.create_member("Río 7", ["responder"])
    services.members.create_member("Lawyer Lee", ["lawyer"])
    await page.goto(f"{live_server.url}/console/members?lang={lang}")
    await page.check('.members-invite input[value="lawyer"]')
    await page.click("#invite-button")
    await page.wait_for_selector("#invite-qr svg")
    assert (await page.text_content("#invite-link") or "").startswith(public + "/invite/")
    await check(page, shots, f"console-members-{lang}")

    used = invite(services.members, public, ["responder"])
    services.members.join(used.rsplit("/", 1)[1], uuid.uuid4(), "x", b"c", b"k", 0)
    answer = await page.goto(f"{used}?lang={lang}")
    assert answer is not None and answer.status == 410
    await check(page, shots, f"invite-used-{lang}")
    await context.close()
