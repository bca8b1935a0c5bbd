"""The live map protocol (docs/live-protocol.md): the frames and the MapReport shape.

Every frame the server sends is built here and nowhere else. The version is
sent as a handshake header, so a client can tell which contract it speaks
before the first frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
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


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def map_report(row: Mapping[str, Any], names: Mapping[str, str], stale_hours: float) -> MapReport:
    """The MapReport the page draws, from a map_reports row or a feed state."""
    kind = row["kind"]
    observed = row["observed_at"]
    observed_at = observed if isinstance(observed, datetime) else datetime.fromisoformat(observed)
    code = row["courthouse_code"]
    details = row["details"]
    stale_at = observed_at + timedelta(hours=stale_hours) if kind == Kind.SIGHTING else None
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
        "observed_at": observed_at.isoformat(),
        "updated_at": _iso(row["updated_at"]),
        "last_event": row["last_event"],
        "stale_at": stale_at.isoformat() if stale_at else None,
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
