"""HTTP for the transparency log: the key, checkpoints, proofs, evidence bundles.

Proofs are always against a *published* checkpoint: a proof against an unsigned
root proves nothing to someone who does not trust us. Everything here is public
except asking for a checkpoint on demand, which takes a coordinator's token.

The web process holds no signing key and never signs: the public key comes from
the database (``log_keys``), bundles use the newest published checkpoint (503
with Retry-After until one covers the report), and a coordinator's request for a
checkpoint is answered 202: the signing process (``courtwatch project``, or the
projections inside ``serve``) publishes one at its next tick, at most
``COURTWATCH_CHECKPOINT_INTERVAL`` seconds later; ``courtwatch checkpoint`` signs at once.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from courtwatch.intake import ValidationFailed
from courtwatch.members import MemberRole
from courtwatch.services import Services
from projections.transparency_log import store as audit_log
from projections.transparency_log.evidence import export_bundle
from web.i18n import LANGUAGES
from web.members.auth import current_member
from web.reports.api import credential, report_id_from
from web.transparency.record import reading_aids

KEY_PATH = "/.well-known/courtwatch-log-key"
# ASCII digits only: int() also reads Arabic-Indic and fullwidth digits, and raises
# on 4,301+ digits.
# 18 digits stay below PostgreSQL's bigint limit.
_QUERY_INTEGER = re.compile(r"[0-9]{1,18}")
CHECKPOINT_PAGE = 100
MAX_CHECKPOINT_PAGE = 1000


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _int(request: Request, name: str, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not _QUERY_INTEGER.fullmatch(raw):
        raise ValidationFailed.single(name, "a whole number from 0, at most 18 digits 0-9")
    return int(raw)


async def log_key(request: Request) -> Response:
    vkey = await run_in_threadpool(audit_log.public_key, _services(request).database)
    return PlainTextResponse(vkey + "\n", headers={"cache-control": "public, max-age=300"})


async def list_checkpoints(request: Request) -> Response:
    """One page of checkpoints, oldest first: ``?after=<tree size>&limit=<n>``."""
    after = _int(request, "after", 0)
    limit = _int(request, "limit", CHECKPOINT_PAGE)
    if not 1 <= limit <= MAX_CHECKPOINT_PAGE:
        raise ValidationFailed.single("limit", f"from 1 to {MAX_CHECKPOINT_PAGE}")
    found = await run_in_threadpool(
        audit_log.checkpoints, _services(request).database, after, limit
    )
    next_link = None
    if len(found) == limit:
        next_link = f"/api/log/checkpoints?after={found[-1].tree_size}&limit={limit}"
    return JSONResponse({"checkpoints": [c.as_json() for c in found], "next": next_link})


async def latest_checkpoint(request: Request) -> Response:
    latest = await run_in_threadpool(audit_log.latest_checkpoint, _services(request).database)
    if latest is None:
        raise audit_log.LogError("no checkpoint has been published yet")
    return PlainTextResponse(latest.note)


async def publish(request: Request) -> Response:
    """A coordinator asks for a checkpoint: 202, the signing process publishes it.

    Nothing is signed or stored here (this process has no key): the signing
    process publishes whenever the tree grew, at most one interval from now.
    """
    await credential(request, MemberRole.COORDINATOR)
    services = _services(request)
    latest = await run_in_threadpool(audit_log.latest_checkpoint, services.database)
    interval = max(1, int(services.settings.checkpoint_interval_seconds))
    return JSONResponse(
        {
            "status": "accepted",
            "detail": "the signing process publishes a checkpoint of everything logged "
            f"by then within {interval} s; `courtwatch checkpoint` signs at once",
            "retry_after": interval,
            "latest": latest.as_json() if latest is not None else None,
        },
        status_code=202,
        headers={"retry-after": str(interval), "location": "/api/log/checkpoints/latest"},
    )


def _checkpoint(database: Any, size: int | None) -> audit_log.CheckpointRecord:
    if size is not None:
        return audit_log.checkpoint_at(database, size)
    latest = audit_log.latest_checkpoint(database)
    if latest is None:
        raise audit_log.LogError("no checkpoint has been published yet")
    return latest


def _inclusion(database: Any, leaf: audit_log.Leaf, size: int | None) -> dict[str, Any]:
    checkpoint = _checkpoint(database, size)
    if leaf.leaf_index >= checkpoint.tree_size:
        raise audit_log.LogError(
            f"leaf {leaf.leaf_index} is newer than checkpoint {checkpoint.tree_size}: "
            "awaiting the next checkpoint"
        )
    proof = audit_log.inclusion(database, leaf.leaf_index, checkpoint.tree_size)
    return {
        "leaf_index": leaf.leaf_index,
        "report_id": str(leaf.report_id),
        "version": leaf.version,
        "leaf_hash": leaf.leaf_hash.hex(),
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "inclusion_proof": [h.hex() for h in proof],
        "checkpoint": checkpoint.note,
    }


async def inclusion(request: Request) -> Response:
    database = _services(request).database
    size = _int(request, "size") if "size" in request.query_params else None
    if "report" in request.query_params:
        try:
            report_id = UUID(request.query_params["report"])
        except ValueError:
            raise ValidationFailed.single("report", "a report id") from None
        version = _int(request, "version")
        leaf = await run_in_threadpool(audit_log.leaf_for, database, report_id, version)
    else:
        leaf = await run_in_threadpool(audit_log.leaf_at, database, _int(request, "leaf"))
    return JSONResponse(await run_in_threadpool(_inclusion, database, leaf, size))


def _consistency(database: Any, first: int, second: int | None) -> dict[str, Any]:
    # Without ``second``: to the newest checkpoint, which is what refreshing an old
    # bundle asks for (`courtwatch bundle refresh`), read in the same call as its proof.
    new = _checkpoint(database, second)
    second = new.tree_size
    old = audit_log.checkpoint_at(database, first)
    if first > second:
        raise ValidationFailed.single("second", "must not be smaller than first")
    proof = [] if first == second else audit_log.consistency(database, first, second)
    return {
        "first": old.as_json(),
        "second": new.as_json(),
        "consistency_proof": [h.hex() for h in proof],
    }


async def consistency(request: Request) -> Response:
    first = _int(request, "first")
    second = _int(request, "second") if "second" in request.query_params else None
    body = await run_in_threadpool(_consistency, _services(request).database, first, second)
    return JSONResponse(body)


async def evidence(request: Request) -> Response:
    report_id = report_id_from(request)
    services = _services(request)
    # Not for a report anyone may not read (a running watch shift): 404.
    await run_in_threadpool(services.app.public_report, report_id)
    # The bundle carries every event verbatim, members' names included: while
    # one says where a member is (I'm going, on scene), only members get it.
    member = await current_member(request)
    if member is None or not member.sees_members_views():
        await run_in_threadpool(services.app.check_names_may_be_public, report_id)

    # ?lang only, never Accept-Language: the bundle's bytes (and so its SHA-256,
    # which a filing may cite) depend on the link alone. English unless ?lang=es.
    lang = request.query_params.get("lang")
    lang = lang if lang in LANGUAGES else "en"

    def build() -> bytes:
        aids = reading_aids(services.app.courthouses(), services.settings, lang)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "evidence.zip"
            export_bundle(
                services.database,
                services.settings,
                path,
                report_id=report_id,
                sign=False,
                reading_aids=aids,
            )
            return path.read_bytes()

    data = await run_in_threadpool(build)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="courtwatch-{report_id}.zip"',
            # A member's bundle names members a public one may not yet: no
            # cache may keep it or hand it to someone without the cookie or
            # token it was answered for.
            "cache-control": "private, no-store",
            "vary": "Cookie, Authorization",
        },
    )


def lifespan_hook(services: Services, *, run_projections: bool) -> Any:
    """Scheduled checkpoints, in the process that runs the projections."""

    @contextlib.asynccontextmanager
    async def hook(app: Starlette) -> AsyncIterator[None]:
        scheduler = None
        if run_projections:
            scheduler = audit_log.CheckpointScheduler(services.database, services.settings).start()
        try:
            yield
        finally:
            if scheduler is not None:
                await run_in_threadpool(scheduler.stop)

    return hook


routes = [
    Route(KEY_PATH, log_key),
    Route("/api/log/checkpoints", list_checkpoints, methods=["GET"]),
    Route("/api/log/checkpoints", publish, methods=["POST"]),
    Route("/api/log/checkpoints/latest", latest_checkpoint),
    Route("/api/log/inclusion", inclusion),
    Route("/api/log/consistency", consistency),
    Route("/reports/{report_id}/evidence.zip", evidence),
]
