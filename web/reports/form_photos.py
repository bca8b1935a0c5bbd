"""Photos sent with the report form (multipart/form-data), with or without
JavaScript: checked by courtwatch/photos.py and sealed by
SealedDetails.attach_photo, the same code the photo API uses.

Every photo is checked before anything is stored: one bad photo, or too many,
and the report is not stored either, so a watcher who fixes the form and sends
it again makes one report, not two. The form comes back with what was typed; a
browser never lets a page fill a file input, so the photos are chosen again.

Each photo's idempotency key is the report's client key and the photo's place
in the form: a form sent twice (a retried outbox send, a back-and-resubmit)
stores each photo once.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from courtwatch import photos
from courtwatch.domain.reports import MOST_PHOTOS
from courtwatch.intake import FieldProblem

FIELD = "photos"
# The form's own fields: a few dozen, each short (sealed notes are the longest,
# 4,000 characters, percent-encoded up to 12 bytes each in a urlencoded body).
MOST_FIELDS = 100
MOST_FIELD_BYTES = 64 * 1024
# File parts the parser reads before it gives up: enough that "50 photos" gets
# the form back with a clear "at most 6", few enough to bound the work.
MOST_FILE_PARTS = 64
# The body limit of the form routes (web/app.py): every photo at its limit,
# and the text. A larger body is refused before it is read.
FORM_PATH_PATTERN = r"/new/[a-z_]{1,40}"
FORM_BODY_LIMIT = MOST_PHOTOS * photos.MOST_BYTES + MOST_FIELDS * MOST_FIELD_BYTES


@dataclass(frozen=True)
class PhotoProblem:
    """A refused photo (or too many): the form's error, and the HTTP status."""

    problem: FieldProblem
    status: int


async def read_form(request: Request) -> tuple[dict[str, str], list[UploadFile]] | None:
    """The form's text fields and its chosen photos; None when the body is not
    a form the parser can read (too many parts, a field too long, broken)."""
    try:
        form = await request.form(
            max_files=MOST_FILE_PARTS, max_fields=MOST_FIELDS, max_part_size=MOST_FIELD_BYTES
        )
    except HTTPException:  # starlette's answer to a MultiPartException
        return None
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    # A file input with nothing chosen still sends a part: no name, no bytes.
    chosen = [
        part
        for part in form.getlist(FIELD)
        if isinstance(part, UploadFile) and (part.filename or part.size)
    ]
    return values, chosen


async def check(uploads: list[UploadFile]) -> PhotoProblem | list[photos.Checked]:
    """The first reason the photos cannot be kept, or what was found in each.
    Reads one photo at a time, so a form's worth of photos is never all in
    memory at once; ``attach`` then seals them without decoding them again."""
    if len(uploads) > MOST_PHOTOS:
        reason = f"at most {MOST_PHOTOS} photos per report"
        return PhotoProblem(FieldProblem(field=FIELD, reason=reason), 413)
    found = []
    for number, upload in enumerate(uploads, 1):
        try:
            await upload.seek(0)
            # One byte past the limit is enough for inspect() to refuse it.
            data = await upload.read(photos.MOST_BYTES + 1)
            found.append(await run_in_threadpool(photos.check, data))
        except photos.PhotoRefused as refused:
            # "photo 2: ..." — web/i18n.py turns it into words with the number.
            reason = f"photo {number}: {refused}"
            return PhotoProblem(FieldProblem(field=FIELD, reason=reason), refused.status)
    return found


async def attach(
    request: Request,
    report_id: UUID,
    token: str,
    client_key: str,
    uploads: list[UploadFile],
    checked: list[photos.Checked],
) -> None:
    """Seal each photo ``check`` passed onto the stored report, once. The
    service trusts each check only for the bytes it hashed (photos.Checked)."""
    sealed = request.app.state.services.sealed
    for number, (upload, found) in enumerate(zip(uploads, checked, strict=True), 1):
        await upload.seek(0)
        data = await upload.read(photos.MOST_BYTES + 1)
        await run_in_threadpool(
            sealed.attach_photo, report_id, token, data, f"{client_key}:photo:{number}", found
        )


async def close(uploads: list[UploadFile]) -> None:
    for upload in uploads:
        await upload.close()
