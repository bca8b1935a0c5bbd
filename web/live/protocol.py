"""The live map protocol (docs/live-protocol.md): the frames and the MapReport shape.

Every frame the server sends is built here and nowhere else. The version is
sent as a handshake header, so a client can tell which contract it speaks
before the first frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from courtwatch.domain.fold import status_of
from courtwatch.domain.vocabulary import Kind

VERSION = 1
VERSION_HEADER = "x-courtwatch-live-protocol"


class MapReport(TypedDict):
    id: str
    kind: str
    status: str
    courthouse_code: str | None
    courthouse_name: str | None
    lat: float | None
    lon: float | None
    observed_at: str
    updated_at: str
    last_event: str
    stale_at: str | None
    corroborations: int
    title: str
    url: str


# The last instant Python can represent: where a computed time that would lie
# beyond it (a stored sighting in year 9999 plus its fading hours) is clamped.
LATEST = datetime.max.replace(tzinfo=UTC)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _stale_at(observed_at: datetime | None, stale_hours: float) -> str | None:
    """When a sighting fades; never raises, whatever time the log holds."""
    if observed_at is None:
        return None
    try:
        return (observed_at + timedelta(hours=stale_hours)).isoformat()
    except OverflowError:
        return LATEST.isoformat()


def map_report(row: Mapping[str, Any], names: Mapping[str, str], stale_hours: float) -> MapReport:
    """The MapReport the page draws, from a map_reports row or a feed state.

    Total over stored values: the log is forever and intake's rules change, so
    a value no longer accepted (a year-1 time, a time near year 9999) must still
    draw, never fail the whole answer or a websocket.
    """
    kind = str(row["kind"])
    observed_at = _as_datetime(row["observed_at"])
    code = row["courthouse_code"]
    details = row["details"] if isinstance(row["details"], Mapping) else {}
    stale_at = _stale_at(observed_at, stale_hours) if kind == Kind.SIGHTING else None
    where = names.get(code, code) if code else "pinned place"
    agents = details.get("agents_count")
    title = f"{kind.replace('_', ' ')} · {where}" + (f" · {agents} agents" if agents else "")
    return {
        "id": str(row["report_id"]),
        "kind": kind,
        # From the verdict, by the one rule: a row written before that rule
        # changed still says "corroborated", which no longer means anything.
        "status": status_of(row["verdict"]).value,
        "courthouse_code": code,
        "courthouse_name": names.get(code) if code else None,
        "lat": row["lat"],
        "lon": row["lon"],
        "observed_at": _iso(observed_at if observed_at is not None else row["observed_at"]),
        "updated_at": _iso(row["updated_at"]),
        "last_event": row["last_event"],
        "stale_at": stale_at,
        "corroborations": row["corroborations"],
        "title": title,
        "url": f"/reports/{row['report_id']}",
    }


def snapshot(position: int, reports: list[MapReport]) -> str:
    return json.dumps({"type": "snapshot", "position": position, "reports": reports})


def resume(position: int) -> str:
    return json.dumps({"type": "resume", "position": position})


def delta(position: int, report: MapReport) -> str:
    return json.dumps({"type": "delta", "position": position, "report": report})


def heartbeat(position: int) -> str:
    return json.dumps({"type": "heartbeat", "position": position})


def first_paint(position: int, reports: list[MapReport], truncated: bool) -> dict[str, Any]:
    """The body of ``GET /api/map/reports``."""
    return {"position": position, "reports": reports, "truncated": truncated}
