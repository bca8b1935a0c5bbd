"""Every error a client can cause, mapped to HTTP in one place."""

from __future__ import annotations

import logging

import asyncpg
import eventsourcing.persistence
import psycopg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch.alerts import (
    InvalidAlertField,
    SubscriptionNotFound,
    TooManySubscriptions,
)
from courtwatch.alerts.push import PushKeyUnusable
from courtwatch.application import (
    IdempotencyConflict,
    NamesWithheld,
    ReportNotFound,
    WriteContention,
)
from courtwatch.domain.errors import (
    AlreadyCorroborated,
    DomainError,
    DuplicateCourthouse,
    InvalidField,
    NotApplicable,
    ShiftAlreadyEnded,
    WrongAuthorToken,
)
from courtwatch.intake import ValidationFailed
from courtwatch.members import (
    InvalidMemberField,
    InviteNotUsable,
    MemberError,
    MemberNotFound,
    PasskeyRefused,
    TooManyCeremonies,
)
from courtwatch.photos import PhotoRefused
from courtwatch.sealed import NoSealingKey, SealedDataErased, UnsealingKeyAbsent
from courtwatch.sealing.envelope import UnsealFailed
from projections.transparency_log.store import AwaitingCheckpoint, LogError, LogInconsistent
from web.jurisdictions.views import UnknownJurisdiction

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying while the database (or its
# disk) is unavailable: about how long the embedded server takes to restart.
RETRY_AFTER_SECONDS = 2


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes")
        self.limit = limit


class NotAuthorised(Exception):
    """The member signed in, but does not hold the role this needs."""


class NotSignedIn(Exception):
    """No session cookie or bearer token of a member that may act (missing, expired, revoked)."""


class CsrfRefused(Exception):
    """A state-changing request made with the session cookie without this session's CSRF token."""


class ForeignOrigin(Exception):
    """A sign-in or registration request sent from a page of another origin."""


class MalformedBody(Exception):
    """The body is not the JSON object the endpoint takes."""


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationFailed)
    problems = [p.model_dump() for p in exc.problems]
    return _error(422, "invalid fields", fields=problems)


async def invalid_field(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidField)
    return _error(422, "invalid fields", fields=[{"field": exc.field, "reason": exc.reason}])


async def malformed(request: Request, exc: Exception) -> Response:
    return _error(422, str(exc), fields=[{"field": "body", "reason": str(exc)}])


async def too_large(request: Request, exc: Exception) -> Response:
    return _error(413, str(exc))


async def not_found(request: Request, exc: Exception) -> Response:
    return _error(404, str(exc))


async def forbidden(request: Request, exc: Exception) -> Response:
    return _error(403, str(exc) or "this needs a member with another role")


async def not_signed_in(request: Request, exc: Exception) -> Response:
    response = _error(401, str(exc) or "sign in, or send a member's bearer token")
    response.headers["WWW-Authenticate"] = 'Bearer realm="courtwatch"'
    return response


async def refused(request: Request, exc: Exception) -> Response:
    return _error(403, str(exc))


async def invalid_member_field(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidMemberField)
    return _error(422, "invalid fields", fields=[{"field": exc.field, "reason": exc.reason}])


async def invalid_alert_field(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidAlertField)
    reason = str(exc).split(": ", 1)[-1]
    return _error(422, "invalid fields", fields=[{"field": exc.field, "reason": reason}])


async def photo_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PhotoRefused)
    return _error(exc.status, str(exc), fields=[{"field": "photo", "reason": str(exc)}])


async def gone(request: Request, exc: Exception) -> Response:
    return _error(410, str(exc))


async def bad_request(request: Request, exc: Exception) -> Response:
    return _error(400, str(exc))


async def conflict(request: Request, exc: Exception) -> Response:
    return _error(409, str(exc))


async def busy(request: Request, exc: Exception) -> Response:
    response = _error(503, str(exc))
    response.headers["Retry-After"] = "1"
    return response


async def awaiting_checkpoint(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AwaitingCheckpoint)
    response = _error(503, str(exc), retry_after=exc.retry_after)
    response.headers["retry-after"] = str(exc.retry_after)
    return response


async def too_many_ceremonies(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyCeremonies)
    response = _error(503, str(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def names_withheld(request: Request, exc: Exception) -> Response:
    # 403, not 503: nothing is wrong with the server; this caller may not have
    # it yet (a member may, now), and anyone may after Retry-After seconds.
    assert isinstance(exc, NamesWithheld)
    response = _error(403, str(exc), retry_after=exc.retry_after)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def unavailable(request: Request, exc: Exception) -> Response:
    # The database is down, restarting, out of connections, or its disk is
    # full or read-only: nothing the client did, and worth retrying soon.
    # Only the class is logged: driver messages can carry query values.
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    response = _error(503, "the database is unavailable; retry shortly")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(
        exc.status_code,
        exc.detail,
    )


EXCEPTION_HANDLERS = {
    ValidationFailed: validation_failed,
    InvalidField: invalid_field,
    MalformedBody: malformed,
    BodyTooLarge: too_large,
    ReportNotFound: not_found,
    LogError: not_found,
    LogInconsistent: conflict,
    AwaitingCheckpoint: awaiting_checkpoint,
    NamesWithheld: names_withheld,
    NotAuthorised: forbidden,
    NotSignedIn: not_signed_in,
    CsrfRefused: refused,
    ForeignOrigin: refused,
    InvalidMemberField: invalid_member_field,
    InviteNotUsable: gone,
    MemberNotFound: not_found,
    PasskeyRefused: bad_request,
    TooManyCeremonies: too_many_ceremonies,
    MemberError: conflict,
    WrongAuthorToken: forbidden,
    SealedDataErased: gone,
    PhotoRefused: photo_refused,
    InvalidAlertField: invalid_alert_field,
    SubscriptionNotFound: not_found,
    UnknownJurisdiction: not_found,
    TooManySubscriptions: conflict,
    PushKeyUnusable: conflict,
    UnsealingKeyAbsent: conflict,
    UnsealFailed: conflict,
    NoSealingKey: busy,
    IdempotencyConflict: conflict,
    WriteContention: busy,
    AlreadyCorroborated: conflict,
    ShiftAlreadyEnded: conflict,
    DuplicateCourthouse: conflict,
    NotApplicable: conflict,
    DomainError: conflict,
    HTTPException: http_exception,
    # The database or the data folder went away (see `unavailable`).
    psycopg.OperationalError: unavailable,  # incl. psycopg_pool.PoolTimeout, DiskFull
    psycopg.InterfaceError: unavailable,
    eventsourcing.persistence.OperationalError: unavailable,
    eventsourcing.persistence.InterfaceError: unavailable,
    asyncpg.PostgresConnectionError: unavailable,
    asyncpg.InterfaceError: unavailable,  # "connection is closed"
    asyncpg.exceptions.OperatorInterventionError: unavailable,  # shutdown, starting up
    asyncpg.exceptions.InsufficientResourcesError: unavailable,  # disk full, too many
    asyncpg.exceptions.PostgresSystemError: unavailable,  # I/O error, read-only disk
    OSError: unavailable,  # incl. TimeoutError, ConnectionRefusedError, ENOSPC, EROFS
}


def database_unavailable_errors() -> tuple[type[BaseException], ...]:
    """The exceptions answered 503 by `unavailable`, for code that catches them itself."""
    return tuple(
        error  # type: ignore[misc]
        for error, handler in EXCEPTION_HANDLERS.items()
        if handler is unavailable
    )
