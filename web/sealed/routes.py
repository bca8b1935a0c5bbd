"""Sealed details over HTTP: read (lawyers, coordinators; every read audited),
redact (the author with the edit key, or a coordinator), and the list of reads
for coordinators. Submission with sealed fields goes through /api/reports.

Nothing here is cached by a browser or a proxy: every answer is no-store.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch import photos
from courtwatch.application import ReportNotFound
from courtwatch.intake import ValidationFailed
from courtwatch.members import Member, MemberRole
from courtwatch.sealed import SealedDetails
from courtwatch.sealing.fields import SEALED_FIELDS
from web.errors import NotAuthorised
from web.i18n import LANGUAGES, negotiate, translator
from web.members.auth import require_member
from web.reports.api import json_object, report_id_from
from web.templating import templates

NO_STORE = {"Cache-Control": "no-store"}
# Who may read sealed values: lawyers and coordinators. Responders may not
# (least privilege; docs/sealed-data.md says why and how to give one access).
READERS = (MemberRole.LAWYER, MemberRole.COORDINATOR)
# A responder decides whether a photo is safe to publish: they see the public
# copy it would become (pixels only), never the original file.
PREVIEWERS = (MemberRole.RESPONDER, *READERS)
PHOTO_UPLOAD_PATTERN = r"/api/reports/[^/]+/photos"
PHOTO_UPLOAD_LIMIT = photos.MOST_BYTES + 1
AUTHOR_TOKEN_HEADER = "x-author-token"


def sealed(request: Request) -> SealedDetails:
    return request.app.state.services.sealed  # type: ignore[no-any-return]


async def reader(request: Request, roles: tuple[str, ...] = READERS) -> Member:
    member = await require_member(request, None)
    if not any(member.may(role) for role in roles):
        raise NotAuthorised("this needs a member with the role " + " or ".join(roles))
    return member


async def _read(request: Request) -> tuple[Member, UUID, dict[str, str]]:
    report_id = report_id_from(request)
    member = await reader(request)
    values = await run_in_threadpool(
        sealed(request).read, report_id, member_id=member.id, reader=member.display_name
    )
    return member, report_id, values


async def read_sealed(request: Request) -> Response:
    _, report_id, values = await _read(request)
    return JSONResponse({"report_id": str(report_id), "sealed": values}, headers=NO_STORE)


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = negotiate(request)
    return {
        "lang": lang,
        "other_lang": LANGUAGES[1 - LANGUAGES.index(lang)],
        "t": translator(lang),
        **extra,
    }


async def sealed_page(request: Request) -> Response:
    member, report_id, values = await _read(request)
    context = _context(
        request,
        member=member,
        report_id=str(report_id),
        fields=[(name, values[name]) for name in SEALED_FIELDS if name in values],
    )
    return templates.TemplateResponse(request, "sealed/read.html", context, headers=NO_STORE)


async def redact(request: Request) -> Response:
    report_id = report_id_from(request)
    body = await json_object(request)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason:
        raise ValidationFailed.single("reason", "required")
    fields = body.get("fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise ValidationFailed.single("fields", "a list of sealed field names")
    token = body.get("token")
    member: Member | None = None
    if token is None:
        member = await require_member(request, MemberRole.COORDINATOR)
    elif not isinstance(token, str) or not token:
        raise ValidationFailed.single("token", "the author token, as text")
    position = await run_in_threadpool(
        sealed(request).redact,
        report_id,
        token=token,
        by=member.display_name if member else "author",
        member_id=member.id if member else None,
        reason=reason,
        fields=fields,
    )
    return JSONResponse(
        {"report_id": str(report_id), "position": position, "stored": position is not None},
        headers=NO_STORE,
    )


async def list_reads(request: Request) -> Response:
    await require_member(request, MemberRole.COORDINATOR)
    reads = await run_in_threadpool(sealed(request).reads)
    return JSONResponse({"reads": [r.as_dict() for r in reads]}, headers=NO_STORE)


async def reads_page(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    reads = await run_in_threadpool(sealed(request).reads)
    context = _context(request, member=member, reads=reads)
    return templates.TemplateResponse(request, "sealed/reads.html", context, headers=NO_STORE)


def _photo_id(request: Request) -> UUID:
    raw = request.path_params["photo_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise ReportNotFound(raw) from None


async def upload_photo(request: Request) -> Response:
    """The author adds a photo: raw image bytes, the edit key in X-Author-Token."""
    report_id = report_id_from(request)
    token = request.headers.get(AUTHOR_TOKEN_HEADER)
    if not token or len(token) > 200:
        raise ValidationFailed.single("token", "send the author token in X-Author-Token")
    client_key = request.headers.get("idempotency-key")
    if client_key is not None and not 16 <= len(client_key) <= 128:
        raise ValidationFailed.single("client_key", "16-128 characters")
    data = await request.body()
    photo_id, position = await run_in_threadpool(
        sealed(request).attach_photo, report_id, token, data, client_key
    )
    return JSONResponse(
        {"photo_id": str(photo_id), "position": position, "stored": position is not None},
        status_code=201 if position is not None else 200,
        headers=NO_STORE,
    )


async def photo_original(request: Request) -> Response:
    report_id, photo_id = report_id_from(request), _photo_id(request)
    member = await reader(request)
    content_type, data = await run_in_threadpool(
        sealed(request).photo_original,
        report_id,
        photo_id,
        member_id=member.id,
        reader=member.display_name,
    )
    return Response(data, media_type=content_type, headers=NO_STORE)


async def photo_preview(request: Request) -> Response:
    report_id, photo_id = report_id_from(request), _photo_id(request)
    member = await reader(request, PREVIEWERS)
    data = await run_in_threadpool(
        sealed(request).photo_preview,
        report_id,
        photo_id,
        member_id=member.id,
        reader=member.display_name,
    )
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


async def publish_photo(request: Request) -> Response:
    report_id, photo_id = report_id_from(request), _photo_id(request)
    member = await require_member(request, MemberRole.RESPONDER)
    position = await run_in_threadpool(
        sealed(request).publish_photo,
        report_id,
        photo_id,
        member_id=member.id,
        by=member.display_name,
    )
    return JSONResponse(
        {"photo_id": str(photo_id), "position": position, "stored": position is not None},
        headers=NO_STORE,
    )


async def public_photo(request: Request) -> Response:
    report_id, photo_id = report_id_from(request), _photo_id(request)
    data = await run_in_threadpool(sealed(request).public_photo, report_id, photo_id)
    return Response(data, media_type="image/jpeg")
