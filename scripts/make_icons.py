"""Write the web app's icons (web/static/icons/*.png) with the standard library only.

Run: python scripts/make_icons.py. The PNGs are committed; this script says how
they were made. An eye (a ring and a pupil) on the site's accent blue: plain
shapes that read at 48 px on a home screen. The maskable icon keeps the eye
inside the central 80 % "safe zone" that launchers may crop to a circle.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "icons"
BLUE = (11, 92, 173)
WHITE = (255, 255, 255)
SAMPLES = 3  # per axis, for smooth edges


def colour_at(x: float, y: float, scale: float) -> tuple[int, int, int]:
    """The colour at (x, y) in a unit square centred on 0.5, 0.5; ``scale`` shrinks the eye."""
    dx, dy = (x - 0.5) / scale, (y - 0.5) / scale
    # An eye: the lens between two circle arcs, a blue iris ring, a white pupil.
    upper = dx * dx + (dy + 0.28) ** 2 <= 0.5**2
    lower = dx * dx + (dy - 0.28) ** 2 <= 0.5**2
    r = (dx * dx + dy * dy) ** 0.5
    if upper and lower:
        if r <= 0.07:
            return WHITE
        if r <= 0.17:
            return BLUE
        return WHITE
    return BLUE


def png(size: int, scale: float) -> bytes:
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c = colour_at(
                        (px + (sx + 0.5) / SAMPLES) / size,
                        (py + (sy + 0.5) / SAMPLES) / size,
                        scale,
                    )
                    for i in range(3):
                        acc[i] += c[i]
            row += bytes(round(v / SAMPLES**2) for v in acc)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(png(192, 0.8))
    (OUT / "icon-512.png").write_bytes(png(512, 0.8))
    (OUT / "icon-maskable-512.png").write_bytes(png(512, 0.6))


if __name__ == "__main__":
    main()
