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
from projections.live_map.reader import NEEDS_VERDICT

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


class MemberReport(MapReport):
    """What a signed-in member's console sees of a report: the MapReport plus
    who is going, who is there, who resolved it, and the event just folded.
    Never sent on a public socket (docs/members.md, "The console")."""

    event: str
    verdict_needed: bool
    claimed_by: list[str]
    on_scene_by: list[str]
    resolved_by: str | None
    agents_count: int | None


def member_report(
    row: Mapping[str, Any], names: Mapping[str, str], stale_hours: float, event: str | None = None
) -> MemberReport:
    public = map_report(row, names, stale_hours)
    details = row["details"] if isinstance(row["details"], Mapping) else {}

    def names_in(value: Any) -> list[str]:
        if isinstance(value, str):  # a jsonb column read without its codec
            value = json.loads(value)
        return [str(v) for v in value] if isinstance(value, list) else []

    agents = details.get("agents_count")
    resolved_by = row.get("resolved_by")
    return {
        **public,
        "event": event or str(row["last_event"]),
        "verdict_needed": public["kind"] != Kind.WATCH_SHIFT
        and public["status"] in NEEDS_VERDICT
        and resolved_by is None,
        "claimed_by": names_in(row.get("claimed_by")),
        "on_scene_by": names_in(row.get("on_scene_by")),
        "resolved_by": None if resolved_by is None else str(resolved_by),
        "agents_count": agents if isinstance(agents, int) else None,
    }


def snapshot(position: int, reports: list[MapReport] | list[MemberReport]) -> str:
    return json.dumps({"type": "snapshot", "position": position, "reports": reports})


def resume(position: int) -> str:
    return json.dumps({"type": "resume", "position": position})


def delta(position: int, report: MapReport | MemberReport) -> str:
    return json.dumps({"type": "delta", "position": position, "report": report})


def heartbeat(position: int) -> str:
    return json.dumps({"type": "heartbeat", "position": position})


def alerts(scripts: list[str]) -> str:
    """To a signed-in member's map only: the scripts that show their alerts in the page."""
    return json.dumps({"type": "alerts", "scripts": scripts})


def first_paint(position: int, reports: list[MapReport], truncated: bool) -> dict[str, Any]:
    """The body of ``GET /api/map/reports``."""
    return {"position": position, "reports": reports, "truncated": truncated}
