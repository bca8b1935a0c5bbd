"""The map's wide views: clusters counted by the server instead of a marker per report.

``GET /api/map/reports?...&zoom=Z`` (the page sends its zoom) answers with
``clusters`` when more than ``MARKERS_MAX`` reports match the view and its
filters, and with markers, as without ``zoom``, otherwise. Every matching report
with a place is in exactly one cluster, so a national view of 100,000 reports
shows them all in a few kilobytes (docs/map-page.md, "Clusters").
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from projections.live_map.clusters import Cluster, clusters
from projections.live_map.reader import LiveMapReader, MapFilter

# Above this many reports in view the answer is clusters. A thousand markers
# are ~55 KiB gzipped, inside the 100 KB budget of a first paint on a phone.
MARKERS_MAX = 1000
# A cell is about this many screen pixels wide at the requested zoom (a Leaflet
# tile is 256 px and 360 / 2**zoom degrees wide): a cluster sits at its reports'
# mean, anywhere in its cell, so cells well wider than a bubble (at most 48 px)
# keep neighbours from covering each other on a phone.
CELL_PIXELS = 120
# Whatever the zoom, a view is cut into at most this many cells across, so a
# hostile zoom=18 over the whole world cannot ask for millions of clusters:
# at most (CELLS_ACROSS + 1) ** 2 (a box not aligned to the grid touches one
# more per side), under 100 KB gzipped at worst (the bound the tests check).
CELLS_ACROSS = 32


def cell_degrees(zoom: int, bbox: tuple[float, float, float, float] | None) -> float:
    """The grid's cell size in degrees for a view at ``zoom``."""
    by_zoom = 360.0 / 2**zoom * CELL_PIXELS / 256
    if bbox is None:
        width, height = 360.0, 180.0
    else:
        west, south, east, north = bbox
        # A box across the antimeridian (west > east) spans the whole width
        # in the query; a huge finite box is no wider than the world.
        width = 360.0 if west > east else min(east - west, 360.0)
        height = min(north - south, 180.0)
    return max(by_zoom, max(width, height) / CELLS_ACROSS)


def cluster_json(cluster: Cluster) -> dict[str, Any]:
    body = asdict(cluster)
    for key in ("lat", "lon", "south", "west", "north", "east"):
        body[key] = round(body[key], 5)  # the precision the markers are drawn at
    return body


async def clustered_view(
    reader: LiveMapReader, where: MapFilter, zoom: int
) -> dict[str, Any] | None:
    """The first-paint body as clusters, or None when the view is small enough for markers."""
    cell = cell_degrees(zoom, where.bbox)
    position, found = await clusters(reader, where, cell)
    total = sum(c.count for c in found)
    if total <= MARKERS_MAX:
        return None
    return {
        "position": position,
        "reports": [],
        "truncated": False,
        "clusters": [cluster_json(c) for c in found],
        "total": total,
        "cell": cell,
    }
