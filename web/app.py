"""The Starlette application: every route, the error mapping, startup and shutdown."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from courtwatch.services import Services
from projections.background import Background
from web import app_shell, openapi
from web.alerts import forms as alert_forms
from web.alerts import in_page as alert_in_page
from web.alerts import pages as alert_pages
from web.alerts import routes as alerts
from web.console import routes as console
from web.errors import EXCEPTION_HANDLERS
from web.jurisdictions.routes import ROUTES as JURISDICTION_ROUTES
from web.limits import BodySizeLimit
from web.live import routes as live
from web.live.map_page import inline_script_hashes
from web.live.serving import LiveSocketFirst
from web.members import pages as member_pages
from web.members import passkeys
from web.members.header import SignedInHeader
from web.reports import api, form_photos, manage, pages
from web.sealed import routes as sealed
from web.static_assets import StaticAssets
from web.summaries import routes as summaries
from web.summaries import weekly as summaries_weekly
from web.transparency import log_page, verifier
from web.transparency import routes as transparency

log = logging.getLogger(__name__)


STATIC_PREFIX = "/static/"
# A policy governs a document or a worker, never a script, style or image a page
# loads: the page's own (~500 bytes with the map's hashes) on each of the form's
# 7 static files was 2.4 of the 28.6 kB a cold form waited on at 400 kbps
# (HTTP/1.1 does not compress headers). A static file
# opened on its own (an SVG, say) still runs nothing. The service worker is
# served at /sw.js with the page policy; a worker started from /static would
# need its own.
STATIC_POLICY = b"default-src 'none'; frame-ancestors 'none'; sandbox"


class SecurityHeaders:
    """Pages may talk to this server only (and fetch tiles from the configured host).

    No inline script runs unless the server vouches for it: templates mark theirs
    with this request's nonce (``request.state.csp_nonce``), and the live map,
    which folium renders once at startup, is allowed by the hashes of its scripts.
    """

    def __init__(self, app: ASGIApp, tile_url: str | None) -> None:
        self.app = app
        tiles = ""
        if tile_url:
            parts = urlparse(tile_url.replace("{s}", "a"))
            tiles = f" {parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
        self.policy = (
            "default-src 'self'; script-src 'self' {scripts}; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{tiles}; connect-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
        self.headers = [
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
        ]
        self._map_hashes: tuple[int, str] = (0, "")

    def _hashes_of_rendered_pages(self, scope: Scope) -> str:
        pages = getattr(getattr(scope.get("app"), "state", None), "map_pages", None) or {}
        if self._map_hashes[0] != id(pages):
            hashes = sorted({h for page in pages.values() for h in inline_script_hashes(page)})
            self._map_hashes = (id(pages), " ".join(hashes))
        return self._map_hashes[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(STATIC_PREFIX):
            policy = STATIC_POLICY
        else:
            nonce = secrets.token_urlsafe(18)
            scope.setdefault("state", {})["csp_nonce"] = nonce
            scripts = f"'nonce-{nonce}' {self._hashes_of_rendered_pages(scope)}".strip()
            policy = self.policy.replace("{scripts}", scripts).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", policy),
                    *self.headers,
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def routes() -> list[Route | WebSocketRoute | Mount]:
    """Every route of the product, by feature."""
    return [
        # Reports: the watcher's form and pages, the JSON API.
        Route("/", pages.home),
        Route("/healthz", pages.health),
        Route("/new", pages.legacy_form),
        # An empty form carries no token and reflects nothing but ?lang, so it may
        # be compressed (its 82 courthouses are ~43 kB, 1.3 s at 400 kbps); the
        # POST's answer carries the author token and is never compressed.
        Route(
            "/new/{kind}",
            pages.new_report,
            methods=["GET"],
            middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
        ),
        Route("/new/{kind}", pages.create_report, methods=["POST"]),
        Route("/reports/{report_id}", pages.report_page),
        Route("/reports/{report_id}/manage", manage.manage_page, methods=["GET"]),
        Route("/reports/{report_id}/manage", manage.manage_post, methods=["POST"]),
        Route("/api/reports", api.submit_report, methods=["POST"]),
        Route("/api/reports/{report_id}", api.get_report, methods=["GET"]),
        Route("/api/reports/{report_id}/amend", api.amend_report, methods=["POST"]),
        Route("/api/reports/{report_id}/corroborate", api.corroborate_report, methods=["POST"]),
        Route("/api/reports/{report_id}/verify", api.verify_report, methods=["POST"]),
        Route("/api/reports/{report_id}/dispute", api.dispute_report, methods=["POST"]),
        Route("/api/reports/{report_id}/outcome", api.record_outcome, methods=["POST"]),
        Route("/api/reports/{report_id}/claim", api.claim_report, methods=["POST"]),
        Route("/api/reports/{report_id}/on-scene", api.confirm_on_scene, methods=["POST"]),
        Route("/api/reports/{report_id}/resolve", api.resolve_report, methods=["POST"]),
        Route("/api/reports/{report_id}/end", api.end_shift, methods=["POST"]),
        Route("/api/courthouses", api.list_courthouses, methods=["GET"]),
        Route("/api/courthouses", api.add_courthouse, methods=["POST"]),
        # The installable web app: works offline, lists this phone's reports.
        Route("/sw.js", app_shell.service_worker, methods=["GET"]),
        Route("/manifest.webmanifest", app_shell.manifest, methods=["GET"]),
        Route("/mine", app_shell.mine_page, methods=["GET"]),
        # The live map: page, first paint, websocket.
        # The map page is the same bytes for everyone (rendered at startup, no
        # token in it): compressing it saves a phone ~6 kB on its first view.
        Route("/map", live.map_page, middleware=[Middleware(GZipMiddleware, minimum_size=1024)]),
        # Compressed here only: 5,000 markers are ~2.3 MB of JSON, ~10x less gzipped.
        # Not app-wide, so no page that carries an author token is ever compressed.
        Route(
            "/api/map/reports",
            live.first_paint,
            middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
        ),
        WebSocketRoute("/ws/live", live.live_socket),
        # The transparency log: key, checkpoints, proofs, evidence bundles.
        Route(transparency.KEY_PATH, transparency.log_key),
        Route("/api/log/checkpoints", transparency.list_checkpoints, methods=["GET"]),
        Route("/api/log/checkpoints", transparency.publish, methods=["POST"]),
        Route("/api/log/checkpoints/latest", transparency.latest_checkpoint),
        Route("/api/log/inclusion", transparency.inclusion),
        Route("/api/log/consistency", transparency.consistency),
        Route("/reports/{report_id}/evidence.zip", transparency.evidence),
        # The log's identity (origin, key, fingerprint, latest checkpoint), in words.
        Route("/log", log_page.log_page, methods=["GET"]),
        # The browser verifier: the same file every bundle carries as verify.html.
        Route("/verify", verifier.verify_page, methods=["GET"]),
        # Trend summaries.
        Route("/summaries", summaries.index, methods=["GET"]),
        Route("/summaries/{period}/{key}", summaries.summary_page, methods=["GET"]),
        Route("/summaries/weeks.csv", summaries_weekly.weeks_csv, methods=["GET"]),
        Route("/summaries/reports.geojson", summaries_weekly.reports_geojson, methods=["GET"]),
        # Jurisdictions: county of each courthouse, detainer policies (web/jurisdictions).
        *JURISDICTION_ROUTES,
        # Team members: passkey sign-in, invites, roles, sessions, API tokens.
        Route("/signin", member_pages.signin_page, methods=["GET"]),
        Route("/signout", member_pages.sign_out, methods=["POST"]),
        Route("/invite/{token}", member_pages.invite_page, methods=["GET"]),
        Route("/console/members", member_pages.members_page, methods=["GET"]),
        Route("/console/members/invite", member_pages.issue_invite, methods=["POST"]),
        Route(
            "/console/members/invites/{invite_id}/cancel",
            member_pages.cancel_invite,
            methods=["POST"],
        ),
        Route("/console/members/{member_id}/roles", member_pages.set_roles, methods=["POST"]),
        Route("/console/members/{member_id}/revoke", member_pages.revoke_member, methods=["POST"]),
        Route("/console/members/me/tokens", member_pages.issue_token, methods=["POST"]),
        Route(
            "/console/members/me/tokens/{token_id}/revoke",
            member_pages.revoke_token,
            methods=["POST"],
        ),
        Route(
            "/console/members/me/passkeys/{credential_id}/revoke",
            member_pages.revoke_passkey,
            methods=["POST"],
        ),
        # The responder console: the live triage queue, members only.
        Route("/console", console.console_page, methods=["GET"]),
        Route("/console/reports/{report_id}/{action}", console.console_action, methods=["POST"]),
        WebSocketRoute("/ws/console", console.console_socket),
        Route("/api/members/me", passkeys.me, methods=["GET"]),
        Route("/api/members/invites/{token}/options", passkeys.invite_options, methods=["POST"]),
        Route("/api/members/invites/{token}", passkeys.join, methods=["POST"]),
        Route("/api/members/signin/options", passkeys.signin_options, methods=["POST"]),
        Route("/api/members/signin", passkeys.sign_in, methods=["POST"]),
        Route("/api/members/me/passkeys/options", passkeys.passkey_options, methods=["POST"]),
        Route("/api/members/me/passkeys", passkeys.add_passkey, methods=["POST"]),
        # Sealed details: read (audited), redact, the list of reads.
        Route("/api/reports/{report_id}/sealed", sealed.read_sealed, methods=["GET"]),
        Route("/api/reports/{report_id}/redact", sealed.redact, methods=["POST"]),
        Route("/api/sealed/reads", sealed.list_reads, methods=["GET"]),
        Route("/reports/{report_id}/sealed", sealed.sealed_page, methods=["GET"]),
        Route("/console/sealed/reads", sealed.reads_page, methods=["GET"]),
        Route("/api/reports/{report_id}/photos", sealed.upload_photo, methods=["POST"]),
        Route(
            "/api/reports/{report_id}/photos/{photo_id}/original",
            sealed.photo_original,
            methods=["GET"],
        ),
        Route(
            "/api/reports/{report_id}/photos/{photo_id}/preview",
            sealed.photo_preview,
            methods=["GET"],
        ),
        Route(
            "/api/reports/{report_id}/photos/{photo_id}/publish",
            sealed.publish_photo,
            methods=["POST"],
        ),
        Route("/reports/{report_id}/photos/{photo_id}", sealed.public_photo, methods=["GET"]),
        # Alerts: subscriptions, webhooks, Web Push, per-report counts (docs/alerts.md).
        Route("/api/alerts/subscriptions", alerts.list_subscriptions, methods=["GET"]),
        Route("/api/alerts/subscriptions", alerts.create_subscription, methods=["POST"]),
        Route(
            "/api/alerts/subscriptions/{subscription_id}",
            alerts.replace_subscription,
            methods=["PUT"],
        ),
        Route(
            "/api/alerts/subscriptions/{subscription_id}",
            alerts.delete_subscription,
            methods=["DELETE"],
        ),
        Route("/api/alerts/webhooks", alerts.list_webhooks, methods=["GET"]),
        Route("/api/alerts/webhooks", alerts.create_webhook, methods=["POST"]),
        Route(
            "/api/alerts/webhooks/{webhook_id}/active", alerts.set_webhook_active, methods=["POST"]
        ),
        Route(
            "/api/alerts/webhooks/{webhook_id}/secret",
            alerts.rotate_webhook_secret,
            methods=["POST"],
        ),
        Route(
            "/api/alerts/webhooks/{webhook_id}/deliveries",
            alerts.webhook_deliveries,
            methods=["GET"],
        ),
        Route("/api/alerts/push/key", alerts.push_key, methods=["GET"]),
        Route("/api/alerts/push/subscriptions", alerts.add_push_subscription, methods=["POST"]),
        Route("/api/alerts/reports/{report_id}", alerts.report_alerts, methods=["GET"]),
        Route(
            "/api/alerts/in-page/{report_id}", alert_in_page.report_alerts_in_page, methods=["GET"]
        ),
        Route("/console/alerts", alert_pages.alerts_page, methods=["GET"]),
        Route("/console/alerts", alert_forms.add_alert, methods=["POST"]),
        Route(
            "/console/alerts/{subscription_id}/remove", alert_forms.remove_alert, methods=["POST"]
        ),
        Route("/console/alerts/{subscription_id}", alert_forms.edit_alert, methods=["POST"]),
        # The API's own description, built from this table (web/openapi.py).
        Route(openapi.PATH, openapi.openapi_document, methods=["GET"]),
        # Compressed, and cached for a year when named by content hash (web/static_assets.py).
        Mount("/static", StaticAssets(), name="static"),
    ]


def create_app(services: Services, background: Background | None = None) -> Starlette:
    """The web app; ``background`` is the work started and stopped with it (or None)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if background is not None:
            await run_in_threadpool(background.start)
        try:
            async with app.state.live.running():
                log.info("web app started")
                yield {}
        finally:
            if background is not None:
                await run_in_threadpool(background.stop)
        log.info("web app stopped")

    settings = services.settings
    # /ws/live bypasses the middleware below (web/live/serving.py), guarded on its own.
    app = LiveSocketFirst(
        public_url=settings.public_url,
        max_viewers=settings.max_viewers,
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders, tile_url=settings.tile_url),
            Middleware(SignedInHeader),
            Middleware(
                BodySizeLimit,
                max_bytes=settings.max_body_bytes,
                larger=[
                    (sealed.PHOTO_UPLOAD_PATTERN, sealed.PHOTO_UPLOAD_LIMIT),
                    (form_photos.FORM_PATH_PATTERN, form_photos.FORM_BODY_LIMIT),
                ],
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.live = live.Live(services)
    app.state.map_pages = live.map_pages(services)
    return app
