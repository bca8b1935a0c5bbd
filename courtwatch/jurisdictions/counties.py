"""Which county a point is in: us-atlas county outlines, decoded in pure Python.

Why us-atlas and not a library: the same outlines are already shipped to the
browser for the live map (web/static/vendor), they cover the 50 states, DC and
Puerto Rico with FIPS codes and names, and decoding TopoJSON plus an even-odd
point-in-polygon test is about a hundred lines; no allowed library does county
lookup. The domain must not read web/static, so an unchanged copy lives in
courtwatch/data (PROVENANCE.md gives its source and hash).

The outlines are the 1:10,000,000 generalisation: a courthouse on a shoreline
(Miami, San Francisco, Honolulu) can fall a little outside every polygon, in
water. Such a point takes the nearest county within ``NEAREST_WITHIN_KM``;
further out it has no county (a pin at sea, or a territory us-atlas lacks).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

ATLAS_FILE = "data/us_atlas_counties_10m.json"
# Coarse coastlines move a shore point at most a few km into the water; a
# point further out than this is not in any county we could name honestly.
NEAREST_WITHIN_KM = 8.0
KM_PER_DEGREE = 111.32
# FIPS state code -> USPS abbreviation (states, DC, and the territories us-atlas names).
STATE_ABBREVIATIONS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}  # fmt: skip
# Independent cities outside Virginia (in Virginia every county code >= 500 is one).
INDEPENDENT_CITIES = frozenset({"24510", "29510", "32510"})
# Alaska's boroughs, DC and the territories' units are not "counties" by name.
TERRITORIES = ("60", "66", "69", "78")

Ring = list[tuple[float, float]]  # (lon, lat) pairs, closed


@dataclass(frozen=True)
class County:
    fips: str  # five digits: state (2) + county (3)
    name: str  # as the Census names it, without "County": "Baltimore", "Miami-Dade"
    state: str  # USPS abbreviation
    state_name: str

    @property
    def label(self) -> str:
        """The county's full name: Baltimore city and Baltimore County are two places."""
        state_fips, county_code = self.fips[:2], self.fips[2:]
        if self.fips in INDEPENDENT_CITIES or (state_fips == "51" and county_code >= "500"):
            suffix = "" if self.name.endswith(" City") else " city"  # Carson City
            return f"{self.name}{suffix}, {self.state}"
        if state_fips == "22":
            return f"{self.name} Parish, {self.state}"
        if state_fips == "72":
            return f"{self.name} Municipio, {self.state}"
        if state_fips in ("02", "11", *TERRITORIES):
            return f"{self.name}, {self.state}"
        return f"{self.name} County, {self.state}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "fips": self.fips,
            "name": self.name,
            "label": self.label,
            "state": self.state,
            "state_name": self.state_name,
        }


@dataclass(frozen=True)
class _Shape:
    county: County
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    rings: tuple[Ring, ...]  # outer rings and holes alike: even-odd decides


def _decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    """Quantized, delta-encoded arcs -> absolute (lon, lat) lists (TopoJSON spec 2.1.2)."""
    (scale_x, scale_y), (shift_x, shift_y) = topology["transform"].values()
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def _ring(arc_indexes: list[int], arcs: list[Ring]) -> Ring:
    points: Ring = []
    for index in arc_indexes:
        # A negative index ~i means arc i reversed; consecutive arcs share an end point.
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _polygons(geometry: dict[str, Any]) -> list[list[list[int]]]:
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["arcs"])
    return []


def _state_names(topology: dict[str, Any]) -> dict[str, str]:
    return {g["id"]: g["properties"]["name"] for g in topology["objects"]["states"]["geometries"]}


@functools.cache
def _shapes() -> tuple[_Shape, ...]:
    text = resources.files("courtwatch").joinpath(ATLAS_FILE).read_text()
    topology = json.loads(text)
    arcs = _decode_arcs(topology)
    state_names = _state_names(topology)
    shapes = []
    for geometry in topology["objects"]["counties"]["geometries"]:
        rings = tuple(_ring(ring, arcs) for polygon in _polygons(geometry) for ring in polygon)
        if not rings:
            continue
        fips = geometry["id"]
        county = County(
            fips=fips,
            name=geometry["properties"]["name"],
            state=STATE_ABBREVIATIONS.get(fips[:2], fips[:2]),
            state_name=state_names.get(fips[:2], ""),
        )
        lons = [p[0] for r in rings for p in r]
        lats = [p[1] for r in rings for p in r]
        shapes.append(_Shape(county, (min(lons), min(lats), max(lons), max(lats)), rings))
    return tuple(shapes)


@functools.cache
def counties_by_fips() -> dict[str, County]:
    return {shape.county.fips: shape.county for shape in _shapes()}


def county_by_fips(fips: str) -> County | None:
    return counties_by_fips().get(fips) if isinstance(fips, str) else None


def _inside(lon: float, lat: float, rings: tuple[Ring, ...]) -> bool:
    # Even-odd over every ring: a point in a hole crosses the outer ring and
    # the hole's ring, so holes (a city inside its county) are handled alike.
    inside = False
    for ring in rings:
        x1, y1 = ring[-1]
        for x2, y2 in ring:
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
            x1, y1 = x2, y2
    return inside


def _km_to_segment(lon: float, lat: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    # Equirectangular projection around the point: good to well under 1 % at
    # the few-km distances this is used for.
    kx = KM_PER_DEGREE * math.cos(math.radians(lat))
    ax, ay = (a[0] - lon) * kx, (a[1] - lat) * KM_PER_DEGREE
    bx, by = (b[0] - lon) * kx, (b[1] - lat) * KM_PER_DEGREE
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)


def _km_to_shape(lon: float, lat: float, shape: _Shape) -> float:
    return min(
        _km_to_segment(lon, lat, ring[i - 1], ring[i])
        for ring in shape.rings
        for i in range(1, len(ring))
    )


def county_at(lat: float, lon: float) -> County | None:
    """The county containing (lat, lon), else the nearest within NEAREST_WITHIN_KM, else None."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    for shape in _shapes():
        min_lon, min_lat, max_lon, max_lat = shape.bbox
        in_box = min_lon <= lon <= max_lon and min_lat <= lat <= max_lat
        if in_box and _inside(lon, lat, shape.rings):
            return shape.county
    margin_lat = NEAREST_WITHIN_KM / KM_PER_DEGREE
    margin_lon = margin_lat / max(0.05, math.cos(math.radians(lat)))
    near = [
        (_km_to_shape(lon, lat, shape), shape.county.fips, shape.county)
        for shape in _shapes()
        if shape.bbox[0] - margin_lon <= lon <= shape.bbox[2] + margin_lon
        and shape.bbox[1] - margin_lat <= lat <= shape.bbox[3] + margin_lat
    ]
    if not near:
        return None
    distance, _, county = min(near)
    return county if distance <= NEAREST_WITHIN_KM else None
