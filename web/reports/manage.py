"""The watcher's own-report page: amend, record an outcome, end a shift, copy the key.

Reached as ``/reports/{id}/manage#key=<edit key>``: the key rides in the URL
fragment, which browsers never send to a server or put in a Referer. The
page's script reads it, takes it out of the address bar and POSTs it in the
body of the same form a phone without JavaScript fills in by pasting the key.
Every answer that holds or echoes the key is ``Cache-Control: no-store``, and
every form here posts to this same address with the key as a field, so the key
never enters a URL that reaches the server.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from courtwatch.application import ReportNotFound
from courtwatch.domain.errors import DomainError, WrongAuthorToken
from courtwatch.domain.reports import OUTCOME_FIELDS
from courtwatch.domain.vocabulary import Kind
from courtwatch.intake import FieldProblem, ValidationFailed
from web.i18n import negotiate, problem_text
from web.reports import when
from web.reports.pages import (
    FORMS,
    NO_STORE,
    VALUE_LABELS,
    _app,
    _context,
    _default_zone,
    templates,
)

ACTIONS = ("open", "amend", "outcome", "end")
# The key is 43 characters; anything much longer is not one.
MAX_KEY = 200
MAX_FIELDS = 30


def _report_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["report_id"])
    except ValueError:
        return None


def _not_found(request: Request) -> Response:
    context = _context(request, message_key="error.not_found")
    return templates.TemplateResponse(
        request, "not_found.html", context, status_code=404, headers=NO_STORE
    )


def _key_page(
    request: Request, report_id: uuid.UUID, *, wrong_key: bool = False, status_code: int = 200
) -> Response:
    context = _context(request, report_id=str(report_id), wrong_key=wrong_key, report=None)
    return templates.TemplateResponse(
        request, "manage.html", context, status_code=status_code, headers=NO_STORE
    )


async def manage_page(request: Request) -> Response:
    """The page without the key: the script (or the watcher) supplies it."""
    report_id = _report_id(request)
    if report_id is None:
        return _not_found(request)
    return _key_page(request, report_id)


def _amendment(report: dict[str, Any], form: dict[str, str]) -> dict[str, str]:
    """The detail fields the watcher changed, as form strings (intake converts them)."""
    kind = Kind(report["kind"])
    changes = {}
    for name, *_ in FORMS[kind]:
        if name == "ended_at" or name not in form:
            continue
        value = form[name].strip()
        current = report["details"].get(name)
        if value and value != ("" if current is None else str(current)):
            changes[name] = value
    return changes


async def _act(
    request: Request, report_id: uuid.UUID, key: str, action: str, form: dict[str, str]
) -> int | None:
    app = _app(request)
    report = await run_in_threadpool(app.report_for_author, report_id, key)
    if action == "amend":
        changes = _amendment(report, form)
        if not changes:
            return None
        return await run_in_threadpool(app.amend, report_id, key, changes)
    if action == "outcome":
        allowed = OUTCOME_FIELDS.get(Kind(report["kind"]), ())
        outcome = {n: form[n].strip() for n in allowed if form.get(n, "").strip()}
        if not outcome:
            raise ValidationFailed.single("outcome", "required")
        return await run_in_threadpool(app.record_outcome, report_id, key, outcome)
    if action == "end":
        typed = form.get("ended_at", "").strip()
        if not typed:
            raise ValidationFailed.single("ended_at", "required")
        courthouse = (
            await run_in_threadpool(app.courthouse, report["courthouse_code"])
            if report["courthouse_code"]
            else None
        )
        zone = when.place_zone(
            courthouse, str(report["lat"]), str(report["lon"]), _default_zone(request)
        )
        try:
            ended_at = datetime.fromisoformat(when.read_wall_clock(typed, zone))
        except (ValueError, OverflowError):
            raise ValidationFailed.single("ended_at", "a date and time") from None
        return await run_in_threadpool(app.end_shift, report_id, key, ended_at)
    return None


async def manage_post(request: Request) -> Response:
    """Open the page with the key, or act on the report and show it again."""
    report_id = _report_id(request)
    if report_id is None:
        return _not_found(request)
    raw = await request.form(max_files=0, max_fields=MAX_FIELDS)
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    key = form.get("key", "").strip()
    action = form.get("action", "open")
    if action not in ACTIONS:
        raise ValidationFailed.single("action", "one of: " + ", ".join(ACTIONS))
    if not key or len(key) > MAX_KEY:
        return _key_page(request, report_id, wrong_key=bool(key), status_code=403 if key else 422)
    lang = negotiate(request)
    problems: list[FieldProblem] = []
    message = ""
    status_code = 200
    try:
        position = await _act(request, report_id, key, action, form)
        if action != "open":
            message = "manage.saved" if position is not None else "manage.nothing_changed"
    except ReportNotFound:
        return _not_found(request)
    except WrongAuthorToken:
        return _key_page(request, report_id, wrong_key=True, status_code=403)
    except ValidationFailed as failure:
        problems, status_code = failure.problems, 422
    except DomainError as refused:
        problems, status_code = [FieldProblem(field=action, reason=str(refused))], 409
    report = await run_in_threadpool(_app(request).report_for_author, report_id, key)
    courthouse = (
        await run_in_threadpool(_app(request).courthouse, report["courthouse_code"])
        if report["courthouse_code"]
        else None
    )
    zone = when.place_zone(
        courthouse, str(report["lat"]), str(report["lon"]), _default_zone(request)
    )
    kind = Kind(report["kind"])
    context = _context(
        request,
        report_id=str(report_id),
        report=report,
        key=key,
        wrong_key=False,
        message=message,
        errors={p.field: problem_text(lang, p.reason) for p in problems},
        amend_fields=[f for f in FORMS[kind] if f[0] != "ended_at"],
        outcome_fields=[f for f in FORMS[kind] if f[0] in OUTCOME_FIELDS.get(kind, ())],
        value_labels=VALUE_LABELS,
        now_local=when.prefill(zone),
        zone_name=zone.key,
    )
    return templates.TemplateResponse(
        request, "manage.html", context, status_code=status_code, headers=NO_STORE
    )
