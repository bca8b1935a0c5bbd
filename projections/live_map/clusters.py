"""Clusters of the public map for wide views: how many reports fall in each grid cell.

At a national zoom with 100,000 reports a marker per report is megabytes and
an unusable map. The server instead counts the matching reports per square
cell of a grid of ``cell`` degrees (cells aligned to 0°,0°, so panning at one
zoom keeps the same cells) in one SQL statement, with counts by kind and by
status. A cluster's position and extent are the mean, minimum and maximum of
the stored public coordinates of its reports: the same coordinates the public
markers already show, never anything finer.

Filters are ``reader.filter_sql``, the same as the markers', so the counts add
up to exactly the reports the markers would list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from courtwatch.domain.vocabulary import Kind, Status
from projections.live_map.reader import LiveMapReader, MapFilter, filter_sql

KINDS = tuple(k.value for k in Kind)
STATUSES = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Cluster:
    count: int
    lat: float
    lon: float
    south: float
    west: float
    north: float
    east: float
    kinds: dict[str, int]
    statuses: dict[str, int]
    # Arrests not disputed: the map rings such a cluster (docs/map-page.md).
    arrests: int


def _count(column: str, value: str) -> str:
    # Values from our closed vocabularies (Kind, Status), never from a request.
    return f"count(*) FILTER (WHERE {column} = '{value}')"


def _statement(condition: str, cell_arg: int) -> str:
    per_kind = ", ".join(f"{_count('kind', k)} AS k_{k}" for k in KINDS)
    per_status = ", ".join(f"{_count('status', s)} AS s_{s}" for s in STATUSES)
    cell = f"${cell_arg}::double precision"
    # One statement is one snapshot: the feed position and the counts agree.
    return (
        "WITH head AS (SELECT coalesce(max(position), 0) AS position FROM activity_feed), "
        "cells AS ("
        "SELECT count(*) AS n, avg(lat) AS lat, avg(lon) AS lon, "
        "min(lat) AS south, min(lon) AS west, max(lat) AS north, max(lon) AS east, "
        f"{per_kind}, {per_status}, "
        "count(*) FILTER (WHERE kind = 'courthouse_arrest' AND status <> 'disputed') AS arrests "
        f"FROM map_reports WHERE {condition} AND lat IS NOT NULL AND lon IS NOT NULL "
        f"GROUP BY floor(lat / {cell}), floor(lon / {cell})"
        ") SELECT head.position, cells.* FROM head LEFT JOIN cells ON true"
    )


def cluster_statement(where: MapFilter, cell: float) -> tuple[str, list[Any]]:
    """The SQL and its arguments (for the benchmark's raw run of the same query)."""
    condition, args = filter_sql(where)
    args.append(cell)
    return _statement(condition, len(args)), args


async def clusters(
    reader: LiveMapReader, where: MapFilter, cell: float
) -> tuple[int, list[Cluster]]:
    """The feed position and the clusters of the reports matching ``where`` (one query)."""
    if not (math.isfinite(cell) and cell > 0):
        raise ValueError(f"cell must be a positive number of degrees: {cell!r}")
    sql, args = cluster_statement(where, cell)
    async with reader.acquire() as conn:
        rows = await conn.fetch(sql, *args)
    position = int(rows[0]["position"]) if rows else 0
    found = [
        Cluster(
            count=int(row["n"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            south=float(row["south"]),
            west=float(row["west"]),
            north=float(row["north"]),
            east=float(row["east"]),
            kinds={k: int(row[f"k_{k}"]) for k in KINDS if row[f"k_{k}"]},
            statuses={s: int(row[f"s_{s}"]) for s in STATUSES if row[f"s_{s}"]},
            arrests=int(row["arrests"]),
        )
        for row in rows
        if row["n"] is not None
    ]
    return position, found
