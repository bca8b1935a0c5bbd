"""Server-rendered pages: the report form works with no JavaScript at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from courtwatch.application import Courtwatch, ReportNotFound
from courtwatch.domain.vocabulary import (
    Agency,
    Answer,
    ArrestOutcome,
    CallInOutcome,
    IceOffice,
    Kind,
    Place,
    PoliceAgency,
    PoliceOutcome,
    Role,
    TakenTo,
    Warrant,
)
from courtwatch.intake import MODELS, FieldProblem, ValidationFailed
from courtwatch.sealing.fields import SEALED_FIELDS
from web.errors import BodyTooLarge
from web.health import readiness
from web.i18n import LANGUAGES, negotiate, problem_text, translator
from web.members.auth import current_member
from web.reports import form_photos, readable, when
from web.templating import templates
from web.transparency.citation import render_citation

# (field, input type, vocabulary or None, label-prefix for the vocabulary)
Field = tuple[str, str, type[StrEnum] | None, str]
# The S-Comm pipeline fields (courtwatch/domain/pipeline.py), drawn as one group.
POLICE_CONTACT_FIELDS: list[Field] = [
    ("police_contact", "radio", Answer, "answer"),
    ("police_contact_date", "date", None, ""),
    ("police_agency", "select", PoliceAgency, "police_agency"),
    ("police_outcome", "select", PoliceOutcome, "police_outcome"),
    ("detainer_lodged", "radio", Answer, "answer"),
]
FORMS: dict[Kind, list[Field]] = {
    Kind.COURTHOUSE_ARREST: [
        ("place", "select", Place, "place"),
        # Near the top, as radio buttons with a hint: whether the warrant was
        # judicial is what New York's Protect Our Courts Act turns on.
        ("warrant", "radio", Warrant, "warrant"),
        ("to_or_from_court", "radio", Answer, "answer"),
        ("agents_count", "number", None, ""),
        ("agency", "select", Agency, "agency"),
        ("plain_clothes", "radio", Answer, "answer"),
        ("identification_shown", "radio", Answer, "answer"),
        ("person_role", "select", Role, "role"),
        ("outcome", "select", ArrestOutcome, "outcome"),
        ("taken_to", "select", TakenTo, "taken_to"),
        ("attorney_present", "radio", Answer, "answer"),
        *POLICE_CONTACT_FIELDS,
    ],
    Kind.SIGHTING: [
        ("place", "select", Place, "place"),
        ("agents_count", "number", None, ""),
        ("vehicles_count", "number", None, ""),
        ("agency", "select", Agency, "agency"),
        ("plain_clothes", "radio", Answer, "answer"),
    ],
    Kind.CALL_IN: [
        # First: the office takes the place a courthouse has on the other forms.
        ("office", "select", IceOffice, "office"),
        ("letter_date", "date", None, ""),
        ("accompanied", "radio", Answer, "answer"),
        ("outcome", "select", CallInOutcome, "outcome"),
        *POLICE_CONTACT_FIELDS,
    ],
    Kind.WATCH_SHIFT: [("ended_at", "datetime-local", None, "")],
}
DATETIME_FIELDS = ("observed_at", "ended_at")
# Which label family translates each vocabulary field's stored value.
VALUE_LABELS: dict[str, str] = {
    name: prefix
    for fields in FORMS.values()
    for name, _, vocabulary, prefix in fields
    if vocabulary
}


def _app(request: Request) -> Courtwatch:
    return request.app.state.services.app  # type: ignore[no-any-return]


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = negotiate(request)
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    return {"lang": lang, "other_lang": other, "t": translator(lang), **extra}


def _public_url(request: Request) -> str:
    # The configured origin, never the Host header (see courtwatch/config.py).
    return request.app.state.services.settings.public_url  # type: ignore[no-any-return]


def _default_zone(request: Request) -> ZoneInfo:
    return request.app.state.services.settings.zone  # type: ignore[no-any-return]


async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "home.html", _context(request, kinds=list(Kind)))


async def _render_form(
    request: Request,
    kind: Kind,
    values: dict[str, str],
    problems: list[FieldProblem],
    status_code: int = 200,
) -> Response:
    courthouses = await run_in_threadpool(_app(request).courthouses)
    context = _context(
        request,
        kind=kind,
        fields=FORMS[kind],
        # The template opens a fieldset before the first of these and closes it after the last.
        group_first=POLICE_CONTACT_FIELDS[0][0],
        group_last=POLICE_CONTACT_FIELDS[-1][0],
        courthouses=courthouses,
        values=values,
        errors={p.field: problem_text(negotiate(request), p.reason) for p in problems},
        # City and position of each courthouse, for search and "nearest to me" on the phone.
        courthouse_places={c.code: [c.city, c.lat, c.lon] for c in courthouses},
        sealed_fields=list(SEALED_FIELDS.items()),
        # Open when it holds typed values or a refused photo: the watcher must see why.
        sealed_open=any(k.startswith("sealed.") and v for k, v in values.items())
        or any(p.field == form_photos.FIELD for p in problems),
    )
    context["when"] = when.form_when(
        courthouses, values, _default_zone(request), context["t"], datetime.now(UTC)
    )
    # A form sent back with its sealed values in it is kept by no cache.
    headers = NO_STORE if context["sealed_open"] else None
    return templates.TemplateResponse(
        request, "form.html", context, status_code=status_code, headers=headers
    )


def _kind(request: Request) -> Kind | None:
    try:
        return Kind(request.path_params["kind"])
    except ValueError:
        return None


def _no_such_form(request: Request) -> Response:
    # Not "no report with id zzz": /new/<kind> names a form, and the reader
    # needs to hear that the kind is unknown.
    context = _context(request, message_key="error.no_such_form")
    return templates.TemplateResponse(request, "not_found.html", context, status_code=404)


def _defaults(kind: Kind) -> dict[str, str]:
    """Each field starts at the intake model's default ("not known"), never at
    whatever option a browser would pick first: a skipped field must not turn
    into "judicial warrant" or "detained"."""
    fields = MODELS[kind.value].model_fields
    return {
        name: str(fields[name].default)
        for name, *_ in FORMS[kind]
        if fields[name].default is not None
    }


async def new_report(request: Request) -> Response:
    kind = _kind(request)
    if kind is None:
        return _no_such_form(request)
    # ?courthouse=CODE (a bookmark per courthouse) pre-selects it and pre-fills
    # its local time, which is what a phone without JavaScript needs.
    code = request.query_params.get("courthouse", "")
    courthouse = await run_in_threadpool(_app(request).courthouse, code) if code else None
    zone = when.place_zone(courthouse, None, None, _default_zone(request))
    now = when.prefill(zone)
    values = {
        **_defaults(kind),
        "courthouse_code": courthouse.code if courthouse else "",
        "observed_at": now,
        "prefilled_at": now,
        "prefilled_zone": zone.key,
        "client_key": uuid.uuid4().hex,
    }
    return await _render_form(request, kind, values, [])


def _payload_from_form(form: dict[str, str], kind: Kind, zone: ZoneInfo) -> dict[str, Any]:
    """Turn form strings into the API's payload: empty means "not given".

    ``zone`` is the place's (web/reports/when.py): typed times are its clock times.
    """
    payload: dict[str, Any] = {"kind": kind.value}
    allowed = {"courthouse_code", "lat", "lon", "observed_at"} | {f[0] for f in FORMS[kind]}
    for name in allowed:
        value = form.get(name, "").strip()
        if not value:
            continue
        if name in DATETIME_FIELDS:
            read_in = when.observed_at_zone(form, zone) if name == "observed_at" else zone
            value = when.read_wall_clock(value, read_in)
        payload[name] = value
    return payload


# A page or answer that holds an author token must never be kept by a browser's
# back-forward cache, a shared proxy or a disk cache: whoever reads it later
# could rewrite the report.
NO_STORE = {"Cache-Control": "no-store"}


def _wants_json(request: Request) -> bool:
    """The offline outbox asks for JSON: it must tell "stored" from anything else."""
    return "application/json" in request.headers.get("accept", "")


async def _refused(
    request: Request,
    kind: Kind,
    form: dict[str, str],
    problems: list[FieldProblem],
    status_code: int = 422,
) -> Response:
    """Nothing was stored: the outbox hears why in JSON, a person sees the form again."""
    if _wants_json(request):
        lang = negotiate(request)
        fields = [{"field": p.field, "reason": problem_text(lang, p.reason)} for p in problems]
        return JSONResponse({"error": "invalid fields", "fields": fields}, status_code=status_code)
    return await _render_form(request, kind, form, problems, status_code=status_code)


async def create_report(request: Request) -> Response:
    kind = _kind(request)
    if kind is None:
        return _no_such_form(request)
    try:
        read = await form_photos.read_form(request)
    except BodyTooLarge:
        # Streamed past the form's limit: what was typed went with it.
        fresh = {**_defaults(kind), "client_key": uuid.uuid4().hex}
        problem = FieldProblem(field=form_photos.FIELD, reason="photos together are too large")
        return await _refused(request, kind, fresh, [problem], status_code=413)
    if read is None:
        fresh = {**_defaults(kind), "client_key": uuid.uuid4().hex}
        problem = FieldProblem(field=form_photos.FIELD, reason="the form could not be read")
        return await _refused(request, kind, fresh, [problem], status_code=400)
    form, uploads = read
    try:
        return await _create_report(request, kind, form, uploads)
    finally:
        await form_photos.close(uploads)


async def _create_report(
    request: Request, kind: Kind, form: dict[str, str], uploads: list[UploadFile]
) -> Response:
    # Every photo is checked before anything is stored (web/reports/form_photos.py).
    checked = await form_photos.check(uploads)
    if isinstance(checked, form_photos.PhotoProblem):
        return await _refused(request, kind, form, [checked.problem], checked.status)
    code = form.get("courthouse_code", "").strip()
    courthouse = await run_in_threadpool(_app(request).courthouse, code) if code else None
    zone = when.place_zone(courthouse, form.get("lat"), form.get("lon"), _default_zone(request))
    payload = _payload_from_form(form, kind, zone)
    # The "details for the legal team" section: sealed on arrival (courtwatch/sealed).
    sealed_part = {k[len("sealed.") :]: v for k, v in form.items() if k.startswith("sealed.")}
    sealed = request.app.state.services.sealed
    try:
        if uploads:
            # No sealing key, no photos: refused before the report is stored.
            await run_in_threadpool(sealed.sealing_key)
        if any(value.strip() for value in sealed_part.values()):
            result = await run_in_threadpool(
                sealed.submit, payload, form.get("client_key", ""), sealed_part
            )
        else:
            result = await run_in_threadpool(
                _app(request).submit, payload, form.get("client_key", "")
            )
    except ValidationFailed as failure:
        return await _refused(request, kind, form, failure.problems)
    if uploads:
        await form_photos.attach(
            request, result.report_id, result.author_token, form["client_key"], uploads, checked
        )
    status_code = 201 if result.created else 200
    if _wants_json(request):
        answer = {
            "id": str(result.report_id),
            "url": f"/reports/{result.report_id}",
            "permalink": f"{_public_url(request)}/reports/{result.report_id}",
            "author_token": result.author_token,
            "created": result.created,
        }
        return JSONResponse(answer, status_code=status_code, headers=NO_STORE)
    report = await run_in_threadpool(_app(request).report_with_history, result.report_id)
    context = _context(request, report=report, author_token=result.author_token, created=True)
    context["public_url"] = _public_url(request)
    context["value_labels"] = VALUE_LABELS
    await _readable(request, report, context)
    return templates.TemplateResponse(
        request, "report.html", context, status_code=status_code, headers=NO_STORE
    )


async def _readable(request: Request, report: dict[str, Any], context: dict[str, Any]) -> None:
    """Add what the page needs to show ``report`` in words (web/reports/readable.py)."""
    by_code = {c.code: c for c in await run_in_threadpool(_app(request).courthouses)}
    code = report.get("courthouse_code")
    courthouse = by_code.get(code) if isinstance(code, str) else None
    lat, lon = report.get("lat"), report.get("lon")
    zone = when.place_zone(
        courthouse,
        None if lat is None else str(lat),
        None if lon is None else str(lon),
        _default_zone(request),
    )
    fmt = readable.Formatter(context["t"], VALUE_LABELS, zone, by_code.get)
    context["fmt"] = fmt
    context["place"] = readable.place_text(courthouse, code)
    context["zone_text"] = readable.zone_text(zone, context["t"])
    context["history_rows"] = readable.history_rows(report.get("history", []), fmt)
    # The details in the form's order (the warrant near the top, the police
    # contact as one group), whatever order the stored event has them in.
    order = [name for name, *_ in FORMS.get(Kind(report["kind"]), [])]
    details = report.get("details") or {}
    context["detail_rows"] = [(n, details[n]) for n in order if n in details] + [
        (n, v) for n, v in details.items() if n not in order
    ]


async def report_page(request: Request) -> Response:
    raw = request.path_params["report_id"]
    # A signed-in member sees who is going and who is there; no one else does.
    member = await current_member(request)
    for_members = member is not None and member.sees_members_views()
    try:
        report_id = uuid.UUID(raw)
        report = await run_in_threadpool(
            lambda: _app(request).public_report(report_id, for_members=for_members)
        )
    except (ValueError, ReportNotFound):
        context = _context(request, message_key="error.not_found")
        return templates.TemplateResponse(request, "not_found.html", context, status_code=404)
    context = _context(request, report=report)
    context["citation_html"] = await run_in_threadpool(
        render_citation, request.app.state.services, report_id, context["t"], context["lang"]
    )
    context["value_labels"] = VALUE_LABELS
    await _readable(request, report, context)
    headers = {**NO_STORE, "Vary": "Cookie"} if for_members else {"Vary": "Cookie"}
    return templates.TemplateResponse(request, "report.html", context, headers=headers)


async def legacy_form(request: Request) -> Response:
    return RedirectResponse("/new/courthouse_arrest", status_code=303)


async def health(request: Request) -> Response:
    return await readiness(request)  # 503 while the database is down
