"""Jurisdiction pages, their JSON, and the coordinators' policy form.

- ``/jurisdictions``: the counties that have courthouses, with the detainer
  policy in force today;
- ``/jurisdictions/{fips}``: one county: its cities and courthouses, its policy
  history with sources and effective dates, reports per week over 12 weeks;
  coordinators also see a form to record (or correct) a policy, posted to
  ``/jurisdictions/{fips}/policies`` with the session's CSRF token;
- ``/api/jurisdictions``, ``/api/jurisdictions/{fips}`` (GET) and
  ``/api/jurisdictions/{fips}/policies`` (POST, coordinators).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from courtwatch.domain.errors import InvalidField
from courtwatch.jurisdictions.counties import County
from courtwatch.jurisdictions.policies import DetainerPolicy
from courtwatch.jurisdictions.service import correct_policy, load_policies, record_policy
from courtwatch.members import Member
from courtwatch.members.model import MemberRole
from courtwatch.services import Services
from projections.jurisdictions.reader import policy_book
from web.jurisdictions.views import (
    WEEKS,
    UnknownJurisdiction,
    county_or_404,
    jurisdiction_detail,
    jurisdiction_list,
    pipeline_figures,
)
from web.members.auth import csrf_token, current_member, require_member
from web.reports.api import json_object
from web.reports.pages import _context, templates
from web.summaries import svg_charts

FORM_FIELDS = 10
KINDS = ("courthouse_arrest", "sighting", "call_in")


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _today(services: Services) -> date:
    return datetime.now(services.settings.zone).date()


def _fips(request: Request) -> County:
    return county_or_404(request.path_params["fips"])


def _all_pipeline_figures(services: Services, today: date) -> dict[str, Any]:
    return pipeline_figures(services, policy_book(services.app), today)


async def list_page(request: Request) -> Response:
    services = _services(request)
    today = _today(services)
    rows = await run_in_threadpool(jurisdiction_list, services, today)
    figures = await run_in_threadpool(_all_pipeline_figures, services, today)
    return templates.TemplateResponse(
        request, "jurisdictions/list.html", _context(request, rows=rows, pipeline=figures)
    )


async def list_json(request: Request) -> Response:
    services = _services(request)
    today = _today(services)
    rows = await run_in_threadpool(jurisdiction_list, services, today)
    figures = await run_in_threadpool(_all_pipeline_figures, services, today)
    return JSONResponse({"jurisdictions": rows, "pipeline": figures})


async def detail_json(request: Request) -> Response:
    county = _fips(request)
    services = _services(request)
    detail = await run_in_threadpool(jurisdiction_detail, services, county, _today(services))
    return JSONResponse(detail)


def _chart(detail: dict[str, Any], t: Any) -> Any:
    weeks = detail["weekly_reports"]
    return svg_charts.columns(
        [w["week"][5:] for w in weeks],
        {kind: [w[kind] for w in weeks] for kind in KINDS},
        title=t("jurisdictions.weekly_title"),
        legend={kind: t("kind." + kind) for kind in KINDS},
    )


async def render_detail(
    request: Request,
    county: County,
    member: Member | None,
    *,
    error: str | None = None,
    sent: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    services = _services(request)
    detail = await run_in_threadpool(jurisdiction_detail, services, county, _today(services))
    context = _context(request)
    context.update(
        county=detail,
        chart=_chart(detail, context["t"]),
        weeks=WEEKS,
        kinds=KINDS,
        policies=[p.value for p in DetainerPolicy],
        coordinator=member is not None and member.may(MemberRole.COORDINATOR),
        csrf_token=csrf_token(request),
        correctable=[e for e in detail["history"] if e["superseded_by"] is None],
        error=error,
        sent=sent or {},
    )
    return templates.TemplateResponse(
        request,
        "jurisdictions/detail.html",
        context,
        status_code=status_code,
        headers={"Cache-Control": "no-store"} if context["coordinator"] else None,
    )


async def detail_page(request: Request) -> Response:
    try:
        county = _fips(request)
    except UnknownJurisdiction:
        context = _context(request, message_key="jurisdictions.not_found")
        return templates.TemplateResponse(request, "not_found.html", context, status_code=404)
    return await render_detail(request, county, await current_member(request))


def _store(services: Services, county: County, member: Member, body: dict[str, Any]) -> int:
    fields = {
        "policy": body.get("policy"),
        "source_url": body.get("source_url"),
        "effective_on": body.get("effective_on"),
        "member": member.display_name,
    }
    corrects = body.get("corrects")
    if corrects in (None, ""):
        return record_policy(services.app, today=_today(services), fips=county.fips, **fields)
    entry = _entry_number(corrects)
    book_fips = _fips_of_entry(services, entry)
    if book_fips != county.fips:
        raise InvalidField("corrects", "an entry of this county")
    return correct_policy(services.app, today=_today(services), entry=entry, **fields)


def _entry_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    raise InvalidField("corrects", "the number of a recorded entry")


def _fips_of_entry(services: Services, entry: int) -> str:
    # An entry's county never changes, so reading it before the write is safe.
    return str(load_policies(services.app).check_correctable(entry)["fips"])


async def record_json(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    county = _fips(request)
    body = await json_object(request)
    services = _services(request)
    entry = await run_in_threadpool(_store, services, county, member, body)
    detail = await run_in_threadpool(jurisdiction_detail, services, county, _today(services))
    stored = next(e for e in detail["history"] if e["entry"] == entry)
    return JSONResponse(stored, status_code=201)


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def record_form(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)  # checks csrf_token
    county = _fips(request)
    form = await request.form(max_files=0, max_fields=FORM_FIELDS)
    body = {name: _form_text(form, name) for name in ("policy", "source_url", "effective_on")}
    body["corrects"] = _form_text(form, "corrects")
    try:
        await run_in_threadpool(_store, _services(request), county, member, body)
    except InvalidField as refused:
        t = _context(request)["t"]
        return await render_detail(
            request,
            county,
            member,
            error=f"{t('jurisdictions.refused')} {t('jurisdictions.bad.' + refused.field)}",
            sent={k: v[:2000] for k, v in body.items()},
            status_code=422,
        )
    lang = _context(request)["lang"]
    return RedirectResponse(f"/jurisdictions/{county.fips}?lang={lang}", status_code=303)


ROUTES = [
    Route("/jurisdictions", list_page, methods=["GET"]),
    Route("/jurisdictions/{fips}", detail_page, methods=["GET"]),
    Route("/jurisdictions/{fips}/policies", record_form, methods=["POST"]),
    Route("/api/jurisdictions", list_json, methods=["GET"]),
    Route("/api/jurisdictions/{fips}", detail_json, methods=["GET"]),
    Route("/api/jurisdictions/{fips}/policies", record_json, methods=["POST"]),
]
