"""The OpenAPI 3.1 document of the HTTP API, served at ``GET /api/openapi.json``.

It is built from the route table itself (``web.app.routes()``): every route and
method must have an entry in ``OPERATIONS`` below, or building the document
fails, so a new route cannot ship undocumented. The report kinds and their
fields are not retyped here: the request bodies are the JSON Schema of the
intake models (``courtwatch.intake.MODELS``), so the document changes when the
validation does. Pages (HTML) are listed too, marked with the ``pages`` tag,
because integrators link to them; the websocket ``/ws/live`` is listed as the
GET that upgrades, with its frames described in docs/live-protocol.md.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from courtwatch.domain.reports import OUTCOME_FIELDS
from courtwatch.domain.vocabulary import DisputeReason, RedactionReason
from courtwatch.intake import MODELS, SUBMISSION
from courtwatch.members import ROLES
from courtwatch.sealing.fields import SEALED_FIELDS

PATH = "/api/openapi.json"
SCHEMAS = "#/components/schemas/"

Operation = dict[str, Any]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMAS + name}


def _json(schema: Mapping[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: Mapping[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _form(**fields: Mapping[str, Any]) -> dict[str, Any]:
    """A page form's body; every one carries the session's CSRF token."""
    properties = {"csrf_token": {"type": "string"}, **fields}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "required": ["csrf_token"], "properties": properties}
            }
        },
    }


ROLES_FIELD = {"type": "array", "items": {"type": "string", "enum": list(ROLES)}}


def _query(name: str, description: str, schema: Mapping[str, Any] | None = None) -> Operation:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, description: str, schema: Mapping[str, Any] | None = None) -> Operation:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


# A day as the summaries' downloads take it (web/summaries/weekly.py).
DAY = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
COURTHOUSE = {"type": "string", "maxLength": 24, "pattern": "^[^\\x00-\\x1f\\x7f]*$"}
# Query integers: ASCII digits only, at most 18 of them (web/query.py).
DIGITS = {"type": "string", "pattern": "^[0-9]{1,18}$"}
REPORT_ID = _path("report_id", "the report's id", {"type": "string", "format": "uuid"})
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The client's own key for this request (or `client_key` in the body): "
    "retrying with the same key stores nothing twice.",
    "schema": {"type": "string", "minLength": 1},
}
# A member's bearer token, or the session cookie with the X-CSRF-Token header.
VERIFIER: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
MEMBER = VERIFIER

# Answers every JSON endpoint can give, by status.
ERRORS = {
    "400": {"$ref": "#/components/responses/Refused"},
    "401": {"$ref": "#/components/responses/NotSignedIn"},
    "410": {"$ref": "#/components/responses/Gone"},
    "403": {"$ref": "#/components/responses/NotAuthorised"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "409": {"$ref": "#/components/responses/Conflict"},
    "413": {"$ref": "#/components/responses/TooLarge"},
    "422": {"$ref": "#/components/responses/Invalid"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: ERRORS[status] for status in statuses}


REPORT_ANSWER = _json(_ref("Report"), "the report with its whole history")
AFTER_COMMAND = _json(
    {
        "allOf": [
            _ref("Report"),
            {
                "type": "object",
                "properties": {
                    "position": {"type": ["integer", "null"]},
                    "stored": {"type": "boolean"},
                },
            },
        ]
    },
    "the report after the command, and the log position of the stored event "
    "(null, with stored false, when the report already said this: a retry stores nothing)",
)
HTML = {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}


def _html(summary: str, *parameters: Operation, **extra: Any) -> Operation:
    return {
        "tags": ["pages"],
        "summary": summary,
        "parameters": list(parameters),
        "responses": {"200": HTML, **extra},
    }


# (path, METHOD) -> the operation. Paths are exactly those of web.app.routes().
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/", "GET"): _html("The home page: the kinds of report"),
    ("/healthz", "GET"): {
        "tags": ["operations"],
        "summary": "Liveness of the web process",
        "responses": {"200": {"description": "ok", "content": {"text/html": {}}}, **_errors("503")},
    },
    ("/mine", "GET"): _html(
        "My reports: the reports sent from this phone, read from its own storage",
        _query("lang", "en or es"),
    ),
    ("/sw.js", "GET"): {
        "tags": ["pages"],
        "summary": "The service worker: keeps the home page, the forms and My reports for offline use",
        "parameters": [_query("lang", "the language of the pages to keep (en or es)")],
        "responses": {"200": {"description": "JavaScript", "content": {"text/javascript": {}}}},
    },
    ("/manifest.webmanifest", "GET"): {
        "tags": ["pages"],
        "summary": "The web app manifest (name, icons, start page)",
        "parameters": [_query("lang", "en or es")],
        "responses": {
            "200": {"description": "the manifest", "content": {"application/manifest+json": {}}}
        },
    },
    ("/new", "GET"): {
        "tags": ["pages"],
        "summary": "Old address of the report form",
        "responses": {"303": {"description": "to /new/courthouse_arrest"}},
    },
    ("/new/{kind}", "GET"): _html(
        "The report form of one kind (works without JavaScript)",
        _path("kind", "the kind of report", _ref("Kind")),
        **_errors("404"),
    ),
    ("/new/{kind}", "POST"): {
        "tags": ["pages"],
        "summary": "Submit the report form",
        "parameters": [_path("kind", "the kind of report", _ref("Kind"))],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "description": "The fields of the kind's submission as form strings "
                        "(times as local `YYYY-MM-DDTHH:MM`), plus `client_key`.",
                        "additionalProperties": {"type": "string"},
                    }
                }
            },
        },
        "responses": {
            "200": HTML,
            "201": HTML,
            "422": {"description": "the form again, each bad field named", **HTML},
            **_errors("404", "409", "413", "503"),
        },
    },
    ("/reports/{report_id}", "GET"): _html(
        "A report's page: its history and how to cite it", REPORT_ID, **_errors("404")
    ),
    ("/api/reports", "POST"): {
        "tags": ["reports"],
        "summary": "Submit a report",
        "description": "The body is one of the four kinds, told apart by `kind`. A retry with "
        "the same Idempotency-Key answers 200 with the same report and stores nothing. Keep "
        "`author_token`: it is the only way to amend the report or end a shift.",
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": _body(_ref("Submission")),
        "responses": {
            "201": _json(_ref("Submitted"), "stored"),
            "200": _json(_ref("Submitted"), "already stored under this key"),
            **_errors("409", "413", "422", "503"),
        },
    },
    ("/api/reports/{report_id}", "GET"): {
        "tags": ["reports"],
        "summary": "A report with its whole history",
        "parameters": [REPORT_ID],
        "responses": {"200": REPORT_ANSWER, **_errors("404", "503")},
    },
    ("/api/reports/{report_id}/amend", "POST"): {
        "tags": ["reports"],
        "summary": "The author amends their report",
        "parameters": [REPORT_ID],
        "requestBody": _body(_ref("Amendment")),
        "responses": {"200": AFTER_COMMAND, **_errors("403", "404", "409", "413", "422", "503")},
    },
    ("/api/reports/{report_id}/corroborate", "POST"): {
        "tags": ["reports"],
        "summary": "Someone else saw it too",
        "parameters": [REPORT_ID, IDEMPOTENCY_KEY],
        "requestBody": _body(_ref("Corroboration"), required=False),
        "responses": {"200": AFTER_COMMAND, **_errors("404", "409", "413", "422", "503")},
    },
    ("/api/reports/{report_id}/verify", "POST"): {
        "tags": ["reports"],
        "summary": "A verifier confirms the report",
        "security": VERIFIER,
        "parameters": [REPORT_ID],
        "responses": {"200": AFTER_COMMAND, **_errors("401", "403", "404", "409", "503")},
    },
    ("/api/reports/{report_id}/dispute", "POST"): {
        "tags": ["reports"],
        "summary": "A verifier disputes the report, with a reason",
        "security": VERIFIER,
        "parameters": [REPORT_ID],
        "requestBody": _body(_ref("Dispute")),
        "responses": {
            "200": AFTER_COMMAND,
            **_errors("401", "403", "404", "409", "413", "422", "503"),
        },
    },
    ("/api/reports/{report_id}/outcome", "POST"): {
        "tags": ["reports"],
        "summary": "Record what became of the person (the author's token, or a verifier)",
        "security": [*VERIFIER, {}],
        "parameters": [REPORT_ID],
        "requestBody": _body(_ref("Outcome")),
        "responses": {
            "200": AFTER_COMMAND,
            **_errors("401", "403", "404", "409", "413", "422", "503"),
        },
    },
    ("/api/reports/{report_id}/end", "POST"): {
        "tags": ["reports"],
        "summary": "The watcher ends their watch shift",
        "parameters": [REPORT_ID],
        "requestBody": _body(_ref("EndShift")),
        "responses": {"200": AFTER_COMMAND, **_errors("403", "404", "409", "413", "422", "503")},
    },
    ("/api/reports/{report_id}/claim", "POST"): {
        "tags": ["reports"],
        "summary": 'A responder says "I\'m going" (other members see who; the public never does)',
        "security": VERIFIER,
        "parameters": [REPORT_ID],
        "responses": {"200": AFTER_COMMAND, **_errors("401", "403", "404", "409", "503")},
    },
    ("/api/reports/{report_id}/on-scene", "POST"): {
        "tags": ["reports"],
        "summary": "A responder on scene confirms the report: it becomes corroborated",
        "security": VERIFIER,
        "parameters": [REPORT_ID],
        "responses": {"200": AFTER_COMMAND, **_errors("401", "403", "404", "409", "503")},
    },
    ("/api/reports/{report_id}/resolve", "POST"): {
        "tags": ["reports"],
        "summary": "A responder closes the response: the report leaves the console's queue",
        "security": VERIFIER,
        "parameters": [REPORT_ID],
        "responses": {"200": AFTER_COMMAND, **_errors("401", "403", "404", "409", "503")},
    },
    ("/reports/{report_id}/manage", "GET"): {
        **_html(
            "The watcher's own-report page; the edit key comes in the #key= fragment, "
            "which never reaches the server",
            REPORT_ID,
            **_errors("404"),
        ),
    },
    ("/reports/{report_id}/manage", "POST"): {
        **_html(
            "Open the own-report page with the edit key, or amend / record an outcome / "
            "end the shift (answers are never cached)",
            REPORT_ID,
            **{"403": HTML, "409": HTML, "422": HTML, "404": HTML},
            **_errors("413", "503"),
        ),
        # No CSRF token: nothing here acts without the edit key, which no other site has.
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["key"],
                        "properties": {
                            "key": {"type": "string", "maxLength": 200},
                            "action": {
                                "type": "string",
                                "enum": ["open", "amend", "outcome", "end"],
                            },
                            "ended_at": {"type": "string", "description": "local YYYY-MM-DDTHH:MM"},
                            "outcome": {"type": "string"},
                        },
                        "additionalProperties": {"type": "string"},
                    }
                }
            },
        },
    },
    ("/console", "GET"): {
        **_html(
            "The responder console: reports needing a verdict (members only)",
            _query("courthouse", "a courthouse code (repeatable)"),
            _query("kind", "a kind of report (repeatable)"),
            **_errors("422"),
        ),
    },
    ("/console/reports/{report_id}/{action}", "POST"): {
        **_html(
            "A console action sent without JavaScript (a responder, with the CSRF field)",
            REPORT_ID,
            _path(
                "action",
                "what to do",
                {
                    "type": "string",
                    "enum": ["verify", "dispute", "claim", "on-scene", "resolve", "outcome"],
                },
            ),
            **_errors("401", "403", "404", "409", "422", "503"),
        ),
        "requestBody": _form(
            reason={"type": "string", "enum": [r.value for r in DisputeReason]},
            outcome={"type": "string"},
        ),
    },
    ("/ws/console", "GET"): {
        "tags": ["live map"],
        "summary": "The console's live feed (a websocket; a member's session, this site's pages only)",
        "description": "Like /ws/live, with members' fields (claimed_by, on_scene_by, "
        "resolved_by, event, verdict_needed). Refused without a live session cookie or "
        "with a foreign or missing Origin.",
        "responses": {
            "101": {"description": "switching to the websocket protocol"},
            **_errors("403"),
        },
    },
    ("/api/courthouses", "GET"): {
        "tags": ["courthouses"],
        "summary": "Every courthouse a report can name",
        "responses": {
            "200": _json(
                {
                    "type": "object",
                    "required": ["courthouses"],
                    "properties": {"courthouses": {"type": "array", "items": _ref("Courthouse")}},
                },
                "the gazetteer",
            ),
            **_errors("503"),
        },
    },
    ("/api/courthouses", "POST"): {
        "tags": ["courthouses"],
        "summary": "A coordinator adds a courthouse",
        "security": VERIFIER,
        "requestBody": _body(_ref("Courthouse")),
        "responses": {
            "201": _json(_ref("Courthouse"), "added"),
            **_errors("401", "403", "409", "413", "422", "503"),
        },
    },
    # Team members (web/members/). The page forms post with the session's CSRF token.
    ("/signin", "GET"): _html("Team sign-in with a passkey"),
    ("/signout", "POST"): {
        **_html("End this session", **_errors("401", "403")),
        "requestBody": _form(),
    },
    ("/invite/{token}", "GET"): _html(
        "Join the team with a one-time invite: choose a display name, create a passkey",
        _path("token", "the invite token"),
        **{"410": HTML},
    ),
    ("/console/members", "GET"): _html("Members, invites, roles; your passkeys and API tokens"),
    ("/console/members/invite", "POST"): {
        **_html("A coordinator makes a one-time invite", **_errors("401", "403", "422")),
        "requestBody": _form(roles=ROLES_FIELD),
    },
    ("/console/members/invites/{invite_id}/cancel", "POST"): {
        **_html(
            "A coordinator cancels an open invite: its link stops working at once",
            _path("invite_id", "the invite's id (16 hex digits, as the members page lists it)"),
            **_errors("401", "403", "404"),
        ),
        "requestBody": _form(),
    },
    ("/console/members/{member_id}/roles", "POST"): {
        **_html(
            "A coordinator sets a member's roles",
            _path("member_id", "the member's id", {"type": "string", "format": "uuid"}),
            **_errors("401", "403", "404", "409", "422"),
        ),
        "requestBody": _form(roles=ROLES_FIELD),
    },
    ("/console/members/{member_id}/revoke", "POST"): {
        **_html(
            "A coordinator revokes a member: its sessions and API tokens stop working at once",
            _path("member_id", "the member's id", {"type": "string", "format": "uuid"}),
            **_errors("401", "403", "404", "409"),
        ),
        "requestBody": _form(),
    },
    ("/console/members/me/tokens", "POST"): {
        **_html("Issue yourself an API token, shown once", **_errors("401", "403", "422")),
        "requestBody": _form(label={"type": "string", "maxLength": 60}),
    },
    ("/console/members/me/tokens/{token_id}/revoke", "POST"): {
        **_html(
            "Revoke one of your API tokens",
            _path("token_id", "the token's id", {"type": "string", "format": "uuid"}),
            **_errors("401", "403", "404"),
        ),
        "requestBody": _form(),
    },
    ("/console/members/me/passkeys/{credential_id}/revoke", "POST"): {
        **_html(
            "Revoke one of your passkeys",
            _path("credential_id", "the passkey's credential id, base64url"),
            **_errors("401", "403", "404"),
        ),
        "requestBody": _form(),
    },
    ("/api/members/me", "GET"): {
        "tags": ["members"],
        "summary": "Who this session or bearer token belongs to",
        "security": MEMBER,
        "responses": {"200": _json(_ref("Member"), "the member"), **_errors("401", "503")},
    },
    ("/api/members/invites/{token}/options", "POST"): {
        "tags": ["members"],
        "summary": "WebAuthn registration options for an invite (from a courtwatch page only)",
        "parameters": [_path("token", "the invite token")],
        "requestBody": _body(
            {"type": "object", "properties": {"display_name": {"type": "string", "maxLength": 60}}}
        ),
        "responses": {
            "200": _json({"type": "object"}, "PublicKeyCredentialCreationOptionsJSON"),
            **_errors("403", "410", "413", "422", "503"),
        },
    },
    ("/api/members/invites/{token}", "POST"): {
        "tags": ["members"],
        "summary": "Use an invite: register the passkey, become a member, get a session cookie",
        "parameters": [_path("token", "the invite token")],
        "requestBody": _body(
            {
                "type": "object",
                "properties": {
                    "display_name": {"type": "string", "maxLength": 60},
                    "credential": {"type": "object"},
                },
            }
        ),
        "responses": {
            "201": _json(_ref("SignedIn"), "signed in (Set-Cookie)"),
            **_errors("400", "403", "410", "413", "422", "503"),
        },
    },
    ("/api/members/signin/options", "POST"): {
        "tags": ["members"],
        "summary": "WebAuthn authentication options (a single-use challenge)",
        "requestBody": _body({"type": "object"}, required=False),
        "responses": {
            "200": _json({"type": "object"}, "PublicKeyCredentialRequestOptionsJSON"),
            **_errors("403", "503"),
        },
    },
    ("/api/members/signin", "POST"): {
        "tags": ["members"],
        "summary": "Sign in with a passkey assertion; a session cookie is set",
        "requestBody": _body({"type": "object", "properties": {"credential": {"type": "object"}}}),
        "responses": {
            "200": _json(_ref("SignedIn"), "signed in (Set-Cookie)"),
            **_errors("400", "403", "413", "422", "503"),
        },
    },
    ("/api/members/me/passkeys/options", "POST"): {
        "tags": ["members"],
        "summary": "WebAuthn registration options for another passkey of this member",
        "security": MEMBER,
        "requestBody": _body({"type": "object"}, required=False),
        "responses": {
            "200": _json({"type": "object"}, "PublicKeyCredentialCreationOptionsJSON"),
            **_errors("401", "403", "503"),
        },
    },
    ("/api/members/me/passkeys", "POST"): {
        "tags": ["members"],
        "summary": "Register another passkey for this member",
        "security": MEMBER,
        "requestBody": _body({"type": "object", "properties": {"credential": {"type": "object"}}}),
        "responses": {
            "201": _json({"type": "object"}, "added"),
            **_errors("400", "401", "403", "413", "422", "503"),
        },
    },
    ("/map", "GET"): _html("The live map"),
    ("/api/map/reports", "GET"): {
        "tags": ["live map"],
        "summary": "The map's first paint: reports in view, newest change first",
        "parameters": [
            _query("bbox", "west,south,east,north in degrees"),
            _query("kinds", "comma-separated kinds (see Kind)"),
            _query(
                "since",
                "only reports changed at or after this time: ISO 8601 with its offset, "
                "years 2000-2100",
                {"type": "string", "format": "date-time"},
            ),
            _query(
                "courthouse",
                "one courthouse's code",
                {"type": "string", "maxLength": 24, "pattern": "^[^\\x00-\\x1f\\x7f]*$"},
            ),
            _query(
                "zoom",
                "the map's zoom (0-18): with it, a view holding more than 1,000 reports is "
                "answered with `clusters` (counts per grid cell) instead of markers",
                {"type": "integer", "minimum": 0, "maximum": 18},
            ),
        ],
        "responses": {"200": _json(_ref("FirstPaint"), "the reports"), **_errors("422", "503")},
    },
    ("/ws/live", "GET"): {
        "tags": ["live map"],
        "summary": "The live feed (a websocket)",
        "description": "Upgrade to a websocket. The server sends a `snapshot` (or, with "
        "`?since=P`, a `resume` and exactly the changes after P), then `delta` frames with "
        "their positions and a `heartbeat` every 15 s (and first, to a signed-in member's "
        "socket only, an `alerts` frame naming the scripts of in-page alerts); clients send "
        "nothing. Frames: "
        "docs/live-protocol.md. A `since` that is not ASCII digits is refused before the "
        "upgrade with 422.",
        "parameters": [
            _query("since", "the last feed position the client applied", DIGITS),
            _query(
                "snapshot",
                "`gzip`: send the snapshot as one binary frame of gzip-compressed JSON; "
                "any other value, or none: as a JSON text frame",
                {"type": "string", "maxLength": 16},
            ),
        ],
        "responses": {
            "101": {"description": "switching to the websocket protocol"},
            **_errors("422"),
        },
    },
    ("/.well-known/courtwatch-log-key", "GET"): {
        "tags": ["transparency log"],
        "summary": "The log's public signing key (a signed-note verifier key)",
        "responses": {
            "200": {"description": "the key", "content": {"text/plain": {}}},
            **_errors("503"),
        },
    },
    ("/api/log/checkpoints", "GET"): {
        "tags": ["transparency log"],
        "summary": "Every published checkpoint",
        "responses": {
            "200": _json(
                {
                    "type": "object",
                    "properties": {"checkpoints": {"type": "array", "items": _ref("Checkpoint")}},
                },
                "checkpoints, oldest first",
            ),
            **_errors("422", "503"),
        },
    },
    ("/api/log/checkpoints", "POST"): {
        "tags": ["transparency log"],
        "summary": "A coordinator publishes a checkpoint now",
        "security": VERIFIER,
        "responses": {
            "201": _json(_ref("Checkpoint"), "a new checkpoint"),
            "200": _json(_ref("Checkpoint"), "nothing new since the last one"),
            **_errors("401", "403", "404", "503"),
        },
    },
    ("/api/log/checkpoints/latest", "GET"): {
        "tags": ["transparency log"],
        "summary": "The latest checkpoint as a signed note",
        "responses": {
            "200": {"description": "the signed note", "content": {"text/plain": {}}},
            **_errors("404", "503"),
        },
    },
    ("/api/log/inclusion", "GET"): {
        "tags": ["transparency log"],
        "summary": "Proof that one event is in the log",
        "description": "Name the event by `leaf`, or by `report` and `version`.",
        "parameters": [
            _query("leaf", "the leaf index", DIGITS),
            _query("report", "a report id", {"type": "string", "format": "uuid"}),
            _query("version", "the report's version", DIGITS),
            _query("size", "prove against the checkpoint of this tree size", DIGITS),
        ],
        "responses": {
            "200": _json({"type": "object"}, "the leaf, its proof and the checkpoint"),
            **_errors("404", "409", "422", "503"),
        },
    },
    ("/api/log/consistency", "GET"): {
        "tags": ["transparency log"],
        "summary": "Proof that a later checkpoint extends an earlier one",
        "parameters": [
            _query("first", "the earlier tree size", DIGITS),
            _query("second", "the later tree size (default: the newest checkpoint)", DIGITS),
        ],
        "responses": {
            "200": _json({"type": "object"}, "both checkpoints and the proof"),
            **_errors("404", "409", "422", "503"),
        },
    },
    ("/reports/{report_id}/evidence.zip", "GET"): {
        "tags": ["transparency log"],
        "summary": "An evidence bundle: the report's events with proofs, checkable offline",
        "parameters": [REPORT_ID],
        "responses": {
            "200": {"description": "the bundle", "content": {"application/zip": {}}},
            # 403 + Retry-After: it names a member on their way or on scene
            # within 24 hours; members (session or bearer token) get it now.
            **_errors("403", "404", "503"),
        },
    },
    ("/log", "GET"): {
        **_html(
            "The log's identity: origin, public key, the fingerprint `courtwatch verify` "
            "prints, the latest checkpoint, and how to check a bundle",
            _query("lang", "en or es"),
        ),
        "tags": ["transparency log"],
    },
    ("/verify", "GET"): {
        **_html(
            'The browser verifier: drop an evidence bundle, read "verified" or what '
            "failed (the same file each bundle carries as verify.html; no network)",
            _query("lang", "en or es"),
        ),
        "tags": ["transparency log"],
    },
    ("/summaries", "GET"): _html("Published and recent trend summaries"),
    ("/summaries/{period}/{key}", "GET"): {
        "tags": ["summaries"],
        "summary": "A trend summary: the page, or its .json or .csv",
        "parameters": [
            _path(
                "period", "day, week or month", {"type": "string", "enum": ["day", "week", "month"]}
            ),
            _path(
                "key",
                "the period as people write it (2026-11-23, 2026-W47, 2026-11), years "
                "2000-2100, optionally ending in .json or .csv",
                {
                    "type": "string",
                    "pattern": "^[0-9]{4}-(W?[0-9]{2}|[0-9]{2}-[0-9]{2})(\\.(json|csv))?$",
                },
            ),
            _query(
                "courthouse",
                "narrow to one courthouse's code",
                {"type": "string", "maxLength": 24, "pattern": "^[^\\x00-\\x1f\\x7f]*$"},
            ),
            _query("revision", "a published revision's id", DIGITS),
        ],
        "responses": {
            "200": {
                "description": "the summary",
                "content": {
                    "text/html": {},
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {},
                },
            },
            **_errors("404", "422", "503"),
        },
    },
    ("/summaries/weeks.csv", "GET"): {
        "tags": ["summaries"],
        "summary": "The wide CSV: one row per courthouse and ISO week, one column per figure "
        "(UTF-8 with a byte-order mark, CRLF, ISO dates; streamed)",
        "parameters": [
            {
                **_query("from", "the first day, YYYY-MM-DD (years 2000-2100)", DAY),
                "required": True,
            },
            {
                **_query(
                    "to", "the last day, included; at most 530 weeks (ten years) after from", DAY
                ),
                "required": True,
            },
            _query("courthouse", "narrow to one courthouse's code", COURTHOUSE),
        ],
        "responses": {
            "200": {"description": "the weeks", "content": {"text/csv": {}}},
            **_errors("422", "503"),
        },
    },
    ("/summaries/reports.geojson", "GET"): {
        "tags": ["summaries"],
        "summary": "Every public report observed in a date range, as the public map shows it "
        "(a GeoJSON FeatureCollection, streamed, no row cap)",
        "parameters": [
            {
                **_query("from", "the first day, YYYY-MM-DD (years 2000-2100)", DAY),
                "required": True,
            },
            {**_query("to", "the last day, included", DAY), "required": True},
            _query("courthouse", "narrow to one courthouse's code", COURTHOUSE),
        ],
        "responses": {
            "200": {
                "description": "the reports",
                "content": {"application/geo+json": {"schema": {"type": "object"}}},
            },
            **_errors("422", "503"),
        },
    },
    (PATH, "GET"): {
        "tags": ["operations"],
        "summary": "This document",
        "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
    },
    ("/static/{path}", "GET"): {
        "tags": ["pages"],
        "summary": "Scripts, styles, fonts and map assets served locally",
        "parameters": [_path("path", "the asset's path")],
        "responses": {"200": {"description": "the file"}, **_errors("404")},
    },
}

# Sealed details (web/sealed/, docs/sealed-data.md). Submitting them is part of
# POST /api/reports (its optional `sealed` object).
SEALED_READERS: list[dict[str, list[str]]] = VERIFIER
PHOTO_ID = _path("photo_id", "the photo's id", {"type": "string", "format": "uuid"})
OPERATIONS.update(
    {
        ("/api/reports/{report_id}/sealed", "GET"): {
            "tags": ["sealed"],
            "summary": "A lawyer or coordinator reads a report's sealed details (recorded)",
            "security": SEALED_READERS,
            "parameters": [REPORT_ID],
            "responses": {
                "200": _json(_ref("SealedRead"), "the values given (empty fields left out)"),
                **_errors("401", "403", "404", "409", "410", "503"),
            },
        },
        ("/api/reports/{report_id}/redact", "POST"): {
            "tags": ["sealed"],
            "summary": "Erase a report's sealed details for good (the author's token, or a "
            "coordinator)",
            "security": [*VERIFIER, {}],
            "parameters": [REPORT_ID],
            "requestBody": _body(_ref("Redaction")),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "report_id": {"type": "string"},
                            "position": {"type": ["integer", "null"]},
                            "stored": {"type": "boolean"},
                        },
                    },
                    "erased; the Redacted event's log position (null: erased before)",
                ),
                **_errors("401", "403", "404", "409", "413", "422", "503"),
            },
        },
        ("/api/sealed/reads", "GET"): {
            "tags": ["sealed"],
            "summary": "A coordinator lists who read, disclosed or redacted sealed details",
            "security": VERIFIER,
            "responses": {
                "200": _json({"type": "object"}, "newest first"),
                **_errors("401", "403", "503"),
            },
        },
        ("/reports/{report_id}/sealed", "GET"): _html(
            "A report's sealed details, for lawyers and coordinators (recorded)",
            REPORT_ID,
            **_errors("401", "403", "404", "409", "410"),
        ),
        ("/console/sealed/reads", "GET"): _html(
            "For coordinators: who read sealed details", **_errors("401", "403")
        ),
        ("/api/reports/{report_id}/photos", "POST"): {
            "tags": ["sealed"],
            "summary": "The author adds a photo (sealed; JPEG, PNG, WebP or HEIC by content)",
            "parameters": [
                REPORT_ID,
                {**IDEMPOTENCY_KEY, "required": False},
                {
                    "name": "X-Author-Token",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    kind: {"schema": {"type": "string", "contentEncoding": "binary"}}
                    for kind in ("image/jpeg", "image/png", "image/webp", "image/heic")
                },
            },
            "responses": {
                "201": _json({"type": "object"}, "sealed; the PhotoSealed event's position"),
                "200": _json({"type": "object"}, "already stored under this key"),
                "415": _json(_ref("Invalid"), "not a photo by its content"),
                **_errors("403", "404", "409", "413", "422", "503"),
            },
        },
        ("/api/reports/{report_id}/photos/{photo_id}/original", "GET"): {
            "tags": ["sealed"],
            "summary": "The original photo file, for lawyers and coordinators (recorded)",
            "security": VERIFIER,
            "parameters": [REPORT_ID, PHOTO_ID],
            "responses": {
                "200": {"description": "the file as uploaded"},
                **_errors("401", "403", "404", "409", "410", "503"),
            },
        },
        ("/api/reports/{report_id}/photos/{photo_id}/preview", "GET"): {
            "tags": ["sealed"],
            "summary": "The public copy a photo would become (responders judge it; recorded)",
            "security": VERIFIER,
            "parameters": [REPORT_ID, PHOTO_ID],
            "responses": {
                "200": {"description": "a JPEG of the pixels only"},
                **_errors("401", "403", "404", "409", "410", "503"),
            },
        },
        ("/api/reports/{report_id}/photos/{photo_id}/publish", "POST"): {
            "tags": ["sealed"],
            "summary": "A responder marks a photo safe: its public copy is published",
            "security": VERIFIER,
            "parameters": [REPORT_ID, PHOTO_ID],
            "responses": {
                "200": _json({"type": "object"}, "published"),
                **_errors("401", "403", "404", "409", "410", "503"),
            },
        },
        ("/reports/{report_id}/photos/{photo_id}", "GET"): {
            "tags": ["pages"],
            "summary": "A published photo's public copy (pixels only)",
            "parameters": [REPORT_ID, PHOTO_ID],
            "responses": {"200": {"description": "a JPEG"}, **_errors("404")},
        },
    }
)

# Alerts (web/alerts/, docs/alerts.md): subscriptions, webhooks, Web Push, counts.
SUBSCRIPTION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "label": {"type": "string", "maxLength": 80},
        "courthouses": {"type": "array", "maxItems": 50, "items": {"type": "string"}},
        "area": {
            "description": "a circle, or a drawn polygon (3-100 corners, edges never "
            "crossing, at most 5 degrees across), or null",
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["lat", "lon", "radius_m"],
                    "properties": {
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "radius_m": {"type": "number", "minimum": 1, "maximum": 50000},
                    },
                },
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["polygon"],
                    "properties": {
                        "polygon": {
                            "type": "array",
                            "minItems": 3,
                            "maxItems": 100,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["lat", "lon"],
                                "properties": {
                                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                                },
                            },
                        }
                    },
                },
            ],
        },
        "kinds": {
            "type": "array",
            "items": {"type": "string", "enum": ["courthouse_arrest", "sighting", "call_in"]},
        },
        "min_status": {"type": "string", "enum": ["any", "on_scene", "verified"]},
        "quiet_hours": {
            "type": ["object", "null"],
            "required": ["start", "end"],
            "properties": {
                "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            },
        },
        "timezone": {"type": "string", "description": "IANA zone of the quiet hours"},
        "channel": {"type": "string", "enum": ["push", "webhook"]},
        "webhook_id": {"type": ["string", "null"], "format": "uuid"},
    },
}
SUBSCRIPTION_ID = _path(
    "subscription_id", "the subscription's id", {"type": "string", "format": "uuid"}
)
WEBHOOK_ID = _path("webhook_id", "the webhook's id", {"type": "string", "format": "uuid"})
OPERATIONS.update(
    {
        ("/api/alerts/subscriptions", "GET"): {
            "tags": ["alerts"],
            "summary": "Your alert subscriptions",
            "security": MEMBER,
            "responses": {"200": _json({"type": "object"}, "yours"), **_errors("401", "503")},
        },
        ("/api/alerts/subscriptions", "POST"): {
            "tags": ["alerts"],
            "summary": "Subscribe to alerts: courthouses and/or an area (circle or polygon), kinds, minimum status",
            "security": MEMBER,
            "requestBody": _body(SUBSCRIPTION),
            "responses": {
                "201": _json({"type": "object"}, "the subscription"),
                **_errors("401", "403", "409", "413", "422", "503"),
            },
        },
        ("/api/alerts/subscriptions/{subscription_id}", "PUT"): {
            "tags": ["alerts"],
            "summary": "Replace one of your subscriptions",
            "security": MEMBER,
            "parameters": [SUBSCRIPTION_ID],
            "requestBody": _body(SUBSCRIPTION),
            "responses": {
                "200": _json({"type": "object"}, "the subscription"),
                **_errors("401", "403", "404", "413", "422", "503"),
            },
        },
        ("/api/alerts/subscriptions/{subscription_id}", "DELETE"): {
            "tags": ["alerts"],
            "summary": "End one of your subscriptions",
            "security": MEMBER,
            "parameters": [SUBSCRIPTION_ID],
            "responses": {"204": {"description": "ended"}, **_errors("401", "403", "404", "503")},
        },
        ("/api/alerts/webhooks", "GET"): {
            "tags": ["alerts"],
            "summary": "A coordinator's webhooks (never their secrets)",
            "security": MEMBER,
            "responses": {
                "200": _json({"type": "object"}, "yours"),
                **_errors("401", "403", "503"),
            },
        },
        ("/api/alerts/webhooks", "POST"): {
            "tags": ["alerts"],
            "summary": "Add a webhook (http/https, no credentials in the URL); its signing "
            "secret is in this answer only",
            "security": MEMBER,
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["url"],
                    "properties": {"url": {"type": "string", "maxLength": 2048}},
                }
            ),
            "responses": {
                "201": _json({"type": "object"}, "the webhook and its secret"),
                **_errors("401", "403", "409", "413", "422", "503"),
            },
        },
        ("/api/alerts/webhooks/{webhook_id}/active", "POST"): {
            "tags": ["alerts"],
            "summary": "Pause or resume a webhook",
            "security": MEMBER,
            "parameters": [WEBHOOK_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["active"],
                    "properties": {"active": {"type": "boolean"}},
                }
            ),
            "responses": {
                "200": _json({"type": "object"}, "the webhook"),
                **_errors("401", "403", "404", "413", "422", "503"),
            },
        },
        ("/api/alerts/webhooks/{webhook_id}/secret", "POST"): {
            "tags": ["alerts"],
            "summary": "Rotate a webhook's signing secret: the new one is in this answer only; "
            "deliveries are signed with the old one too for 24 hours",
            "security": MEMBER,
            "parameters": [WEBHOOK_ID],
            "requestBody": _body({"type": "object"}, required=False),  # nothing is read
            "responses": {
                "200": _json(
                    {"type": "object"}, "the new secret, and until when the old one signs"
                ),
                **_errors("401", "403", "404", "503"),
            },
        },
        ("/api/alerts/webhooks/{webhook_id}/deliveries", "GET"): {
            "tags": ["alerts"],
            "summary": "A webhook's delivery log: each attempt, its HTTP status or error",
            "security": MEMBER,
            "parameters": [WEBHOOK_ID],
            "responses": {
                "200": _json({"type": "object"}, "newest first"),
                **_errors("401", "403", "404", "503"),
            },
        },
        ("/api/alerts/push/key", "GET"): {
            "tags": ["alerts"],
            "summary": "The VAPID public key (applicationServerKey) for pushManager.subscribe",
            "security": MEMBER,
            "responses": {"200": _json({"type": "object"}, "the key"), **_errors("401", "503")},
        },
        ("/api/alerts/push/subscriptions", "POST"): {
            "tags": ["alerts"],
            "summary": "Register this browser's push subscription (PushSubscription.toJSON())",
            "security": MEMBER,
            "requestBody": _body({"type": "object", "required": ["endpoint", "keys"]}),
            "responses": {
                "204": {"description": "registered"},
                **_errors("401", "403", "413", "422", "503"),
            },
        },
        ("/console/alerts", "GET"): _html(
            "A member's alerts: subscriptions, and push on this phone", **_errors("401")
        ),
        ("/console/alerts", "POST"): {
            **_html(
                "Add an alert from the page's form (works without JavaScript); "
                "a refused one re-renders the page with the reason",
                **_errors("401", "403", "409", "413", "422"),
            ),
            "requestBody": _form(
                label={"type": "string", "maxLength": 80},
                courthouses={"type": "string"},
                kinds={"type": "string"},
                min_status={"type": "string"},
                quiet_start={"type": "string"},
                quiet_end={"type": "string"},
                timezone={"type": "string"},
                area={"type": "string", "description": "the area as the JSON API's value"},
            ),
        },
        ("/console/alerts/{subscription_id}", "POST"): {
            **_html(
                "Change one of your alerts from the page's form (its area drawn on the map, "
                "or any field; works without JavaScript); a refused change re-renders the "
                "page with the reason and changes nothing",
                SUBSCRIPTION_ID,
                **_errors("401", "403", "404", "413", "422"),
            ),
            "requestBody": _form(
                label={"type": "string", "maxLength": 80},
                courthouses={"type": "string"},
                kinds={"type": "string"},
                min_status={"type": "string"},
                quiet_start={"type": "string"},
                quiet_end={"type": "string"},
                timezone={"type": "string"},
                area={"type": "string"},
            ),
        },
        ("/console/alerts/{subscription_id}/remove", "POST"): {
            **_html(
                "Remove one of your alerts from the page's form",
                SUBSCRIPTION_ID,
                **_errors("401", "403", "404"),
            ),
            "requestBody": _form(),
        },
        ("/api/alerts/in-page/{report_id}", "GET"): {
            "tags": ["alerts"],
            "summary": "For the signed-in member's open map: their alerts about a report, "
            "worded in their language, and whether the report was matched up to a status yet",
            "description": "Session cookie only (the page's own fetch); checking it does not "
            "restart the session's idle time. See docs/alerts.md, In-page alerts.",
            "security": [{"session": []}],
            "parameters": [
                REPORT_ID,
                _query("status", "the status the map shows (see Status)"),
                _query("lang", "en or es"),
            ],
            "responses": {
                "200": _json({"type": "object"}, "processed, and the alerts"),
                **_errors("401", "404", "422", "503"),
            },
        },
        ("/api/alerts/reports/{report_id}", "GET"): {
            "tags": ["alerts"],
            "summary": "For coordinators: how many were alerted of a report and how fast "
            "(never who)",
            "security": MEMBER,
            "parameters": [REPORT_ID],
            "responses": {
                "200": _json({"type": "object"}, "counts and latency"),
                **_errors("401", "403", "404", "503"),
            },
        },
    }
)


# Jurisdictions (web/jurisdictions/): each courthouse's county, detainer policies.
FIPS = _path("fips", "the county's five-digit FIPS code", {"type": "string"})
POLICY_ENUM = {"type": "string", "enum": ["honors", "limits", "refuses", "unknown"]}
POLICY_ENTRY = {
    "type": "object",
    "properties": {
        "entry": {"type": "integer"},
        "fips": {"type": "string"},
        "policy": POLICY_ENUM,
        "source_url": {"type": "string", "format": "uri"},
        "effective_on": {"type": "string", "format": "date"},
        "recorded_by": {"type": "string"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "corrects": {"type": ["integer", "null"]},
        "superseded_by": {"type": ["integer", "null"]},
    },
}
POLICY_FIELDS: dict[str, dict[str, Any]] = {
    "policy": POLICY_ENUM,
    "source_url": {"type": "string", "format": "uri", "pattern": "^https://", "maxLength": 2000},
    "effective_on": {"type": "string", "format": "date"},
    "corrects": {"type": ["integer", "null"], "description": "the entry this one replaces"},
}
JURISDICTION = {
    "type": "object",
    "properties": {
        "fips": {"type": "string"},
        "name": {"type": "string"},
        "label": {"type": "string"},
        "state": {"type": "string"},
        "state_name": {"type": "string"},
        "cities": {"type": "array", "items": {"type": "string"}},
        "courthouses": {"type": "array"},
        "policy": POLICY_ENUM,
        "since": {"type": ["string", "null"], "format": "date"},
        "source_url": {"type": ["string", "null"]},
    },
}
OPERATIONS.update(
    {
        ("/jurisdictions", "GET"): _html(
            "Counties that have courthouses, with the detainer policy in force today",
            _query("lang", "en or es"),
        ),
        ("/jurisdictions/{fips}", "GET"): _html(
            "A county: its cities and courthouses, policy history with sources, "
            "reports per week over 12 weeks; coordinators get a form to record a policy",
            FIPS,
            _query("lang", "en or es"),
            **{"404": HTML},
        ),
        ("/jurisdictions/{fips}/policies", "POST"): {
            **_html(
                "A coordinator records (or corrects) a county's detainer policy",
                FIPS,
                **_errors("401", "403", "404", "422", "503"),
                **{"303": {"description": "recorded: back to the county's page"}},
            ),
            "requestBody": _form(**POLICY_FIELDS),
        },
        ("/api/jurisdictions", "GET"): {
            "tags": ["jurisdictions"],
            "summary": "Counties with courthouses or a recorded policy, and today's policy",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"jurisdictions": {"type": "array", "items": JURISDICTION}},
                    },
                    "by state, then name",
                ),
                **_errors("503"),
            },
        },
        ("/api/jurisdictions/{fips}", "GET"): {
            "tags": ["jurisdictions"],
            "summary": "One county: courthouses, policy history, reports per week",
            "parameters": [FIPS],
            "responses": {
                "200": _json(
                    {
                        "allOf": [
                            JURISDICTION,
                            {
                                "type": "object",
                                "properties": {
                                    "history": {"type": "array", "items": POLICY_ENTRY},
                                    "weekly_reports": {"type": "array"},
                                },
                            },
                        ]
                    },
                    "the county",
                ),
                **_errors("404", "503"),
            },
        },
        ("/api/jurisdictions/{fips}/policies", "POST"): {
            "tags": ["jurisdictions"],
            "summary": "A coordinator records a policy, or corrects an entry (a new entry "
            "naming the one it replaces; both stay in the history)",
            "security": MEMBER,
            "parameters": [FIPS],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["policy", "source_url", "effective_on"],
                    "properties": POLICY_FIELDS,
                }
            ),
            "responses": {
                "201": _json(POLICY_ENTRY, "the stored entry"),
                **_errors("401", "403", "404", "413", "422", "503"),
            },
        },
    }
)


def _partial(schema: Mapping[str, Any], names: Iterable[str] | None = None) -> dict[str, Any]:
    """A model's schema with every field optional (only ``names`` if given), no ``kind``."""
    properties = {
        name: value
        for name, value in schema["properties"].items()
        if name != "kind" and (names is None or name in names)
    }
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _report_schemas() -> dict[str, Any]:
    """The submission schemas, generated from the intake models."""
    generated = SUBMISSION.json_schema(ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = dict(generated.pop("$defs"))
    schemas["Submission"] = generated
    names = {kind: model.__name__ for kind, model in MODELS.items()}
    changes = [_partial(schemas[names[kind]]) for kind in MODELS]
    schemas["Amendment"] = {
        "type": "object",
        "required": ["token", "changes"],
        "properties": {
            "token": {"type": "string", "minLength": 1, "description": "the author token"},
            "changes": {
                "description": "the fields to change, of the report's own kind (not `kind`)",
                "anyOf": changes,
            },
        },
    }
    outcomes = [
        _partial(schemas[names[kind.value]], fields) for kind, fields in OUTCOME_FIELDS.items()
    ]
    schemas["Outcome"] = {
        "type": "object",
        "required": ["outcome"],
        "properties": {
            "token": {
                "type": "string",
                "description": "the author token; without it, a verifier's bearer token",
            },
            "outcome": {
                "description": "the outcome fields of the report's kind",
                "anyOf": outcomes,
            },
        },
    }
    schemas["Kind"] = {"type": "string", "enum": list(MODELS)}
    _add_sealed_schemas(schemas, names.values())
    return schemas


def _add_sealed_schemas(schemas: dict[str, Any], submissions: Iterable[str]) -> None:
    """Every kind may carry sealed details; they are never amended (so not in Amendment)."""
    text = {"type": ["string", "null"]}
    schemas["Sealed"] = {
        "type": "object",
        "additionalProperties": False,
        "description": "Sealed on arrival: only lawyers and coordinators can read them, and "
        "the public log carries salted commitments only (docs/sealed-data.md).",
        "properties": {name: {**text, "maxLength": most} for name, most in SEALED_FIELDS.items()},
    }
    for name in submissions:
        schemas[name]["properties"]["sealed"] = _ref("Sealed")
    schemas["SealedRead"] = {
        "type": "object",
        "required": ["report_id", "sealed"],
        "properties": {
            "report_id": {"type": "string"},
            "sealed": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    schemas["Redaction"] = {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {"type": "string", "enum": [r.value for r in RedactionReason]},
            "token": {"type": "string", "description": "the author token; else a coordinator's"},
            "fields": {
                "type": "array",
                "items": {"type": "string", "enum": list(SEALED_FIELDS)},
                "description": "erase only these (the rest is re-sealed); default: everything",
            },
        },
    }


COMMON_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "Invalid": {
        "type": "object",
        "required": ["error", "fields"],
        "properties": {
            "error": {"type": "string", "const": "invalid fields"},
            "fields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "reason"],
                    "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                },
            },
        },
    },
    "Submitted": {
        "type": "object",
        "required": ["id", "url", "author_token", "created", "position"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "url": {"type": "string"},
            "author_token": {"type": "string"},
            "created": {"type": "boolean"},
            "position": {"type": "integer"},
        },
    },
    "Report": {
        "type": "object",
        "description": "The report's current public state and its history of events.",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "kind": _ref("Kind"),
            "status": {"type": "string"},
            "courthouse_code": {"type": ["string", "null"]},
            "lat": {"type": ["number", "null"]},
            "lon": {"type": ["number", "null"]},
            "observed_at": {"type": "string", "format": "date-time"},
            "details": {"type": "object", "description": "the kind's own fields"},
            "version": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "corroborations": {"type": "integer"},
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "integer"},
                        "event": {"type": "string"},
                        "timestamp": {"type": "string", "format": "date-time"},
                        "data": {"type": "object"},
                    },
                },
            },
        },
    },
    "Corroboration": {
        "type": "object",
        "properties": {
            "client_key": {"type": "string", "description": "or the Idempotency-Key header"}
        },
    },
    "Dispute": {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {
                "type": "string",
                "enum": [r.value for r in DisputeReason],
                "description": "a closed list: the reason is public and forever",
            }
        },
    },
    "EndShift": {
        "type": "object",
        "required": ["token", "ended_at"],
        "properties": {
            "token": {"type": "string", "minLength": 1},
            "ended_at": {"type": "string", "format": "date-time"},
        },
    },
    "Courthouse": {
        "type": "object",
        "required": ["code", "name", "kind", "lat", "lon"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "street": {"type": "string"},
            "city": {"type": "string"},
            "state": {"type": "string"},
            "zip": {"type": "string"},
            "lat": {"type": "number"},
            "lon": {"type": "number"},
        },
    },
    "FirstPaint": {
        "type": "object",
        "required": ["position", "reports", "truncated"],
        "properties": {
            "position": {"type": "integer"},
            "reports": {"type": "array", "items": {"type": "object"}},
            "truncated": {"type": "boolean"},
            "clusters": {
                "type": "array",
                "description": "only with `zoom`, for a view of many reports: every matching "
                "report with a place is counted in exactly one",
                "items": {
                    "type": "object",
                    "required": ["count", "lat", "lon", "kinds", "statuses", "arrests"],
                    "properties": {
                        "count": {"type": "integer"},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "south": {"type": "number"},
                        "west": {"type": "number"},
                        "north": {"type": "number"},
                        "east": {"type": "number"},
                        "kinds": {"type": "object"},
                        "statuses": {"type": "object"},
                        "arrests": {"type": "integer"},
                    },
                },
            },
            "total": {"type": "integer"},
            "cell": {"type": "number", "description": "the grid's cell size in degrees"},
        },
    },
    "Checkpoint": {"type": "object", "description": "tree size, root hash and the signed note"},
    "Member": {
        "type": "object",
        "required": ["id", "display_name", "roles", "revoked"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "display_name": {"type": "string", "maxLength": 60},
            "roles": {
                "type": "array",
                "items": {"type": "string", "enum": ["responder", "lawyer", "coordinator"]},
            },
            "revoked": {"type": "boolean"},
        },
    },
    "SignedIn": {
        "type": "object",
        "required": ["member", "next"],
        "properties": {
            "member": {"$ref": "#/components/schemas/Member"},
            "next": {"type": "string"},
        },
    },
}

RESPONSES: dict[str, Any] = {
    "NotSignedIn": _json(_ref("Error"), "no live session or member's bearer token"),
    "NotAuthorised": _json(
        _ref("Error"), "the member lacks the role, the CSRF token is missing, or a foreign origin"
    ),
    "Refused": _json(_ref("Error"), "the passkey response was refused (forged, replayed, unknown)"),
    "Gone": _json(_ref("Error"), "the invite was used, expired, or never existed"),
    "NotFound": _json(_ref("Error"), "no such report, period, revision or log entry"),
    "Conflict": _json(_ref("Error"), "the command does not apply to the report as it is now"),
    "TooLarge": _json(_ref("Error"), "the body is larger than the configured limit"),
    "Invalid": _json(_ref("Invalid"), "nothing was stored; every bad field is named"),
    "Unavailable": {
        **_json(_ref("Error"), "the database is unreachable: retry later"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}


def _methods(route: BaseRoute) -> list[tuple[str, str]]:
    """(path, METHOD) pairs a route answers; a mount is documented as ``{path}`` below it."""
    if isinstance(route, Route):
        return [(route.path, m) for m in sorted(route.methods or ()) if m != "HEAD"]
    if isinstance(route, WebSocketRoute):
        return [(route.path, "GET")]
    if isinstance(route, Mount):
        return [(route.path + "/{path}", "GET")]
    raise TypeError(f"cannot document {route!r}")


def documented_operations(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    return [pair for route in routes for pair in _methods(route)]


def document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of these routes; KeyError names a route left undocumented."""
    paths: dict[str, dict[str, Any]] = {}
    for path, method in documented_operations(routes):
        if (path, method) not in OPERATIONS:
            raise KeyError(f"{method} {path} is not documented in web/openapi.py")
        operation = copy.deepcopy(OPERATIONS[(path, method)])
        operation.setdefault("operationId", f"{method.lower()} {path}")
        operation.setdefault("responses", {})
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "courtwatch",
            "version": _version(),
            "description": "Document immigration enforcement at courthouses: append-only "
            "reports, a live map, a citable transparency log and trend summaries.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "paths": paths,
        "components": {
            "schemas": {**_report_schemas(), **COMMON_SCHEMAS},
            "responses": RESPONSES,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a team member's API token (issued on /console/members)",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "courtwatch_session",
                    "description": "a signed-in member's session (__Host-courtwatch_session "
                    "over https); unsafe methods also need the X-CSRF-Token header",
                },
            },
        },
    }


def _version() -> str:
    try:
        return metadata.version("courtwatch")
    except metadata.PackageNotFoundError:
        return "0+unknown"


async def openapi_document(request: Request) -> Response:
    cached = getattr(request.app.state, "openapi", None)
    if cached is None:
        cached = request.app.state.openapi = document(request.app.routes)
    return JSONResponse(cached, headers={"cache-control": "public, max-age=300"})
