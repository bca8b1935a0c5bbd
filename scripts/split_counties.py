"""Split the vendored county outlines into one small TopoJSON file per state.

Run: python scripts/split_counties.py (writes web/static/map/counties/).

us-atlas's counties-10m.json is 842 kB (251 kB gzipped): on a 400 kbps phone
that is 5 s before a single county line shows, for the whole country when the
map shows one or two states. Each state's file holds only its counties and the
arcs they use (same quantization, so the lines are identical); index.json gives
each state's bounding box and its file's content-hashed URL, so the map fetches
only the states in view and caches each for good (web/static_assets.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "web" / "static" / "vendor" / "us-atlas-3.0.1" / "counties-10m.json"
OUT = ROOT / "web" / "static" / "map" / "counties"
HASH_LENGTH = 12  # as web/static_assets.py names files


def _arc_ids(arcs: Any) -> list[int]:
    if isinstance(arcs, int):
        return [arcs if arcs >= 0 else ~arcs]
    return [i for part in arcs for i in _arc_ids(part)]


def _renumber(arcs: Any, new: dict[int, int]) -> Any:
    if isinstance(arcs, int):
        return new[arcs] if arcs >= 0 else ~new[~arcs]
    return [_renumber(part, new) for part in arcs]


def _bbox(arcs: list[list[list[int]]], transform: dict[str, Any]) -> list[float]:
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    xs, ys = [], []
    for arc in arcs:
        x = y = 0
        for dx, dy in arc:
            x, y = x + dx, y + dy
            xs.append(x * sx + tx)
            ys.append(y * sy + ty)
    return [round(min(xs), 4), round(min(ys), 4), round(max(xs), 4), round(max(ys), 4)]


def main() -> None:
    topo = json.loads(SOURCE.read_text())
    by_state: dict[str, list[dict[str, Any]]] = {}
    for geometry in topo["objects"]["counties"]["geometries"]:
        if "arcs" not in geometry:
            continue
        by_state.setdefault(str(geometry["id"])[:2], []).append(geometry)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    index: dict[str, Any] = {}
    for state, geometries in sorted(by_state.items()):
        used = sorted({i for g in geometries for i in _arc_ids(g["arcs"])})
        new = {old: n for n, old in enumerate(used)}
        arcs = [topo["arcs"][i] for i in used]
        part = {
            "type": "Topology",
            "transform": topo["transform"],
            "objects": {
                "counties": {
                    "type": "GeometryCollection",
                    "geometries": [
                        {"type": g["type"], "id": g["id"], "arcs": _renumber(g["arcs"], new)}
                        for g in geometries
                    ],
                }
            },
            "arcs": arcs,
        }
        body = json.dumps(part, separators=(",", ":")).encode()
        (OUT / f"{state}.json").write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
        index[state] = {
            "bbox": _bbox(arcs, topo["transform"]),
            "url": f"/static/map/counties/{state}.{digest}.json",
        }
    (OUT / "index.json").write_text(json.dumps(index, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
