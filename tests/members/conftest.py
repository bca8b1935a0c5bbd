"""A live server whose public origin is http://localhost:<port> (a secure context for
WebAuthn), and a Chromium page with a CDP virtual authenticator (a phone's passkey)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from courtwatch.infrastructure.config import Settings
from courtwatch.services import Services
from tests.conftest import ServerThread, free_port
from tests.members.tokens import member_token

PHONE = {"width": 390, "height": 844}


class LocalhostServer(ServerThread):
    """uvicorn on 127.0.0.1, reached by the browser as http://localhost:<port>."""

    def __init__(self, app: Any, port: int) -> None:
        super().__init__(app)
        self.port = port
        self.server.config.port = port

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, port: int) -> Settings:
    return replace(settings, public_url_setting=f"http://localhost:{port}")


@pytest.fixture
def live_server(web_app: Any, port: int) -> Iterator[ServerThread]:
    with LocalhostServer(web_app, port) as server:
        yield server


@pytest.fixture
async def client(live_server: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    # Origin as a page of this server would send it (the ceremonies refuse others).
    async with httpx.AsyncClient(
        base_url=live_server.url, timeout=30, headers={"Origin": live_server.url}
    ) as client:
        yield client


async def phone(browser: Any, lang: str = "en") -> tuple[Any, Any]:
    """A 390x844 page with a passkey-capable virtual authenticator (user verified)."""
    context = await browser.new_context(viewport=PHONE, locale=lang)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return context, page


async def join(page: Any, link: str, name: str) -> None:
    """Open an invite link, choose a display name, create the passkey."""
    await page.goto(link)
    await page.fill("#display_name", name)
    await page.click("#join-button")
    await page.wait_for_url("**/console/members**", timeout=10_000)


async def sign_in(page: Any, base_url: str) -> None:
    await page.goto(base_url + "/signin")
    await page.click("#signin-button")
    await page.wait_for_url("**/console/members**", timeout=10_000)


async def csrf_of(page: Any) -> str:
    return str(await page.get_attribute('meta[name="csrf-token"]', "content"))


async def session_cookie(page: Any) -> str:
    cookies = await page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == "courtwatch_session")


def as_member(services: Services, name: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {member_token(services, name, *roles)}"}
