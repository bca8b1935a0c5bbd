"""HTTP for ``courtwatch witness`` (C2SP tlog-witness): its own small app, not the product's.

A witness is run by another organisation for our log (and we run one for theirs),
so it is a separate process with its own key and folder and none of the
product's database, members or pages. Its answers are the protocol's status
codes, so its refusals map to HTTP here, in its one handler, rather than in the
product's ``web/errors.py`` table.

Routes:
- ``POST /add-checkpoint``: the body is checked by ``courtwatch.transparency.witness``.
- ``GET /<sha256 hex of origin>/checkpoint``: the latest checkpoint it cosigned,
  with its cosignature (the spec's monitoring endpoint).
- ``GET /``: the witness's public key, for partners to configure.

Every refusal is logged as one structured line; when the log's signature on the
refused checkpoint verified, the line carries the signed note: a log that
signed two different trees of one size has put its contradiction in writing.
"""

from __future__ import annotations

import hashlib
import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from courtwatch.transparency.witness import MAX_BODY_BYTES, Witness, WitnessRefusal

log = logging.getLogger("courtwatch.witness")


async def _bounded_body(request: Request) -> bytes:
    """The body, refused beyond ``MAX_BODY_BYTES`` without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared[:12]) > MAX_BODY_BYTES:
        raise WitnessRefusal(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise WitnessRefusal(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refused(refusal: WitnessRefusal, old_line: str) -> Response:
    log.warning(
        "witness refused checkpoint",
        extra={
            "status": refusal.status,
            "reason": refusal.reason,
            "origin": refusal.origin,
            "old_line": old_line,
            "tree_size": refusal.size,
            "root": refusal.root.hex() if refusal.root is not None else None,
            "latest_size": refusal.latest_size,
            # Only a checkpoint the log really signed: evidence of a fork, not noise.
            "signed_note": refusal.note,
        },
    )
    if refusal.status == 409 and refusal.latest_size is not None:
        # Exactly this type, no charset parameter: clients compare it as the spec spells it.
        return Response(
            f"{refusal.latest_size}\n".encode("ascii"),
            409,
            headers={"content-type": "text/x.tlog.size"},
        )
    return PlainTextResponse(refusal.reason + "\n", refusal.status)


def create_witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        old_line = ""
        try:
            body = await _bounded_body(request)
            old_line = body[:40].split(b"\n", 1)[0].decode("ascii", "replace")
            lines = await run_in_threadpool(witness.add_checkpoint, body)
        except WitnessRefusal as refusal:
            return _refused(refusal, old_line)
        log.info("witness cosigned checkpoint", extra={"old": old_line})
        return PlainTextResponse(lines)

    async def checkpoint(request: Request) -> Response:
        wanted = request.path_params["origin_hash"]
        for origin in witness.logs:
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == wanted:
                latest = await run_in_threadpool(witness.state.latest, origin)
                if latest is not None:
                    return PlainTextResponse(latest.published())
        return PlainTextResponse("this witness has cosigned no checkpoint of that log\n", 404)

    async def key(request: Request) -> Response:
        return PlainTextResponse(witness.key.vkey + "\n")

    return Starlette(
        routes=[
            Route("/", key, methods=["GET"]),
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash:str}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )
