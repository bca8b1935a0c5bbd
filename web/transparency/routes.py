"""HTTP for the transparency log: the key, checkpoints, proofs, evidence bundles.

Proofs are always against a *published* checkpoint: a proof against an unsigned
root proves nothing to someone who does not trust us. Everything here is public
except publishing a checkpoint on demand, which takes a coordinator's token.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from courtwatch.intake import ValidationFailed
from courtwatch.services import Services
from projections.transparency_log import store as audit_log
from projections.transparency_log.evidence import export_bundle
from web.reports.api import credential, report_id_from

KEY_PATH = "/.well-known/courtwatch-log-key"


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _int(request: Request, name: str, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not raw.isdigit():
        raise ValidationFailed.single(name, "a non-negative whole number")
    return int(raw)


async def log_key(request: Request) -> Response:
    vkey = await run_in_threadpool(audit_log.public_key, _services(request).settings)
    return PlainTextResponse(vkey + "\n", headers={"cache-control": "public, max-age=300"})


async def list_checkpoints(request: Request) -> Response:
    found = await run_in_threadpool(audit_log.checkpoints, _services(request).database)
    return JSONResponse({"checkpoints": [c.as_json() for c in found]})


async def latest_checkpoint(request: Request) -> Response:
    latest = await run_in_threadpool(audit_log.latest_checkpoint, _services(request).database)
    if latest is None:
        raise audit_log.LogError("no checkpoint has been published yet")
    return PlainTextResponse(latest.note)


async def publish(request: Request) -> Response:
    await credential(request, "coordinator")
    services = _services(request)
    before = await run_in_threadpool(audit_log.latest_checkpoint, services.database)
    published = await run_in_threadpool(
        audit_log.publish_checkpoint, services.database, services.settings
    )
    if published is None:
        raise audit_log.LogError("the log is empty: nothing to sign yet")
    created = before is None or published.tree_size != before.tree_size
    return JSONResponse(published.as_json(), status_code=201 if created else 200)


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


def _consistency(database: Any, first: int, second: int) -> dict[str, Any]:
    old, new = audit_log.checkpoint_at(database, first), audit_log.checkpoint_at(database, second)
    if first > second:
        raise ValidationFailed.single("second", "must not be smaller than first")
    proof = [] if first == second else audit_log.consistency(database, first, second)
    return {
        "first": old.as_json(),
        "second": new.as_json(),
        "consistency_proof": [h.hex() for h in proof],
    }


async def consistency(request: Request) -> Response:
    first, second = _int(request, "first"), _int(request, "second")
    body = await run_in_threadpool(_consistency, _services(request).database, first, second)
    return JSONResponse(body)


async def evidence(request: Request) -> Response:
    report_id = report_id_from(request)
    services = _services(request)

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "evidence.zip"
            export_bundle(services.database, services.settings, path, report_id=report_id)
            return path.read_bytes()

    data = await run_in_threadpool(build)
    return Response(
        data,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="courtwatch-{report_id}.zip"'},
    )
