"""Summaries of a period, computed from the trend tables (projections/trends.py).

A summary never reads the event log: it reads a few hundred rows of daily
counts for the period and the one before it, in one REPEATABLE READ snapshot
together with the trend projection's position, so the figures are exactly
those of the events up to that position ("covers"). docs/summaries.md says
what every figure means.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import IsolationLevel

from courtwatch.domain.vocabulary import Kind
from courtwatch.gazetteer import immigration_court_zones
from courtwatch.infrastructure.database import Database
from courtwatch.timezones import zone_named
from projections.trends import pipeline
from projections.trends.periods import Period

KINDS = tuple(k.value for k in Kind)
ARREST = Kind.COURTHOUSE_ARREST.value
CALL_IN = Kind.CALL_IN.value
# Roles whose arrest at court keeps others away from it: a headline figure.
HEADLINE_ROLES = ("survivor", "witness")
# Call-in outcomes that say what happened (pending and unknown do not).
KNOWN_CALL_IN_OUTCOMES = ("released", "detained", "told_to_return")
PROJECTION = "trends"
# What a summary body holds. Raise it when figures are added or change meaning;
# bodies published before versions existed have none (version 1).
# 3: days are each courthouse's local days, not COURTWATCH_TIMEZONE's (issue 9).
# 4: "pipeline": police contact before ICE acted, and the lag (issue 14).
SCHEMA_VERSION = 4


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


def change(now: float, before: float) -> dict[str, Any]:
    return {"n": now, "previous": before, "change": round(now - before, 4),
            "change_pct": ratio(100 * (now - before), before)}  # fmt: skip


def figures_from_cells(
    period: Period,
    counts: list[tuple[date, str, str, str, str, int]],
    watch: list[tuple[date, str, int]],
) -> dict[str, Any]:
    """Every figure of a summary, from the count cells of this period and the previous one.

    ``counts`` rows are (day, courthouse, kind, dimension, value, n); ``watch``
    rows are (day, courthouse, seconds).
    """
    previous = period.previous()
    totals: dict[str, Counter[str]] = {"now": Counter(), "before": Counter()}
    breakdown: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    daily: dict[date, Counter[str]] = {day: Counter() for day in period.days}
    courthouses: dict[str, Counter[str]] = defaultdict(Counter)
    headline = {"now": 0, "before": 0}
    pipeline_cells = []
    for day, where, kind, dimension, value, n in counts:
        when = "now" if period.first <= day < period.end else "before"
        if when == "before" and not previous.first <= day < previous.end:
            continue
        if dimension in pipeline.DIMENSIONS:
            if when == "now":
                pipeline_cells.append((day, where, kind, dimension, value, n))
        elif dimension == "total":
            totals[when][kind] += n
            if when == "now":
                daily[day][kind] += n
                courthouses[where][kind] += n
        elif when == "now":
            breakdown[kind][dimension][value] += n
        if kind == ARREST and dimension == "role" and value in HEADLINE_ROLES:
            headline[when] += n
    seconds = {"now": 0, "before": 0}
    for day, where, secs in watch:
        if period.first <= day < period.end:
            seconds["now"] += secs
            daily[day]["watched_seconds"] += secs
            courthouses[where]["watched_seconds"] += secs
        elif previous.first <= day < previous.end:
            seconds["before"] += secs
    call_in_outcomes = breakdown.get(CALL_IN, {}).get("outcome", Counter())
    known = sum(call_in_outcomes[o] for o in KNOWN_CALL_IN_OUTCOMES)
    return {
        "totals": {k: change(totals["now"][k], totals["before"][k]) for k in KINDS},
        "watched_seconds": change(seconds["now"], seconds["before"]),
        "watched_hours": change(hours(seconds["now"]), hours(seconds["before"])),
        "arrests_per_watched_hour": {
            "n": ratio(totals["now"][ARREST] * 3600, seconds["now"]),
            "previous": ratio(totals["before"][ARREST] * 3600, seconds["before"]),
        },
        "survivors_and_witnesses_arrested": change(headline["now"], headline["before"]),
        "call_ins": {
            "with_known_outcome": known,
            "detained": call_in_outcomes["detained"],
            "share_detained": ratio(call_in_outcomes["detained"], known),
        },
        "breakdown": {
            kind: {dim: dict(sorted(values.items())) for dim, values in sorted(dims.items())}
            for kind, dims in sorted(breakdown.items())
        },
        "pipeline": pipeline.figures(pipeline_cells),
        "daily": [_row({"day": day.isoformat()}, daily[day]) for day in period.days],
        "courthouses": sorted(
            (_row({"code": code}, c) for code, c in courthouses.items()),
            key=lambda r: (-r[ARREST], -r["sighting"], -r["watched_seconds"], r["code"]),
        ),
    }


def _row(start: dict[str, Any], counts: Counter[str]) -> dict[str, Any]:
    row = {**start, **{k: counts[k] for k in KINDS}, "watched_seconds": counts["watched_seconds"]}
    row["watched_hours"] = hours(counts["watched_seconds"])
    row["arrests_per_watched_hour"] = ratio(counts[ARREST] * 3600, counts["watched_seconds"])
    return row


def trend_zone(database: Database, default: str) -> str:
    """The zone the trend tables count days in (set when they were built)."""
    with database.connect() as conn:
        exists = conn.execute("SELECT to_regclass('trend_meta')").fetchone()
        if not exists or exists[0] is None:
            return default
        row = conn.execute("SELECT zone FROM trend_meta").fetchone()
    return str(row[0]) if row else default


def compute(
    database: Database,
    period: Period,
    *,
    zone: str,
    courthouse: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A summary of ``period`` (overall, or of one courthouse) as of the projection's position."""
    previous = period.previous()
    where = "" if courthouse is None else " AND courthouse_code = %(courthouse)s"
    params = {"first": previous.first, "end": period.end, "courthouse": courthouse}
    with database.connect() as conn:
        conn.isolation_level = (
            IsolationLevel.REPEATABLE_READ
        )  #: figures and position from one snapshot
        conn.read_only = True
        with conn.transaction():
            position, events = _coverage(conn)
            counts = conn.execute(
                "SELECT day, courthouse_code, kind, dimension, value, n FROM trend_counts "
                f"WHERE day >= %(first)s AND day < %(end)s AND n <> 0{where}",
                params,
            ).fetchall()
            watch = conn.execute(
                "SELECT day, courthouse_code, seconds FROM trend_watch "
                f"WHERE day >= %(first)s AND day < %(end)s AND seconds <> 0{where}",
                params,
            ).fetchall()
    # Each courthouse's figures count its own local days; one courthouse's
    # summary therefore starts and ends at its own midnights. The overall one
    # names the configured zone's (docs/summaries.md).
    if courthouse is not None:
        zone = courthouse_zone(database, courthouse) or zone
    tz = ZoneInfo(zone)
    return {
        "schema": SCHEMA_VERSION,
        "period": period.kind,
        "key": period.key,
        "courthouse": courthouse,
        "zone": zone,
        "starts_at": period.starts_at(tz).isoformat(),
        "ends_at": period.ends_at(tz).isoformat(),
        "previous_key": previous.key,
        "covers": {"projection": PROJECTION, "position": position, "events": events},
        "computed_at": (now or datetime.now(UTC)).isoformat(),
        "figures": figures_from_cells(period, counts, watch),
    }


def courthouse_zone(database: Database, courthouse: str) -> str | None:
    """The zone a courthouse's days are counted in (as the trend view worked it out)."""
    known = immigration_court_zones().get(courthouse)
    if known:
        return known
    # A local courthouse: the zone its reports were counted in.
    with database.connect() as conn:
        exists = conn.execute("SELECT to_regclass('trend_reports')").fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute(
            "SELECT state->>'zone' FROM trend_reports "
            "WHERE state->>'courthouse_code' = %s AND state->>'zone' IS NOT NULL LIMIT 1",
            (courthouse,),
        ).fetchone()
    found = zone_named(row[0]) if row else None
    return found.key if found else None


def _coverage(conn: Any) -> tuple[int, int]:
    if conn.execute("SELECT to_regclass('trends_tracking')").fetchone()[0] is None:
        return 0, 0
    tracked = conn.execute(
        "SELECT coalesce(max(notification_id), 0) FROM trends_tracking "
        "WHERE application_name = 'Courtwatch'"
    ).fetchone()
    meta = conn.execute("SELECT events FROM trend_meta").fetchone()
    return int(tracked[0]), int(meta[0]) if meta else 0


def canonical_json(value: Any) -> str:
    """One byte sequence per summary: sorted keys, no spaces, UTF-8, so it can be hashed and cited."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


CSV_COLUMNS = ("section", "group", "item", "value", "previous")


def to_csv(summary: dict[str, Any]) -> str:
    """A long table: one figure per line, so a spreadsheet can pivot it any way."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name in ("period", "key", "courthouse", "zone", "starts_at", "ends_at", "computed_at"):
        writer.writerow(("summary", "", name, summary.get(name) or "", ""))
    for name, value in summary["covers"].items():
        writer.writerow(("covers", "", name, value, ""))
    for name in ("id", "revision", "supersedes"):
        if name in summary:
            writer.writerow(("published", "", name, summary[name] or "", ""))
    figures = summary["figures"]
    for kind, figure in figures["totals"].items():
        writer.writerow(("totals", "", kind, figure["n"], figure["previous"]))
    for name in ("watched_hours", "arrests_per_watched_hour", "survivors_and_witnesses_arrested"):
        writer.writerow(("headline", "", name, _blank(figures[name]["n"]),
                         _blank(figures[name]["previous"])))  # fmt: skip
    for name, value in figures["call_ins"].items():
        writer.writerow(("call_ins", "", name, _blank(value), ""))
    for kind, block in figures.get("pipeline", {}).items():
        for name, values in block.items():
            for item, value in values.items():
                if isinstance(value, dict):  # the lag's buckets
                    for bucket, n in value.items():
                        writer.writerow(("pipeline", f"{kind}.{name}.{item}", bucket, n, ""))
                else:
                    writer.writerow(("pipeline", f"{kind}.{name}", item, _blank(value), ""))
    for kind, dims in figures["breakdown"].items():
        for dim, values in dims.items():
            for value, n in values.items():
                writer.writerow(("breakdown", f"{kind}.{dim}", value, n, ""))
    for section, key in (("daily", "day"), ("courthouses", "code")):
        for row in figures[section]:
            for name, value in row.items():
                if name != key:
                    writer.writerow((section, row[key], name, _blank(value), ""))
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def active_courthouses(database: Database, period: Period) -> list[str]:
    """Courthouses with any report or watched hour in the period (per-courthouse summaries)."""
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT courthouse_code FROM trend_counts WHERE day >= %(first)s AND day < %(end)s "
            "AND n <> 0 UNION SELECT courthouse_code FROM trend_watch "
            "WHERE day >= %(first)s AND day < %(end)s AND seconds <> 0 ORDER BY 1",
            {"first": period.first, "end": period.end},
        ).fetchall()
    return [row[0] for row in rows if row[0]]
